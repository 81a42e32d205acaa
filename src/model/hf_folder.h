// An HF model folder opened for reading: config.json -> ModelConfig, generation_config.json ->
// GenerationDefaults, and the text decoder's tensors by canonical name (see tensor_names.h), validated
// against the config (every expected tensor present, exact shape, float dtype). Text tensors are found under
// "model." (Gemma3ForCausalLM), "model.language_model." or "language_model.model." (multimodal wrapper, new
// and old layouts); vision / audio / projector tensors are counted as "other" and left alone.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/safetensors_index.h"
#include "model/config.h"
#include "model/generation_config.h"

namespace scitune {

class HfModelFolder {
 public:
  // Throws UserError naming the folder, the file and the field / tensor on anything unexpected.
  static HfModelFolder open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  const ConfigOrigin& origin() const { return origin_; }
  const GenerationDefaults& generation() const { return generation_; }
  const TensorStore& store() const { return store_; }
  const std::string& text_prefix() const { return prefix_; }

  // A text tensor by canonical name ("layers.0.mlp.up_proj.weight"). "lm_head.weight" gives the embedding
  // matrix when the head is tied and the file stores no separate copy.
  std::optional<TensorView> find(std::string_view canonical) const;
  TensorView tensor(std::string_view canonical) const;  // UserError if absent
  bool has_separate_lm_head() const { return lm_head_.has_value(); }
  // Stored names of tensors that are not part of the text decoder (vision tower, projector, ...).
  const std::vector<std::string>& other_tensors() const { return other_; }

 private:
  HfModelFolder(TensorStore store) : store_(std::move(store)) {}
  void index_tensors();
  std::filesystem::path dir_;
  ModelConfig config_;
  ConfigOrigin origin_;
  GenerationDefaults generation_;
  TensorStore store_;
  std::string prefix_;
  std::unordered_map<std::string, std::string> canonical_to_stored_;
  std::optional<std::string> lm_head_;  // stored name of a separate lm_head tensor
  std::vector<std::string> other_;
};

}  // namespace scitune
