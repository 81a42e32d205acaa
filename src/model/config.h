// The one model configuration struct (Gemma 3 text decoder), its presets, and HF config.json reading/writing.
// Field defaults are transformers' Gemma3TextConfig() defaults (v5.12, configuration_gemma3.py): the
// multimodal wrapper's text_config on the Hub omits every field that keeps its default, so they matter.
// Fields are listed once in for_each_field (printing, JSON, differences); equality is the defaulted ==.
// Per-layer properties live in per-layer vectors so that Gemma 3n / 4 can add more later.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/atomic_file.h"

namespace scitune {

inline constexpr int64_t kMaxModelLayers = 4096;  // sanity bound on num_hidden_layers from a file

// Attention span of a layer; HF spells them "sliding_attention" / "full_attention".
enum class LayerType : uint8_t { kSliding, kGlobal };
std::string_view layer_type_hf_name(LayerType t);

struct ModelConfig {
  int64_t vocab_size = 262208;
  int64_t hidden_size = 2304;
  int64_t intermediate_size = 9216;
  int64_t num_hidden_layers = 26;
  int64_t num_attention_heads = 8;
  int64_t num_key_value_heads = 4;
  int64_t head_dim = 256;
  double query_pre_attn_scalar = 256;  // attention scores scale = query_pre_attn_scalar^-1/2
  int64_t sliding_window = 4096;
  std::vector<LayerType> layer_types = pattern_layer_types(26, 6);  // one entry per layer
  double rope_theta = 1e6;                                          // global (full-attention) layers
  double rope_local_base_freq = 1e4;                                // sliding layers
  double rope_scaling_factor = 1.0;  // linear position scaling on global layers; 1 = none
  int64_t max_position_embeddings = 131072;
  double rms_norm_eps = 1e-6;
  std::string hidden_activation = "gelu_pytorch_tanh";
  double attn_logit_softcapping = 0;   // 0 = none (null in config.json)
  double final_logit_softcapping = 0;  // 0 = none
  bool tie_word_embeddings = true;
  double initializer_range = 0.02;
  std::optional<int64_t> pad_token_id = 0;
  std::optional<int64_t> bos_token_id = 2;
  std::vector<int64_t> eos_token_ids = {1};
  std::string dtype;  // "float32" | "bfloat16" | "float16"; empty when config.json does not say

  bool is_sliding(int64_t layer) const { return layer_types.at(static_cast<size_t>(layer)) == LayerType::kSliding; }
  bool is_global(int64_t layer) const { return !is_sliding(layer); }
  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
  bool operator==(const ModelConfig&) const = default;

  // Layer i is global iff (i + 1) % pattern == 0 (Gemma 3: pattern 6; the last layer is not forced global).
  static std::vector<LayerType> pattern_layer_types(int64_t num_layers, int64_t pattern);
};

// Calls f(name, member) for every field, in declaration order. Member types: int64_t, double, bool,
// std::string, std::optional<int64_t>, std::vector<int64_t>, std::vector<LayerType>.
template <class Config, class F>
void for_each_field(Config& c, F&& f) {
  f("vocab_size", c.vocab_size);
  f("hidden_size", c.hidden_size);
  f("intermediate_size", c.intermediate_size);
  f("num_hidden_layers", c.num_hidden_layers);
  f("num_attention_heads", c.num_attention_heads);
  f("num_key_value_heads", c.num_key_value_heads);
  f("head_dim", c.head_dim);
  f("query_pre_attn_scalar", c.query_pre_attn_scalar);
  f("sliding_window", c.sliding_window);
  f("layer_types", c.layer_types);
  f("rope_theta", c.rope_theta);
  f("rope_local_base_freq", c.rope_local_base_freq);
  f("rope_scaling_factor", c.rope_scaling_factor);
  f("max_position_embeddings", c.max_position_embeddings);
  f("rms_norm_eps", c.rms_norm_eps);
  f("hidden_activation", c.hidden_activation);
  f("attn_logit_softcapping", c.attn_logit_softcapping);
  f("final_logit_softcapping", c.final_logit_softcapping);
  f("tie_word_embeddings", c.tie_word_embeddings);
  f("initializer_range", c.initializer_range);
  f("pad_token_id", c.pad_token_id);
  f("bos_token_id", c.bos_token_id);
  f("eos_token_ids", c.eos_token_ids);
  f("dtype", c.dtype);
}

// Throws UserError "<source>: "<field>" ..." for non-positive sizes, heads that do not divide, a layer_types
// length that is not num_hidden_layers, an activation other than gelu_pytorch_tanh, ids outside the vocab.
void validate(const ModelConfig& c, const std::string& source);

// Presets: "gemma3-270m", "gemma3-1b", "gemma3-4b" (text decoder; spec table 1.1) and "tiny" (the shared
// golden test model). nullopt for an unknown name.
std::optional<ModelConfig> preset(std::string_view name);
std::vector<std::string_view> preset_names();

// Our own flat JSON (the for_each_field names) for `scitune inspect`, and a few lines of text.
nlohmann::ordered_json to_json(const ModelConfig& c);
std::string describe(const ModelConfig& c);
// Names of the fields that differ, each with both values ("rope_theta: 1000000 vs 10000"); empty if equal.
std::vector<std::string> differences(const ModelConfig& a, const ModelConfig& b);

// --- HF config.json ---

// How config.json described the model, beyond the text decoder itself.
struct ConfigOrigin {
  std::string architecture;  // "Gemma3ForCausalLM" | "Gemma3ForConditionalGeneration"
  std::string model_type;    // "gemma3_text" | "gemma3"
  bool multimodal = false;   // values came from "text_config"
};

// Parses an HF config.json (Hub / transformers-4 spelling or transformers-5 spelling, text-only or the
// multimodal wrapper) and validates it. `source` names the file in errors. Both spellings of one value may
// appear only if they agree.
ModelConfig parse_hf_config(const nlohmann::json& root, const std::string& source, ConfigOrigin* origin = nullptr);
ModelConfig read_hf_config(const std::filesystem::path& config_json, ConfigOrigin* origin = nullptr);

// config.json in the transformers-5 spelling for Gemma3ForCausalLM (rope_parameters, layer_types), plus
// torch_dtype beside dtype for older readers.
nlohmann::json to_hf_config(const ModelConfig& c);
void write_hf_config(const std::filesystem::path& path, const ModelConfig& c, Overwrite overwrite = Overwrite::kNo);

}  // namespace scitune
