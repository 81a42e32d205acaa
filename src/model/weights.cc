#include "model/weights.h"

#include "model/tensor_names.h"
#include "util/error.h"

namespace scitune {

LoadedGemma3 load_gemma3_fp32(const HfModelFolder& folder) {
  LoadedGemma3 m;
  m.config = folder.config();
  m.weights.layers.resize(static_cast<size_t>(m.config.num_hidden_layers));
  m.storage.reserve(text_tensors(m.config).size());
  for_each_tensor(m.config, [&](const TensorDesc& d) {
    if (d.role == TensorRole::kLmHead) fail(folder.dir().string() + ": untied lm_head is not supported for Gemma 3");
    std::vector<float>& buf = m.storage.emplace_back(folder.tensor(d.name).to_f32());
    if (d.role == TensorRole::kNorm)
      for (float& w : buf) w += 1.0f;  // HF computes (1 + w) in fp32: the same value
    const float* p = buf.data();
    if (d.role == TensorRole::kEmbedding) {
      m.weights.embed = p;
      return;
    }
    if (d.layer < 0) {
      SCITUNE_CHECK(d.module == "norm", "unexpected top-level tensor " + d.name);
      m.weights.final_norm = p;
      return;
    }
    Gemma3LayerWeights& L = m.weights.layers[static_cast<size_t>(d.layer)];
    const std::string_view mod = d.module;
    const float** slot = mod == "q_proj" ? &L.q
                       : mod == "k_proj" ? &L.k
                       : mod == "v_proj" ? &L.v
                       : mod == "o_proj" ? &L.o
                       : mod == "gate_proj" ? &L.gate
                       : mod == "up_proj" ? &L.up
                       : mod == "down_proj" ? &L.down
                       : mod == "input_layernorm" ? &L.attn_norm
                       : mod == "q_norm" ? &L.q_norm
                       : mod == "k_norm" ? &L.k_norm
                       : mod == "post_attention_layernorm" ? &L.post_attn_norm
                       : mod == "pre_feedforward_layernorm" ? &L.ffn_norm
                       : mod == "post_feedforward_layernorm" ? &L.post_ffn_norm
                       : nullptr;
    SCITUNE_CHECK(slot != nullptr, "unexpected layer tensor " + d.name);
    *slot = p;
  });
  return m;
}

}  // namespace scitune
