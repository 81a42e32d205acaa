#include "model/weights.h"

#include "model/gguf_model.h"
#include "model/tensor_names.h"
#include "quant/quants.h"
#include "util/error.h"

namespace scitune {

namespace {

// Points the weight slot that tensor d feeds at p.
void assign(Gemma3Weights& w, const TensorDesc& d, const float* p) {
  if (d.role == TensorRole::kEmbedding) {
    w.embed = p;
    return;
  }
  if (d.layer < 0) {
    SCITUNE_CHECK(d.module == "norm", "unexpected top-level tensor " + d.name);
    w.final_norm = p;
    return;
  }
  Gemma3LayerWeights& L = w.layers[static_cast<size_t>(d.layer)];
  const std::string_view mod = d.module;
  const float** slot = mod == "q_proj"                       ? &L.q
                       : mod == "k_proj"                     ? &L.k
                       : mod == "v_proj"                     ? &L.v
                       : mod == "o_proj"                     ? &L.o
                       : mod == "gate_proj"                  ? &L.gate
                       : mod == "up_proj"                    ? &L.up
                       : mod == "down_proj"                  ? &L.down
                       : mod == "input_layernorm"            ? &L.attn_norm
                       : mod == "q_norm"                     ? &L.q_norm
                       : mod == "k_norm"                     ? &L.k_norm
                       : mod == "post_attention_layernorm"   ? &L.post_attn_norm
                       : mod == "pre_feedforward_layernorm"  ? &L.ffn_norm
                       : mod == "post_feedforward_layernorm" ? &L.post_ffn_norm
                                                             : nullptr;
  SCITUNE_CHECK(slot != nullptr, "unexpected layer tensor " + d.name);
  *slot = p;
}

// One fp32 array per tensor of the config, each produced by fetch(desc), owned by m.storage.
template <class Fetch>
void load_all(LoadedGemma3& m, Fetch fetch) {
  m.weights.layers.resize(static_cast<size_t>(m.config.num_hidden_layers));
  m.storage.reserve(text_tensors(m.config).size());
  for_each_tensor(m.config,
                  [&](const TensorDesc& d) { assign(m.weights, d, m.storage.emplace_back(fetch(d)).data()); });
}

}  // namespace

LoadedGemma3 load_gemma3_fp32(const HfModelFolder& folder) {
  LoadedGemma3 m;
  m.config = folder.config();
  load_all(m, [&](const TensorDesc& d) {
    if (d.role == TensorRole::kLmHead) fail(folder.dir().string() + ": untied lm_head is not supported for Gemma 3");
    std::vector<float> buf = folder.tensor(d.name).to_f32();
    if (d.role == TensorRole::kNorm)
      for (float& w : buf) w += 1.0f;  // HF computes (1 + w) in fp32: the same value
    return buf;
  });
  return m;
}

LoadedGemma3 load_gemma3_fp32(const GgufFile& file) {
  LoadedGemma3 m;
  m.config = config_from_gguf(file);
  load_all(m, [&](const TensorDesc& d) {
    if (d.role == TensorRole::kLmHead) fail(file.source_name() + ": separate output.weight is not supported for Gemma 3");
    const GgufTensorInfo& t = file.tensor(*gguf_tensor_name(d.name));
    uint64_t numel = 1;
    for (int64_t s : d.shape) numel *= static_cast<uint64_t>(s);
    if (t.n_elements() != numel)
      fail(file.source_name() + ": " + t.name + ": " + std::to_string(t.n_elements()) + " elements, expected " +
           std::to_string(numel));
    if (!quant_row_supported(t.type))
      fail(file.source_name() + ": " + t.name + ": tensor type " + std::string(ggml_info(t.type).name) +
           " is not supported");
    std::vector<float> out(numel);
    const int64_t row = static_cast<int64_t>(t.ne[0]), rows = static_cast<int64_t>(numel / t.ne[0]);
    const size_t row_bytes = ggml_row_size(t.type, t.ne[0]);
    for (int64_t r = 0; r < rows; ++r) dequantize_row(t.type, t.data.data() + r * row_bytes, out.data() + r * row, row);
    return out;  // GGUF norms already hold the gain 1 + w
  });
  return m;
}

}  // namespace scitune
