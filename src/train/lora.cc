#include "train/lora.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <regex>

#include "io/json_limits.h"
#include "io/safetensors.h"
#include "util/error.h"

namespace scitune {

namespace {

using json = nlohmann::json;

bool is_attention(Proj p) { return static_cast<int>(p) <= static_cast<int>(Proj::kO); }

// PEFT's pattern rule for rank_pattern / alpha_pattern keys: re.match(rf"(.*\.)?({key})$", path).
template <class T>
std::optional<T> pattern_value(const std::map<std::string, T>& patterns, const std::string& path) {
  for (const auto& [key, value] : patterns)
    if (std::regex_match(path, std::regex("(.*\\.)?(" + key + ")"))) return value;
  return std::nullopt;
}

bool selected(const LoraConfig& c, const std::string& path, Proj p) {
  if (c.target_regex) return std::regex_match(path, std::regex(*c.target_regex));
  for (const std::string& t : c.target_modules) {
    if (t == kProjNames[static_cast<int>(p)]) return true;
    if (path.size() > t.size() && path.compare(path.size() - t.size(), t.size(), t) == 0 &&
        path[path.size() - t.size() - 1] == '.')
      return true;
  }
  return false;
}

// The layer prefix an adapter's tensor names use, from the first lora tensor name.
std::string detect_layer_prefix(const std::vector<std::string>& names, const std::string& source) {
  for (const char* prefix : {"model.language_model.layers.", "language_model.model.layers.", "model.layers."})
    for (const std::string& n : names)
      if (n.rfind(std::string("base_model.model.") + prefix, 0) == 0) return prefix;
  fail(source + ": no tensor named base_model.model.model.layers.* or base_model.model.model.language_model."
                "layers.* (not a Gemma 3 language-model LoRA adapter)");
}

}  // namespace

std::string proj_path(Proj p) {
  return std::string(is_attention(p) ? "self_attn." : "mlp.") + kProjNames[static_cast<int>(p)];
}

std::pair<int64_t, int64_t> proj_shape(const ModelConfig& c, Proj p) {
  const int64_t C = c.hidden_size, HD = c.num_attention_heads * c.head_dim;
  const int64_t GD = c.num_key_value_heads * c.head_dim, F = c.intermediate_size;
  switch (p) {
    case Proj::kQ: return {HD, C};
    case Proj::kK:
    case Proj::kV: return {GD, C};
    case Proj::kO: return {C, HD};
    case Proj::kGate:
    case Proj::kUp: return {F, C};
    case Proj::kDown: return {C, F};
  }
  return {0, 0};
}

LoraConfig read_lora_config(const std::filesystem::path& path) {
  const json root = read_json_file(path);
  const std::string src = path.string();
  json_object(root, src);
  LoraConfig c;
  auto where = [&](const char* key) { return src + ": \"" + key + "\""; };
  if (const json* v = json_find(root, "peft_type"); v && json_string(*v, where("peft_type")) != "LORA")
    fail(where("peft_type") + " is \"" + v->get<std::string>() + "\", expected \"LORA\"");
  if (const json* v = json_find(root, "r")) c.r = json_int(*v, where("r"));
  if (c.r < 1) fail(where("r") + " must be >= 1");
  if (const json* v = json_find(root, "lora_alpha")) c.alpha = json_number(*v, where("lora_alpha"));
  if (const json* v = json_find(root, "lora_dropout")) c.dropout = json_number(*v, where("lora_dropout"));
  if (c.dropout < 0 || c.dropout >= 1) fail(where("lora_dropout") + " must be in [0, 1)");
  if (const json* v = json_find(root, "use_rslora")) c.use_rslora = json_bool(*v, where("use_rslora"));
  if (const json* v = json_find(root, "use_dora"); v && json_bool(*v, where("use_dora")))
    fail(where("use_dora") + " is true: DoRA adapters are not plain LoRA and are not supported");
  if (const json* v = json_find(root, "bias"); v && json_string(*v, where("bias")) != "none")
    fail(where("bias") + " must be \"none\" (LoRA bias terms are not supported)");
  if (const json* v = json_find(root, "fan_in_fan_out"); v && json_bool(*v, where("fan_in_fan_out")))
    fail(where("fan_in_fan_out") + " is true (a GPT-2 Conv1D layout; Gemma uses Linear)");
  if (const json* v = json_find(root, "modules_to_save"); v && !json_array(*v, where("modules_to_save")).empty())
    fail(where("modules_to_save") + " lists fully trained modules, which scitune does not support");
  for (const char* k : {"layers_to_transform", "layer_replication"})
    if (json_find(root, k)) fail(where(k) + " is set; only adapters on every layer are supported");
  if (const json* v = json_find(root, "target_modules")) {
    if (v->is_string()) {
      c.target_regex = v->get<std::string>();
      c.target_modules.clear();
    } else {
      c.target_modules.clear();
      for (const json& t : json_array(*v, where("target_modules")))
        c.target_modules.push_back(json_string(t, where("target_modules")));
    }
  } else {
    fail(where("target_modules") + " is missing");
  }
  if (const json* v = json_find(root, "rank_pattern"))
    for (const auto& [k, r] : json_object(*v, where("rank_pattern")).items())
      c.rank_pattern[k] = json_int(r, where("rank_pattern") + "." + k);
  if (const json* v = json_find(root, "alpha_pattern"))
    for (const auto& [k, a] : json_object(*v, where("alpha_pattern")).items())
      c.alpha_pattern[k] = json_number(a, where("alpha_pattern") + "." + k);
  if (const json* v = json_find(root, "base_model_name_or_path"))
    c.base_model_name_or_path = json_string(*v, where("base_model_name_or_path"));
  return c;
}

json to_peft_config(const LoraConfig& c) {
  json j;
  j["peft_type"] = "LORA";
  j["task_type"] = "CAUSAL_LM";
  j["base_model_name_or_path"] = c.base_model_name_or_path;
  j["r"] = c.r;
  j["lora_alpha"] = c.alpha;
  j["lora_dropout"] = c.dropout;
  j["use_rslora"] = c.use_rslora;
  j["use_dora"] = false;
  j["bias"] = "none";
  j["fan_in_fan_out"] = false;
  j["init_lora_weights"] = true;
  j["inference_mode"] = true;
  j["modules_to_save"] = nullptr;
  if (c.target_regex)
    j["target_modules"] = *c.target_regex;
  else
    j["target_modules"] = c.target_modules;
  j["rank_pattern"] = json::object();
  for (const auto& [k, v] : c.rank_pattern) j["rank_pattern"][k] = v;
  j["alpha_pattern"] = json::object();
  for (const auto& [k, v] : c.alpha_pattern) j["alpha_pattern"][k] = v;
  return j;
}

void LoraAdapter::build(const ModelConfig& model) {
  modules_.clear();
  index_.assign(static_cast<size_t>(model.num_hidden_layers * kNumProj), -1);
  for (int64_t l = 0; l < model.num_hidden_layers; ++l)
    for (int p = 0; p < kNumProj; ++p) {
      const Proj proj = static_cast<Proj>(p);
      LoraModule m;
      m.layer = l;
      m.proj = proj;
      m.path = cfg_.layer_prefix + std::to_string(l) + "." + proj_path(proj);
      if (!selected(cfg_, m.path, proj)) continue;
      m.r = pattern_value(cfg_.rank_pattern, m.path).value_or(cfg_.r);
      const double alpha = pattern_value(cfg_.alpha_pattern, m.path).value_or(cfg_.alpha);
      if (m.r < 1) fail(m.path + ": LoRA rank must be >= 1");
      m.scale = static_cast<float>(cfg_.use_rslora ? alpha / std::sqrt(static_cast<double>(m.r))
                                                   : alpha / static_cast<double>(m.r));
      std::tie(m.out, m.in) = proj_shape(model, proj);
      m.A.assign(static_cast<size_t>(m.r * m.in), 0.0f);
      m.B.assign(static_cast<size_t>(m.out * m.r), 0.0f);
      m.dA.assign(m.A.size(), 0.0f);
      m.dB.assign(m.B.size(), 0.0f);
      index_[static_cast<size_t>(l * kNumProj + p)] = static_cast<int>(modules_.size());
      modules_.push_back(std::move(m));
    }
  if (modules_.empty()) fail("LoRA target_modules select no projection of the language layers");
}

LoraAdapter LoraAdapter::create(const ModelConfig& model, const LoraConfig& cfg, uint64_t seed) {
  LoraAdapter a;
  a.cfg_ = cfg;
  if (cfg.r < 1) fail("LoRA r must be >= 1");
  a.build(model);
  std::mt19937_64 rng(seed);
  for (LoraModule& m : a.modules_) {
    // kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / (1 + 5)), bound = gain * sqrt(3 / fan_in) = 1 / sqrt(in).
    const float bound = 1.0f / std::sqrt(static_cast<float>(m.in));
    std::uniform_real_distribution<float> u(-bound, bound);
    for (float& w : m.A) w = u(rng);
  }
  return a;
}

std::string LoraAdapter::tensor_name(const LoraModule& m, bool a) {
  return "base_model.model." + m.path + (a ? ".lora_A.weight" : ".lora_B.weight");
}

LoraAdapter LoraAdapter::load(const std::filesystem::path& dir, const ModelConfig& model) {
  const auto cfg_path = dir / "adapter_config.json", st_path = dir / "adapter_model.safetensors";
  if (!std::filesystem::exists(cfg_path)) fail(dir.string() + ": no adapter_config.json (expected a PEFT adapter folder)");
  if (!std::filesystem::exists(st_path)) {
    if (std::filesystem::exists(dir / "adapter_model.bin"))
      fail(st_path.string() + ": missing; adapter_model.bin (pickle) is not read, save the adapter with safetensors");
    fail(st_path.string() + ": missing");
  }
  LoraAdapter a;
  a.cfg_ = read_lora_config(cfg_path);
  SafetensorsFile f(st_path);
  std::vector<std::string> names;
  for (const auto& t : f.tensors()) names.push_back(t.name);
  a.cfg_.layer_prefix = detect_layer_prefix(names, st_path.string());
  a.build(model);
  size_t used = 0;
  for (LoraModule& m : a.modules_) {
    for (bool is_a : {true, false}) {
      const std::string name = tensor_name(m, is_a);
      if (!f.contains(name)) fail(st_path.string() + ": missing " + name + " (adapter_config.json selects " + m.path + ")");
      TensorView v = f.tensor(name);
      const std::vector<int64_t> want = is_a ? std::vector<int64_t>{m.r, m.in} : std::vector<int64_t>{m.out, m.r};
      if (!std::equal(v.shape().begin(), v.shape().end(), want.begin(), want.end()))
        fail(st_path.string() + ": " + name + " has shape " + shape_to_string(v.shape()) + ", expected " +
             shape_to_string(want));
      (is_a ? m.A : m.B) = v.to_f32();
      ++used;
    }
  }
  if (used != names.size()) {
    for (const std::string& n : names) {
      bool known = false;
      for (const LoraModule& m : a.modules_) known = known || n == tensor_name(m, true) || n == tensor_name(m, false);
      if (!known) fail(st_path.string() + ": tensor " + n + " is not a LoRA weight of a module adapter_config.json selects");
    }
  }
  return a;
}

void LoraAdapter::save(const std::filesystem::path& dir, Overwrite overwrite) const {
  std::filesystem::create_directories(dir);
  std::vector<TensorData> tensors;
  for (const LoraModule& m : modules_) {
    tensors.push_back({{tensor_name(m, true), DType::F32, {m.r, m.in}},
                       {reinterpret_cast<const uint8_t*>(m.A.data()), m.A.size() * sizeof(float)}});
    tensors.push_back({{tensor_name(m, false), DType::F32, {m.out, m.r}},
                       {reinterpret_cast<const uint8_t*>(m.B.data()), m.B.size() * sizeof(float)}});
  }
  write_safetensors(dir / "adapter_model.safetensors", tensors, {{"format", "pt"}}, overwrite);
  write_file_atomic(dir / "adapter_config.json", to_peft_config(cfg_).dump(2) + "\n", overwrite);
}

void LoraAdapter::zero_grad() {
  for (LoraModule& m : modules_) {
    std::fill(m.dA.begin(), m.dA.end(), 0.0f);
    std::fill(m.dB.begin(), m.dB.end(), 0.0f);
  }
}

int64_t LoraAdapter::parameter_count() const {
  int64_t n = 0;
  for (const LoraModule& m : modules_) n += static_cast<int64_t>(m.A.size() + m.B.size());
  return n;
}

}  // namespace scitune
