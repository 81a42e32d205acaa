// Which ggml type each tensor of an exported GGUF gets: the file types `llama-quantize` offers (and the plain
// types `convert_hf_to_gguf.py --outtype` writes), with llama-quantize's per-tensor mix for the K-quant
// files and its fallbacks when a row length does not divide the block (src/llama-quant.cpp:
// llama_tensor_get_type_impl, tensor_type_fallback; facts in ../shared/spec/trainer_quant_facts.md §8).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/ggml_type.h"

namespace scitune {

struct GgufFileType {
  std::string_view name;     // "q4_k_m" (what --quant takes)
  uint32_t ftype;            // general.file_type (llama_ftype)
  GgmlType default_type;     // the type most 2-D weights get
  enum class Mix { kNone, kQ4KM, kQ5KM, kKDefault } mix = Mix::kNone;
};

// f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k_m q5_k_m q6_k (case-insensitive); nullopt otherwise.
std::optional<GgufFileType> parse_gguf_file_type(std::string_view name);
inline constexpr std::string_view kGgufFileTypeNames = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k";

struct GgufTensorPlan {
  std::string name;            // GGUF name, "blk.3.attn_v.weight"
  std::vector<uint64_t> ne;    // GGUF order
  GgmlType type = GgmlType::F32;
  bool fell_back = false;      // the mix's type did not fit the row length (llama-quantize warns)
};

// Fills in `type` for every tensor. 1-D tensors and *_norm.weight stay F32 (as the converter writes them);
// tied embeddings (no output.weight) are treated as the output tensor, as llama-quantize does. The layer
// counters of the attn_v / ffn_down rules run in llama.cpp's tensor order (by layer number, then name).
// has_imatrix: llama-quantize was given an importance matrix, which turns Q4_0/Q5_0 files' ffn_down in the
// first n_layer/8 layers into Q4_1/Q5_1 (its guard against those layers going astray).
void plan_gguf_types(const GgufFileType& ft, std::vector<GgufTensorPlan>& tensors, bool has_imatrix = false);

// llama.cpp's tensor order: tensors outside the layer stack first, then by layer number, each group by name.
bool llama_tensor_order_less(const std::string& a, const std::string& b);

}  // namespace scitune
