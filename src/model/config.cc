// ModelConfig: presets, validation, printing. config.json parsing/writing is in config_hf.cc.
#include "model/config.h"

#include <cmath>
#include <sstream>
#include <type_traits>

#include "util/error.h"

namespace scitune {

std::string_view layer_type_hf_name(LayerType t) {
  return t == LayerType::kSliding ? "sliding_attention" : "full_attention";
}

std::vector<LayerType> ModelConfig::pattern_layer_types(int64_t num_layers, int64_t pattern) {
  std::vector<LayerType> out;
  for (int64_t i = 0; i < num_layers; ++i)
    out.push_back(pattern > 0 && (i + 1) % pattern == 0 ? LayerType::kGlobal : LayerType::kSliding);
  return out;
}

namespace {

// Bounds keep every product of two sizes inside int64 and reject absurd files before anything is allocated.
constexpr int64_t kMaxDim = int64_t{1} << 31;

std::string field(std::string_view name) { return "\"" + std::string(name) + "\""; }

void require_positive(const std::string& source, std::string_view name, int64_t v, int64_t max = kMaxDim) {
  if (v <= 0) fail(source + ": " + field(name) + " = " + std::to_string(v) + " must be positive");
  if (v > max) fail(source + ": " + field(name) + " = " + std::to_string(v) + " is larger than " + std::to_string(max));
}

void require_positive(const std::string& source, std::string_view name, double v) {
  if (!(v > 0) || !std::isfinite(v))
    fail(source + ": " + field(name) + " = " + nlohmann::json(v).dump() + " must be a positive number");
}

void require_token(const std::string& source, std::string_view name, int64_t id, int64_t vocab) {
  if (id < 0 || id >= vocab)
    fail(source + ": " + field(name) + " = " + std::to_string(id) + " is outside the vocabulary [0, " +
         std::to_string(vocab) + ")");
}

}  // namespace

void validate(const ModelConfig& c, const std::string& source) {
  require_positive(source, "vocab_size", c.vocab_size);
  require_positive(source, "hidden_size", c.hidden_size);
  require_positive(source, "intermediate_size", c.intermediate_size);
  require_positive(source, "num_hidden_layers", c.num_hidden_layers, kMaxModelLayers);
  require_positive(source, "num_attention_heads", c.num_attention_heads);
  require_positive(source, "num_key_value_heads", c.num_key_value_heads);
  require_positive(source, "head_dim", c.head_dim);
  require_positive(source, "sliding_window", c.sliding_window);
  require_positive(source, "max_position_embeddings", c.max_position_embeddings);
  require_positive(source, "query_pre_attn_scalar", c.query_pre_attn_scalar);
  require_positive(source, "rope_theta", c.rope_theta);
  require_positive(source, "rope_local_base_freq", c.rope_local_base_freq);
  require_positive(source, "rope_scaling factor", c.rope_scaling_factor);
  require_positive(source, "rms_norm_eps", c.rms_norm_eps);
  if (c.q_dim() > kMaxDim) fail(source + ": num_attention_heads x head_dim is too large");
  if (c.head_dim % 2 != 0)
    fail(source + ": " + field("head_dim") + " = " + std::to_string(c.head_dim) + " must be even (RoPE rotates pairs)");
  // transformers' Gemma3TextConfig.validate_architecture requires this although head_dim is independent of it.
  if (c.hidden_size % c.num_attention_heads != 0)
    fail(source + ": " + field("hidden_size") + " = " + std::to_string(c.hidden_size) + " is not a multiple of " +
         field("num_attention_heads") + " = " + std::to_string(c.num_attention_heads));
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail(source + ": " + field("num_key_value_heads") + " = " + std::to_string(c.num_key_value_heads) +
         " must divide " + field("num_attention_heads") + " = " + std::to_string(c.num_attention_heads));
  if (static_cast<int64_t>(c.layer_types.size()) != c.num_hidden_layers)
    fail(source + ": " + field("layer_types") + " has " + std::to_string(c.layer_types.size()) + " entries but " +
         field("num_hidden_layers") + " is " + std::to_string(c.num_hidden_layers));
  if (c.hidden_activation != "gelu_pytorch_tanh")
    fail(source + ": " + field("hidden_activation") + " is \"" + c.hidden_activation +
         "\", Gemma 3 uses \"gelu_pytorch_tanh\"");
  for (auto [name, v] : {std::pair{"attn_logit_softcapping", c.attn_logit_softcapping},
                         std::pair{"final_logit_softcapping", c.final_logit_softcapping}})
    if (!(v >= 0) || !std::isfinite(v))
      fail(source + ": " + field(name) + " = " + nlohmann::json(v).dump() + " must be positive or null");
  if (!(c.initializer_range >= 0) || !std::isfinite(c.initializer_range))
    fail(source + ": " + field("initializer_range") + " must be a non-negative number");
  if (c.pad_token_id) require_token(source, "pad_token_id", *c.pad_token_id, c.vocab_size);
  if (c.bos_token_id) require_token(source, "bos_token_id", *c.bos_token_id, c.vocab_size);
  for (int64_t id : c.eos_token_ids) require_token(source, "eos_token_id", id, c.vocab_size);
  if (!c.dtype.empty() && c.dtype != "float32" && c.dtype != "bfloat16" && c.dtype != "float16")
    fail(source + ": " + field("dtype") + " is \"" + c.dtype + "\", expected float32, bfloat16 or float16");
}

// --- presets (spec table 1.1; gemma.cpp configs agree) ---

namespace {

ModelConfig gemma3_base() {
  ModelConfig c;
  c.head_dim = 256;
  c.query_pre_attn_scalar = 256;
  c.rope_theta = 1e6;
  c.rope_local_base_freq = 1e4;
  c.rms_norm_eps = 1e-6;
  c.tie_word_embeddings = true;
  c.pad_token_id = 0;
  c.bos_token_id = 2;
  c.dtype = "bfloat16";
  return c;
}

void set_layers(ModelConfig& c, int64_t n, int64_t pattern) {
  c.num_hidden_layers = n;
  c.layer_types = ModelConfig::pattern_layer_types(n, pattern);
}

}  // namespace

std::optional<ModelConfig> preset(std::string_view name) {
  ModelConfig c = gemma3_base();
  if (name == "gemma3-270m") {
    c.vocab_size = 262144, c.hidden_size = 640, c.intermediate_size = 2048;
    c.num_attention_heads = 4, c.num_key_value_heads = 1, c.sliding_window = 512;
    c.max_position_embeddings = 32768, c.eos_token_ids = {1};
    set_layers(c, 18, 6);
  } else if (name == "gemma3-1b") {
    c.vocab_size = 262144, c.hidden_size = 1152, c.intermediate_size = 6912;
    c.num_attention_heads = 4, c.num_key_value_heads = 1, c.sliding_window = 512;
    c.max_position_embeddings = 32768, c.eos_token_ids = {1, 106};
    set_layers(c, 26, 6);
  } else if (name == "gemma3-4b") {
    c.vocab_size = 262208, c.hidden_size = 2560, c.intermediate_size = 10240;
    c.num_attention_heads = 8, c.num_key_value_heads = 4, c.sliding_window = 1024;
    c.rope_scaling_factor = 8.0, c.max_position_embeddings = 131072, c.eos_token_ids = {1, 106};
    set_layers(c, 34, 6);
  } else if (name == "tiny") {  // ../shared/golden/gemma3-tiny/model/config.json
    c.vocab_size = 512, c.hidden_size = 64, c.intermediate_size = 128;
    c.num_attention_heads = 4, c.num_key_value_heads = 2, c.head_dim = 32, c.query_pre_attn_scalar = 24;
    c.sliding_window = 6, c.rope_scaling_factor = 8.0, c.max_position_embeddings = 4096, c.eos_token_ids = {1};
    c.dtype = "float32";
    set_layers(c, 4, 2);
  } else {
    return std::nullopt;
  }
  return c;
}

std::vector<std::string_view> preset_names() { return {"gemma3-270m", "gemma3-1b", "gemma3-4b", "tiny"}; }

// --- printing ---

nlohmann::ordered_json to_json(const ModelConfig& c) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for_each_field(c, [&](const char* name, const auto& v) {
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, std::vector<LayerType>>) {
      auto& arr = j[name] = nlohmann::ordered_json::array();
      for (LayerType t : v) arr.push_back(layer_type_hf_name(t));
    } else if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
      j[name] = v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
    } else {
      j[name] = v;
    }
  });
  return j;
}

std::string describe(const ModelConfig& c) {
  std::ostringstream out;
  const auto fields = to_json(c);  // named: items() of a temporary would dangle
  for (const auto& [k, v] : fields.items()) {
    if (k == "layer_types") {
      std::string globals;
      for (int64_t i = 0; i < c.num_hidden_layers && i < static_cast<int64_t>(c.layer_types.size()); ++i)
        if (c.is_global(i)) globals += (globals.empty() ? "" : ", ") + std::to_string(i);
      out << "  global layers: [" << globals << "] (others sliding)\n";
      continue;
    }
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (k.ends_with("_softcapping") && v == 0.0) text = "none";
    if (k == "dtype" && text.empty()) text = "(not stated)";
    out << "  " << k << ": " << text << "\n";
  }
  return out.str();
}

std::vector<std::string> differences(const ModelConfig& a, const ModelConfig& b) {
  std::vector<std::string> out;
  const auto ja = to_json(a), jb = to_json(b);
  for (const auto& [k, v] : ja.items())
    if (v != jb.at(k)) out.push_back(k + ": " + v.dump() + " vs " + jb.at(k).dump());
  return out;
}

}  // namespace scitune
