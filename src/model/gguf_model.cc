#include "model/gguf_model.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "util/error.h"

namespace scitune {

namespace {

constexpr std::pair<std::string_view, std::string_view> kLayerNames[] = {
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "post_attention_norm.weight"},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

// GGUF stores hyper-parameters as float32; HF configs hold the decimal the float32 came from (1e-6, not
// 9.99999997e-07). The shortest decimal that round-trips the float32 recovers it.
double from_f32(float f) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
}

}  // namespace

std::optional<std::string> gguf_tensor_name(std::string_view canonical) {
  if (canonical == "embed_tokens.weight") return "token_embd.weight";
  if (canonical == "norm.weight") return "output_norm.weight";
  constexpr std::string_view kLayers = "layers.";
  if (canonical.substr(0, kLayers.size()) != kLayers) return std::nullopt;
  const auto rest = canonical.substr(kLayers.size());
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto index = rest.substr(0, dot), leaf = rest.substr(dot + 1);
  for (const auto& [hf, gg] : kLayerNames)
    if (leaf == hf) return "blk." + std::string(index) + "." + std::string(gg);
  return std::nullopt;
}

ModelConfig config_from_gguf(const GgufFile& f) {
  const std::string& arch = f.get_string("general.architecture");
  if (arch != "gemma3")
    fail(f.source_name() + ": general.architecture is \"" + arch + "\", expected \"gemma3\" (Gemma 3 text)");
  auto key = [](const char* k) { return std::string("gemma3.") + k; };
  ModelConfig c;
  c.hidden_size = f.get_u32(key("embedding_length"));
  c.num_hidden_layers = f.get_u32(key("block_count"));
  c.intermediate_size = f.get_u32(key("feed_forward_length"));
  c.num_attention_heads = f.get_u32(key("attention.head_count"));
  c.num_key_value_heads = f.get_u32(key("attention.head_count_kv"));
  c.head_dim = f.get_optional<uint32_t>(key("attention.key_length")).value_or(
      static_cast<uint32_t>(c.hidden_size / std::max<int64_t>(1, c.num_attention_heads)));
  if (auto vl = f.get_optional<uint32_t>(key("attention.value_length")); vl && *vl != c.head_dim)
    fail(f.source_name() + ": gemma3.attention.value_length " + std::to_string(*vl) + " differs from key_length " +
         std::to_string(c.head_dim) + "; Gemma 3 uses one head size");
  c.max_position_embeddings = f.get_u32(key("context_length"));
  c.rms_norm_eps = from_f32(f.get_f32(key("attention.layer_norm_rms_epsilon")));
  c.sliding_window = f.get_optional<uint32_t>(key("attention.sliding_window")).value_or(0);
  c.rope_theta = from_f32(f.get_optional<float>(key("rope.freq_base")).value_or(1e6f));
  c.rope_local_base_freq = 10000.0;  // llama.cpp hard-codes it for gemma3 (rope.freq_base_swa is informative)
  if (auto swa = f.get_optional<float>(key("rope.freq_base_swa"))) c.rope_local_base_freq = from_f32(*swa);
  c.rope_scaling_factor = 1.0;
  if (auto t = f.get_optional<std::string>(key("rope.scaling.type")); t && *t != "linear" && *t != "none")
    fail(f.source_name() + ": gemma3.rope.scaling.type \"" + *t + "\" is not supported (expected \"linear\")");
  if (auto factor = f.get_optional<float>(key("rope.scaling.factor")); factor && *factor > 0)
    c.rope_scaling_factor = from_f32(*factor);
  c.final_logit_softcapping = from_f32(f.get_optional<float>(key("final_logit_softcapping")).value_or(0.0f));
  c.attn_logit_softcapping = from_f32(f.get_optional<float>(key("attn_logit_softcapping")).value_or(0.0f));
  // llama.cpp: query scale 1/sqrt(key_length), except the 27B (62 layers) which uses hidden/heads.
  c.query_pre_attn_scalar = c.num_hidden_layers == 62 ? static_cast<double>(c.hidden_size / c.num_attention_heads)
                                                      : static_cast<double>(c.head_dim);
  // llama.cpp: with a sliding window, layer i is sliding iff i % 6 < 5 (pattern 6).
  c.layer_types = c.sliding_window > 0 ? ModelConfig::pattern_layer_types(c.num_hidden_layers, 6)
                                       : std::vector<LayerType>(c.num_hidden_layers, LayerType::kGlobal);
  const GgufTensorInfo& embd = f.tensor("token_embd.weight");
  if (embd.ne.size() != 2 || static_cast<int64_t>(embd.ne[0]) != c.hidden_size)
    fail(f.source_name() + ": token_embd.weight must have ne {" + std::to_string(c.hidden_size) + ", n_vocab}");
  c.vocab_size = static_cast<int64_t>(embd.ne[1]);
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  c.bos_token_id = f.get_optional<uint32_t>("tokenizer.ggml.bos_token_id").value_or(2);
  c.pad_token_id = f.get_optional<uint32_t>("tokenizer.ggml.padding_token_id").value_or(0);
  c.eos_token_ids = {f.get_optional<uint32_t>("tokenizer.ggml.eos_token_id").value_or(1)};
  c.dtype = "";
  validate(c, f.source_name());
  return c;
}

}  // namespace scitune
