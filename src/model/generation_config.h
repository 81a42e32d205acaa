// Sampling defaults from an HF generation_config.json. Fields the file leaves out take Gemma 3's published
// values (google/gemma-3-1b-it and -4b-it generation_config.json: do_sample true, top_k 64, top_p 0.95,
// no temperature key, so transformers' 1.0), not transformers' generic GenerationConfig defaults
// (top_k 50, top_p 1.0, do_sample false). Token ids left out come from config.json.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "util/atomic_file.h"

namespace scitune {

struct GenerationDefaults {
  bool do_sample = true;
  double temperature = 1.0;
  int64_t top_k = 64;               // 0 = no top-k filtering
  double top_p = 0.95;              // 1 = no nucleus filtering
  double min_p = 0.0;               // 0 = off
  double repetition_penalty = 1.0;  // 1 = off
  std::optional<int64_t> max_new_tokens;
  std::optional<int64_t> bos_token_id, pad_token_id;
  std::vector<int64_t> eos_token_ids;  // generation stops on any of them
  bool operator==(const GenerationDefaults&) const = default;
};

// Gemma defaults with the token ids of `model`.
GenerationDefaults generation_defaults_for(const ModelConfig& model);

// Parses generation_config.json; fields it omits keep generation_defaults_for(model). Validates ranges:
// temperature >= 0, top_k >= 0, 0 < top_p <= 1, 0 <= min_p <= 1, repetition_penalty > 0, max_new_tokens >= 1,
// token ids inside the vocabulary. Errors name `source` and the field.
GenerationDefaults parse_generation_config(const nlohmann::json& root, const std::string& source,
                                           const ModelConfig& model);
// Reads `path` if it exists, else returns generation_defaults_for(model).
GenerationDefaults read_generation_config(const std::filesystem::path& path, const ModelConfig& model);

nlohmann::json to_hf_generation_config(const GenerationDefaults& g);
void write_generation_config(const std::filesystem::path& path, const GenerationDefaults& g,
                             Overwrite overwrite = Overwrite::kNo);

}  // namespace scitune
