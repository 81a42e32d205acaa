// Importance matrices (llama-imatrix output) for `scitune export --format gguf --imatrix FILE`, read as
// llama-quantize reads them (common/imatrix-loader.cpp + tools/quantize/quantize.cpp load_imatrix):
//
// - GGUF (what llama-imatrix writes by default): per weight tensor <name>.in_sum2 (F32, ne0 x n_mat: summed
//   squared activations per column, per expert) and <name>.counts (F32, n_mat: how many activation rows were
//   summed, integral); optional <name>.in_sum (F32, same size; ignored for quantisation). Metadata
//   imatrix.datasets (array of strings), imatrix.chunk_count and imatrix.chunk_size (u32) must all be present.
//   importance = in_sum2 / float(lround(count)) per expert slice, or 1 where the count is 0.
// - Legacy binary (.dat, read when the file is not GGUF): int32 n_entries, then per entry int32 name length,
//   name bytes, int32 ncall, int32 nval, nval float32 sums; optionally int32 chunk count, int32 dataset length
//   and the dataset name. importance = sum / float(ncall), or the sum itself when ncall <= 0.
//
// Stricter than llama.cpp, always with the file and tensor named: a file with no entry, sums not divisible into
// count slices, negative or non-finite counts, duplicate or malformed names, trailing bytes in the legacy format.
// Non-finite importance values are rejected as llama-quantize rejects them.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scitune {

struct ImportanceMatrix {
  std::string source;  // the path as given: llama-quantize writes it to quantize.imatrix.file
  bool legacy = false;
  // tensor name ("blk.0.attn_q.weight") -> importance, ne0 values per expert (ne0 * n_expert in all).
  std::map<std::string, std::vector<float>, std::less<>> entries;
  std::vector<std::string> datasets;
  uint32_t chunk_count = 0;  // 0: unknown (legacy files may not say)
  uint32_t chunk_size = 0;

  const std::vector<float>* find(std::string_view tensor) const {
    const auto it = entries.find(tensor);
    return it == entries.end() ? nullptr : &it->second;
  }
};

// Reads and validates an imatrix file (GGUF or legacy); errors name the file, the tensor and what was expected.
ImportanceMatrix read_imatrix(const std::filesystem::path& path);
// Same from bytes; `source_name` is used in errors and as ImportanceMatrix::source.
ImportanceMatrix parse_imatrix(std::span<const uint8_t> bytes, std::string source_name);

}  // namespace scitune
