// `scitune export --format merged`: the base with the adapter folded in, as an HF model folder that
// transformers' from_pretrained loads: config.json, model.safetensors (or shards + model.safetensors.index.json),
// generation_config.json and the tokenizer files. Tensor names are the base's own (Gemma3ForCausalLM or the
// multimodal wrapper); tensors outside the text decoder (vision tower, projector) are copied through untouched.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "export/export_base.h"
#include "io/safetensors.h"

namespace scitune {

struct MergedExportOptions {
  DType dtype = DType::BF16;                     // F32, F16 or BF16 for the text tensors
  uint64_t max_shard_bytes = 5'000'000'000ull;   // as save_pretrained's max_shard_size
  std::optional<std::filesystem::path> tokenizer;  // folder with tokenizer files, when the base has none
};

// Bytes of tensor data the folder will hold.
uint64_t merged_export_bytes(const ExportBase& base, const MergedExportOptions& o);

// Writes the folder's files into `dir` (which must exist and be empty). Returns the number of shards.
// `progress` (may be empty) gets the tensor bytes written so far.
int write_merged_folder(const ExportBase& base, const MergedExportOptions& o, const std::filesystem::path& dir,
                        const std::function<void(uint64_t)>& progress = {});

// The tokenizer files transformers reads, copied from `from` (a folder) into `dir`; returns how many.
int copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& dir);

}  // namespace scitune
