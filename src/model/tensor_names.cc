#include "model/tensor_names.h"

#include "util/error.h"

namespace scitune {

void for_each_tensor(const ModelConfig& c, const std::function<void(const TensorDesc&)>& fn) {
  const int64_t V = c.vocab_size, C = c.hidden_size, F = c.intermediate_size, D = c.head_dim;
  const int64_t Q = c.q_dim(), KV = c.kv_dim();
  fn({std::string(kEmbedName), {V, C}, TensorRole::kEmbedding, -1, "embed_tokens"});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    auto linear = [&](std::string_view sub, std::string_view module, int64_t out, int64_t in) {
      fn({p + std::string(sub) + "." + std::string(module) + ".weight", {out, in}, TensorRole::kLinear, l, module});
    };
    auto norm = [&](std::string_view path, std::string_view module, int64_t n) {
      fn({p + std::string(path) + ".weight", {n}, TensorRole::kNorm, l, module});
    };
    norm("input_layernorm", "input_layernorm", C);
    linear("self_attn", "q_proj", Q, C);
    linear("self_attn", "k_proj", KV, C);
    linear("self_attn", "v_proj", KV, C);
    linear("self_attn", "o_proj", C, Q);
    norm("self_attn.q_norm", "q_norm", D);
    norm("self_attn.k_norm", "k_norm", D);
    norm("post_attention_layernorm", "post_attention_layernorm", C);
    norm("pre_feedforward_layernorm", "pre_feedforward_layernorm", C);
    linear("mlp", "gate_proj", F, C);
    linear("mlp", "up_proj", F, C);
    linear("mlp", "down_proj", C, F);
    norm("post_feedforward_layernorm", "post_feedforward_layernorm", C);
  }
  fn({"norm.weight", {C}, TensorRole::kNorm, -1, "norm"});
  if (!c.tie_word_embeddings) fn({std::string(kLmHeadName), {V, C}, TensorRole::kLmHead, -1, "lm_head"});
}

std::vector<TensorDesc> text_tensors(const ModelConfig& c) {
  std::vector<TensorDesc> out;
  for_each_tensor(c, [&](const TensorDesc& d) { out.push_back(d); });
  return out;
}

uint64_t parameter_count(const ModelConfig& c) {
  uint64_t total = 0;
  for_each_tensor(c, [&](const TensorDesc& d) {
    uint64_t n = 1;
    for (int64_t s : d.shape) {
      SCITUNE_CHECK(s >= 0 && !__builtin_mul_overflow(n, static_cast<uint64_t>(s), &n), "tensor size overflow");
    }
    SCITUNE_CHECK(!__builtin_add_overflow(total, n, &total), "parameter count overflow");
  });
  return total;
}

}  // namespace scitune
