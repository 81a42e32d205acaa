// `scitune export --format gguf`: a gemma3 GGUF that llama.cpp and Ollama load — metadata as llama.cpp's
// converter writes it (spec §4.2/§4.4), norms stored as the gain 1 + w, tensor names of §4.5, types per
// gguf_types.h — written tensor by tensor from the (merged) base, quantised on the way, never whole in memory.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "export/export_base.h"
#include "export/gguf_types.h"
#include "export/imatrix.h"
#include "io/gguf_writer.h"

namespace scitune {

struct GgufExportOptions {
  GgufFileType type = *parse_gguf_file_type("f16");
  std::string name;                          // general.name; empty: the base's name
  std::optional<std::filesystem::path> tokenizer;  // HF base: tokenizer folder/file if not in the base folder
  // llama-quantize --imatrix: tensors with an entry are quantised weighted by it (quants_imatrix.h), the type
  // mix takes has_imatrix, and the quantize.imatrix.* keys are written. Null: the reference quantizers.
  std::shared_ptr<const ImportanceMatrix> imatrix = nullptr;
};

struct GgufExportPlan {
  GgufWriter writer;
  std::vector<GgufTensorPlan> tensors;
  uint64_t file_bytes = 0;
  int fallbacks = 0;
  int imatrix_tensors = 0;  // tensors quantised with an importance vector
};

// Throws UserError when llama.cpp's gemma3 loader could not express the model (it hard-codes the sliding
// pattern 6, the local RoPE base 10000 and the query scale 1/sqrt(head_dim)).
void check_llama_cpp_gemma3(const ModelConfig& c, const std::string& source);

// Metadata and tensor producers (quantising in parallel at write time), ready to write. `progress` (may be
// null) is called with the bytes of tensor data produced so far.
GgufExportPlan plan_gguf_export(const ExportBase& base, const GgufExportOptions& o,
                                std::function<void(uint64_t)> progress = {});

class Tokenizer;
// tokenizer.ggml.* for an HF tokenizer in folder `dir` (tokenizer.json, and tokenizer.model when present), with
// one token per embedding row of `c`, as convert_hf_to_gguf.py writes them (see gguf_export.cc).
void add_tokenizer_keys_from_hf(GgufWriter& w, const Tokenizer& tok, const std::filesystem::path& dir,
                                const ModelConfig& c);

// The Gemma 3 chat format as a Jinja template (what tokenizer.chat_template holds when the base has none).
extern const char* const kGemma3ChatTemplate;

}  // namespace scitune
