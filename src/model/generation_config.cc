#include "model/generation_config.h"

#include <cmath>

#include "io/json_limits.h"
#include "util/error.h"

namespace scitune {

using json = nlohmann::json;

GenerationDefaults generation_defaults_for(const ModelConfig& model) {
  GenerationDefaults g;
  g.bos_token_id = model.bos_token_id;
  g.pad_token_id = model.pad_token_id;
  g.eos_token_ids = model.eos_token_ids;
  return g;
}

namespace {

std::string where(const std::string& source, const char* key) { return source + ": \"" + key + "\""; }

void check_range(bool ok, const std::string& source, const char* key, double v, const char* expected) {
  if (!ok || !std::isfinite(v)) fail(where(source, key) + " = " + json(v).dump() + ", expected " + expected);
}

}  // namespace

GenerationDefaults parse_generation_config(const json& root, const std::string& source, const ModelConfig& model) {
  json_object(root, source);
  GenerationDefaults g = generation_defaults_for(model);
  if (const json* v = json_find(root, "do_sample")) g.do_sample = json_bool(*v, where(source, "do_sample"));
  for (auto [key, member] : {std::pair{"temperature", &g.temperature}, std::pair{"top_p", &g.top_p},
                             std::pair{"min_p", &g.min_p}, std::pair{"repetition_penalty", &g.repetition_penalty}})
    if (const json* v = json_find(root, key)) *member = json_number(*v, where(source, key));
  if (const json* v = json_find(root, "top_k")) g.top_k = json_int(*v, where(source, "top_k"));
  if (const json* v = json_find(root, "max_new_tokens"))
    g.max_new_tokens = json_int(*v, where(source, "max_new_tokens"));
  for (auto [key, member] : {std::pair{"bos_token_id", &g.bos_token_id}, std::pair{"pad_token_id", &g.pad_token_id}})
    if (const json* v = json_find(root, key, false))
      *member = v->is_null() ? std::nullopt : std::optional<int64_t>(json_int(*v, where(source, key)));
  if (const json* v = json_find(root, "eos_token_id", false)) {
    g.eos_token_ids.clear();
    if (v->is_array()) {
      for (size_t i = 0; i < v->size(); ++i)
        g.eos_token_ids.push_back(json_int((*v)[i], where(source, "eos_token_id") + "[" + std::to_string(i) + "]"));
    } else if (!v->is_null()) {
      g.eos_token_ids.push_back(json_int(*v, where(source, "eos_token_id")));
    }
  }

  check_range(g.temperature >= 0, source, "temperature", g.temperature, "a number >= 0");
  check_range(g.top_k >= 0, source, "top_k", static_cast<double>(g.top_k), "an integer >= 0");
  check_range(g.top_p > 0 && g.top_p <= 1, source, "top_p", g.top_p, "a number in (0, 1]");
  check_range(g.min_p >= 0 && g.min_p <= 1, source, "min_p", g.min_p, "a number in [0, 1]");
  check_range(g.repetition_penalty > 0, source, "repetition_penalty", g.repetition_penalty, "a number > 0");
  if (g.max_new_tokens && *g.max_new_tokens < 1)
    fail(where(source, "max_new_tokens") + " = " + std::to_string(*g.max_new_tokens) + ", expected at least 1");
  auto check_id = [&](const char* key, int64_t id) {
    if (id < 0 || id >= model.vocab_size)
      fail(where(source, key) + " = " + std::to_string(id) + " is outside the vocabulary [0, " +
           std::to_string(model.vocab_size) + ")");
  };
  if (g.bos_token_id) check_id("bos_token_id", *g.bos_token_id);
  if (g.pad_token_id) check_id("pad_token_id", *g.pad_token_id);
  for (int64_t id : g.eos_token_ids) check_id("eos_token_id", id);
  return g;
}

GenerationDefaults read_generation_config(const std::filesystem::path& path, const ModelConfig& model) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return generation_defaults_for(model);
  JsonLimits limits;
  limits.max_bytes = 16 << 20;
  return parse_generation_config(read_json_file(path, limits), path.string(), model);
}

json to_hf_generation_config(const GenerationDefaults& g) {
  json j = json::object();
  if (g.bos_token_id) j["bos_token_id"] = *g.bos_token_id;
  if (g.pad_token_id) j["pad_token_id"] = *g.pad_token_id;
  j["eos_token_id"] = g.eos_token_ids.size() == 1 ? json(g.eos_token_ids[0]) : json(g.eos_token_ids);
  j["do_sample"] = g.do_sample;
  j["temperature"] = g.temperature;
  j["top_k"] = g.top_k;
  j["top_p"] = g.top_p;
  if (g.min_p > 0) j["min_p"] = g.min_p;
  j["repetition_penalty"] = g.repetition_penalty;
  if (g.max_new_tokens) j["max_new_tokens"] = *g.max_new_tokens;
  return j;
}

void write_generation_config(const std::filesystem::path& path, const GenerationDefaults& g, Overwrite overwrite) {
  write_file_atomic(path, to_hf_generation_config(g).dump(2) + "\n", overwrite);
}

}  // namespace scitune
