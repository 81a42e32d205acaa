// The one list of Gemma 3 text-decoder tensors, driven by the config: canonical names (HF names without the
// "model." / "model.language_model." / "language_model.model." prefix) and shapes ([out, in] as PyTorch stores
// Linear weights). Loading, export, LoRA attachment and initialisation all enumerate tensors through here.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"

namespace scitune {

enum class TensorRole : uint8_t {
  kEmbedding,  // embed_tokens [V, C]
  kLinear,     // projections [out, in]
  kNorm,       // RMSNorm gains, stored as an offset from 1
  kLmHead,     // lm_head [V, C], only when embeddings are not tied
};

struct TensorDesc {
  std::string name;  // "layers.3.self_attn.q_proj.weight"
  std::vector<int64_t> shape;
  TensorRole role;
  int64_t layer = -1;       // -1 outside the layer stack
  std::string_view module;  // last module name: "q_proj", "input_layernorm", "embed_tokens", "norm", ...
};

// Calls fn for every tensor in a fixed order: embed_tokens, then each layer (attention, norms, MLP), then
// norm, then lm_head if the config does not tie it to the embeddings.
void for_each_tensor(const ModelConfig& c, const std::function<void(const TensorDesc&)>& fn);
std::vector<TensorDesc> text_tensors(const ModelConfig& c);

// Total parameters of the text decoder (a tied head counted once).
uint64_t parameter_count(const ModelConfig& c);

inline constexpr std::string_view kLmHeadName = "lm_head.weight";
inline constexpr std::string_view kEmbedName = "embed_tokens.weight";

}  // namespace scitune
