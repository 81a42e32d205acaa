// HF config.json <-> ModelConfig. Two spellings exist for the same model:
//   Hub / transformers 4: rope_theta, rope_local_base_freq, rope_scaling {rope_type: linear, factor},
//                         sliding_window_pattern (or _sliding_window_pattern), torch_dtype;
//   transformers 5:       rope_parameters {full_attention: {...}, sliding_attention: {...}}, layer_types, dtype.
// Either may appear, or both when they agree. The multimodal wrapper (model_type gemma3) keeps the text
// decoder under "text_config", with transformers' defaults for what it omits (see ModelConfig).
#include <cmath>
#include <set>
#include <type_traits>

#include "io/json_limits.h"
#include "model/config.h"
#include "util/error.h"

namespace scitune {

namespace {

using json = nlohmann::json;

constexpr std::string_view kCausalLM = "Gemma3ForCausalLM", kConditional = "Gemma3ForConditionalGeneration";
constexpr std::string_view kTextType = "gemma3_text", kWrapperType = "gemma3";

// Error context: the file and, for the wrapper, the "text_config." prefix of field names.
struct Ctx {
  const std::string& source;
  std::string prefix;
  std::string name(std::string_view key) const { return "\"" + prefix + std::string(key) + "\""; }
  std::string where(std::string_view key) const { return source + ": " + name(key); }
};

std::string num(double v) { return json(v).dump(); }

// Fields whose config.json key is their own name and whose value is read as is.
bool is_plain_field(std::string_view name) {
  static const std::set<std::string_view> special = {"layer_types",         "rope_theta",    "rope_local_base_freq",
                                                     "rope_scaling_factor", "eos_token_ids", "dtype"};
  return !special.count(name);
}

void read_plain_fields(const json& t, const Ctx& ctx, ModelConfig& c) {
  for_each_field(c, [&](const char* name, auto& member) {
    if (!is_plain_field(name)) return;
    const json* v = json_find(t, name, /*null_is_absent=*/false);
    if (!v) return;
    const std::string where = ctx.where(name);
    using T = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
      member = v->is_null() ? std::nullopt : std::optional<int64_t>(json_int(*v, where));
    } else if constexpr (std::is_same_v<T, double>) {
      const bool nullable = std::string_view(name).ends_with("_softcapping");  // null = no softcapping
      if (v->is_null() && !nullable) fail(where + ": null is not supported, expected a number");
      member = v->is_null() ? 0.0 : json_number(*v, where);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      if (v->is_null()) fail(where + ": null is not supported, expected an integer");
      member = json_int(*v, where);
    } else if constexpr (std::is_same_v<T, bool>) {
      member = json_bool(*v, where);
    } else if constexpr (std::is_same_v<T, std::string>) {
      member = json_string(*v, where);
    } else {
      SCITUNE_CHECK(false, std::string("field ") + name + " is not plain");  // vectors are read specially
    }
  });
}

// Two spellings of one value: keep whichever is given; both must agree.
std::optional<double> agree(std::optional<double> a, const std::string& a_name, std::optional<double> b,
                            const std::string& b_name, const std::string& source) {
  if (a && b && *a != *b)
    fail(source + ": " + a_name + " = " + num(*a) + " contradicts " + b_name + " = " + num(*b) +
         " (both spellings given with different values)");
  return a ? a : b;
}

struct RopeEntry {
  std::optional<double> theta;
  double factor = 1.0;  // linear scaling; 1 for rope_type default
};

// {"rope_type": "default"|"linear", "factor": f, "rope_theta": t}; "type" is the older key for rope_type.
RopeEntry parse_rope_entry(const json& e, const std::string& where) {
  json_object(e, where);
  RopeEntry r;
  std::string type = "default";
  if (const json* t = json_find(e, "rope_type"))
    type = json_string(*t, where + " \"rope_type\"");
  else if (const json* t2 = json_find(e, "type"))
    type = json_string(*t2, where + " \"type\"");
  if (const json* th = json_find(e, "rope_theta")) r.theta = json_number(*th, where + " \"rope_theta\"");
  const json* f = json_find(e, "factor");
  if (type == "linear") {
    if (!f) fail(where + ": rope_type \"linear\" needs \"factor\"");
    r.factor = json_number(*f, where + " \"factor\"");
    if (!(r.factor > 0)) fail(where + " \"factor\" = " + num(r.factor) + " must be positive");
  } else if (type == "default") {
    if (f && json_number(*f, where + " \"factor\"") != 1.0)
      fail(where + ": \"factor\" is given but rope_type is \"default\"");
  } else {
    fail(where + ": rope_type \"" + type + "\" is not supported (Gemma 3 uses \"default\" or \"linear\")");
  }
  return r;
}

void read_rope(const json& t, const Ctx& ctx, ModelConfig& c) {
  std::optional<double> v5_global, v5_local, v5_factor;
  if (const json* rp = json_find(t, "rope_parameters")) {
    const std::string where = ctx.where("rope_parameters");
    json_object(*rp, where);
    if (rp->contains("rope_type") || rp->contains("rope_theta"))
      fail(where + ": expected one entry per layer type (\"full_attention\", \"sliding_attention\")");
    for (const auto& [kind, entry] : rp->items()) {
      const std::string w = where + " \"" + kind + "\"";
      RopeEntry r;
      if (kind == "full_attention") {
        r = parse_rope_entry(entry, w);
        v5_global = r.theta;
        v5_factor = r.factor;
      } else if (kind == "sliding_attention") {
        r = parse_rope_entry(entry, w);
        if (r.factor != 1.0) fail(w + ": RoPE scaling on sliding layers is not supported");
        v5_local = r.theta;
      } else {
        fail(where + ": unknown layer type \"" + kind + "\" (expected full_attention or sliding_attention)");
      }
    }
  }
  std::optional<double> hub_global, hub_local, hub_factor;
  if (const json* v = json_find(t, "rope_theta")) hub_global = json_number(*v, ctx.where("rope_theta"));
  if (const json* v = json_find(t, "rope_local_base_freq"))
    hub_local = json_number(*v, ctx.where("rope_local_base_freq"));
  if (const json* v = json_find(t, "rope_scaling")) hub_factor = parse_rope_entry(*v, ctx.where("rope_scaling")).factor;

  const std::string p = "\"" + ctx.prefix;
  c.rope_theta =
      agree(v5_global, p + "rope_parameters\".full_attention.rope_theta", hub_global, p + "rope_theta\"", ctx.source)
          .value_or(1e6);
  c.rope_local_base_freq = agree(v5_local, p + "rope_parameters\".sliding_attention.rope_theta", hub_local,
                                 p + "rope_local_base_freq\"", ctx.source)
                               .value_or(1e4);
  c.rope_scaling_factor = agree(v5_factor, p + "rope_parameters\".full_attention.factor", hub_factor,
                                p + "rope_scaling\".factor", ctx.source)
                              .value_or(1.0);
}

void read_layer_types(const json& t, const Ctx& ctx, ModelConfig& c) {
  std::optional<int64_t> pattern;
  std::string pattern_key;
  for (const char* key : {"sliding_window_pattern", "_sliding_window_pattern"}) {
    const json* v = json_find(t, key);
    if (!v) continue;
    const int64_t p = json_int(*v, ctx.where(key));
    if (p <= 0) fail(ctx.where(key) + " = " + std::to_string(p) + " must be positive");
    if (pattern && *pattern != p)
      fail(ctx.where(key) + " = " + std::to_string(p) + " contradicts " + ctx.name(pattern_key) + " = " +
           std::to_string(*pattern));
    pattern = p;
    pattern_key = key;
  }
  // Bound the layer count before anything is sized by it (validate() repeats the check for presets).
  if (c.num_hidden_layers <= 0 || c.num_hidden_layers > kMaxModelLayers)
    fail(ctx.where("num_hidden_layers") + " = " + std::to_string(c.num_hidden_layers) + " must be in [1, " +
         std::to_string(kMaxModelLayers) + "]");
  const json* lt = json_find(t, "layer_types");
  if (!lt) {
    c.layer_types = ModelConfig::pattern_layer_types(c.num_hidden_layers, pattern.value_or(6));
    return;
  }
  const std::string where = ctx.where("layer_types");
  const auto& arr = json_array(*lt, where);
  c.layer_types.clear();
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string& s = json_string(arr[i], where + "[" + std::to_string(i) + "]");
    if (s == "sliding_attention")
      c.layer_types.push_back(LayerType::kSliding);
    else if (s == "full_attention")
      c.layer_types.push_back(LayerType::kGlobal);
    else
      fail(where + "[" + std::to_string(i) + "]: \"" + s + "\", expected sliding_attention or full_attention");
  }
  if (static_cast<int64_t>(c.layer_types.size()) != c.num_hidden_layers)
    fail(where + " has " + std::to_string(c.layer_types.size()) + " entries but " + ctx.name("num_hidden_layers") +
         " is " + std::to_string(c.num_hidden_layers));
  if (pattern && ModelConfig::pattern_layer_types(c.num_hidden_layers, *pattern) != c.layer_types)
    fail(where + " contradicts " + ctx.name(pattern_key) + " = " + std::to_string(*pattern) +
         " (layer i is global iff (i+1) % pattern == 0)");
}

std::vector<int64_t> read_eos(const json& v, const std::string& where) {
  if (v.is_null()) return {};
  if (!v.is_array()) return {json_int(v, where)};
  std::vector<int64_t> ids;
  for (size_t i = 0; i < v.size(); ++i) ids.push_back(json_int(v[i], where + "[" + std::to_string(i) + "]"));
  return ids;
}

// "dtype" (transformers 5) or "torch_dtype" (4); nullopt when neither is given.
std::optional<std::string> read_dtype(const json& t, const Ctx& ctx) {
  std::optional<std::string> a, b;
  if (const json* v = json_find(t, "dtype")) a = json_string(*v, ctx.where("dtype"));
  if (const json* v = json_find(t, "torch_dtype")) b = json_string(*v, ctx.where("torch_dtype"));
  if (a && b && *a != *b)
    fail(ctx.where("dtype") + " = \"" + *a + "\" contradicts " + ctx.name("torch_dtype") + " = \"" + *b + "\"");
  return a ? a : b;
}

void reject_unsupported(const json& t, const Ctx& ctx) {
  if (const json* v = json_find(t, "attention_bias"); v && json_bool(*v, ctx.where("attention_bias")))
    fail(ctx.where("attention_bias") + ": true is not supported (Gemma 3 has no attention biases)");
  if (const json* v = json_find(t, "use_bidirectional_attention");
      v && json_bool(*v, ctx.where("use_bidirectional_attention")))
    fail(ctx.where("use_bidirectional_attention") + ": true (EmbeddingGemma) is not supported");
}

// Returns the architecture and model_type after checking they name one known model.
std::pair<std::string, std::string> read_architecture(const json& root, const std::string& source) {
  std::string arch, type;
  if (const json* a = json_find(root, "architectures")) {
    const auto& arr = json_array(*a, source + ": \"architectures\"");
    if (arr.empty()) fail(source + ": \"architectures\" is empty");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string& s = json_string(arr[i], source + ": \"architectures\"[" + std::to_string(i) + "]");
      if (i == 0)
        arch = s;
      else if (s != arch)
        fail(source + ": \"architectures\" lists several models (\"" + arch + "\", \"" + s + "\")");
    }
    if (arch != kCausalLM && arch != kConditional)
      fail(source + ": \"architectures\": \"" + arch + "\" is not supported (expected " + std::string(kCausalLM) +
           " or " + std::string(kConditional) + ")");
  }
  if (const json* m = json_find(root, "model_type")) {
    type = json_string(*m, source + ": \"model_type\"");
    if (type != kTextType && type != kWrapperType)
      fail(source + ": \"model_type\": \"" + type + "\" is not supported (expected gemma3_text or gemma3)");
  }
  if (arch.empty() && type.empty()) fail(source + ": missing \"architectures\" and \"model_type\"");
  const std::string_view expected_type = arch == kCausalLM ? kTextType : kWrapperType;
  if (!arch.empty() && !type.empty() && type != expected_type)
    fail(source + ": \"model_type\": \"" + type + "\" contradicts \"architectures\": \"" + arch + "\" (expected \"" +
         std::string(expected_type) + "\")");
  if (arch.empty()) arch = type == kTextType ? kCausalLM : kConditional;
  if (type.empty()) type = expected_type;
  return {arch, type};
}

}  // namespace

ModelConfig parse_hf_config(const json& root, const std::string& source, ConfigOrigin* origin) {
  json_object(root, source);
  auto [arch, type] = read_architecture(root, source);
  const bool wrapper = type == kWrapperType;
  static const json kEmpty = json::object();
  const json* text = &root;
  Ctx ctx{source, ""};
  if (wrapper) {
    const json* tc = json_find(root, "text_config");
    text = tc ? &json_object(*tc, source + ": \"text_config\"") : &kEmpty;
    ctx.prefix = "text_config.";
    if (const json* m = json_find(*text, "model_type"); m && json_string(*m, ctx.where("model_type")) != kTextType)
      fail(ctx.where("model_type") + ": \"" + m->get<std::string>() + "\", expected \"gemma3_text\"");
  }

  ModelConfig c;  // transformers' Gemma3TextConfig defaults
  reject_unsupported(*text, ctx);
  read_plain_fields(*text, ctx, c);
  read_layer_types(*text, ctx, c);
  read_rope(*text, ctx, c);
  if (const json* v = json_find(*text, "eos_token_id", false))
    c.eos_token_ids = read_eos(*v, ctx.where("eos_token_id"));
  c.dtype = read_dtype(*text, ctx).value_or("");
  if (wrapper) {
    // The wrapper's own ids and dtype describe the whole model (the Hub's 4B config keeps eos [1, 106] there).
    const Ctx top{source, ""};
    for (auto [key, member] : {std::pair{"pad_token_id", &c.pad_token_id}, std::pair{"bos_token_id", &c.bos_token_id}})
      if (const json* v = json_find(root, key, false))
        *member = v->is_null() ? std::nullopt : std::optional<int64_t>(json_int(*v, top.where(key)));
    if (const json* v = json_find(root, "eos_token_id", false))
      c.eos_token_ids = read_eos(*v, top.where("eos_token_id"));
    if (auto d = read_dtype(root, top)) c.dtype = *d;
  }
  validate(c, source);
  if (origin) *origin = ConfigOrigin{arch, type, wrapper};
  return c;
}

ModelConfig read_hf_config(const std::filesystem::path& config_json, ConfigOrigin* origin) {
  JsonLimits limits;
  limits.max_bytes = 16 << 20;  // config files are a few KB
  return parse_hf_config(read_json_file(config_json, limits), config_json.string(), origin);
}

json to_hf_config(const ModelConfig& c) {
  json j = json::object();  // sorted keys, as transformers writes them
  j["architectures"] = {kCausalLM};
  j["model_type"] = kTextType;
  for_each_field(c, [&](const char* name, const auto& v) {
    if (!is_plain_field(name)) return;
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, std::optional<int64_t>>)
      j[name] = v ? json(*v) : json(nullptr);
    else if constexpr (std::is_same_v<T, std::vector<LayerType>>)
      SCITUNE_CHECK(false, "layer_types is not plain");
    else
      j[name] = v;
  });
  for (const char* key : {"attn_logit_softcapping", "final_logit_softcapping"})
    if (j[key].get<double>() == 0) j[key] = nullptr;
  if (c.query_pre_attn_scalar == std::floor(c.query_pre_attn_scalar) && c.query_pre_attn_scalar < 1e15)
    j["query_pre_attn_scalar"] = static_cast<int64_t>(c.query_pre_attn_scalar);  // HF declares it int
  j["eos_token_id"] = c.eos_token_ids.size() == 1 ? json(c.eos_token_ids[0]) : json(c.eos_token_ids);
  if (!c.dtype.empty()) j["dtype"] = j["torch_dtype"] = c.dtype;
  auto& types = j["layer_types"] = json::array();
  for (LayerType t : c.layer_types) types.push_back(layer_type_hf_name(t));
  // Older readers ignore layer_types and fall back on the pattern: write it when the layers follow one.
  for (int64_t p = 1; p <= c.num_hidden_layers + 1; ++p)
    if (ModelConfig::pattern_layer_types(c.num_hidden_layers, p) == c.layer_types) {
      j["sliding_window_pattern"] = p;
      break;
    }
  json full = {{"rope_type", "default"}, {"rope_theta", c.rope_theta}};
  if (c.rope_scaling_factor != 1.0)
    full = {{"rope_type", "linear"}, {"factor", c.rope_scaling_factor}, {"rope_theta", c.rope_theta}};
  j["rope_parameters"] = {{"full_attention", full},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", c.rope_local_base_freq}}}};
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["use_bidirectional_attention"] = false;
  j["use_cache"] = true;
  return j;
}

void write_hf_config(const std::filesystem::path& path, const ModelConfig& c, Overwrite overwrite) {
  validate(c, path.string());
  write_file_atomic(path, to_hf_config(c).dump(2) + "\n", overwrite);
}

}  // namespace scitune
