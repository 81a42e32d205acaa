// LoRA adapters on the Gemma 3 language layers, PEFT-compatible (spec: ../shared/spec/data_eval_formats.md §7).
// Each adapted projection W [out, in] gains y += scale * B (A dropout(x)), A [r, in], B [out, r], fp32 master
// weights; scale = alpha / r, or alpha / sqrt(r) with rsLoRA. Init as PEFT: A Kaiming-uniform (a = sqrt 5, so
// U(-1/sqrt(in), 1/sqrt(in))), B zeros. Vision tensors are never adapted.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "util/atomic_file.h"

namespace scitune {

enum class Proj : uint8_t { kQ, kK, kV, kO, kGate, kUp, kDown };
inline constexpr int kNumProj = 7;
inline constexpr std::array<const char*, kNumProj> kProjNames = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                                 "gate_proj", "up_proj", "down_proj"};
// The module path below the layer ("self_attn.q_proj", "mlp.down_proj").
std::string proj_path(Proj p);
// [out, in] of projection p in a model of config c.
std::pair<int64_t, int64_t> proj_shape(const ModelConfig& c, Proj p);

struct LoraConfig {
  int64_t r = 16;
  double alpha = 16;
  double dropout = 0.0;
  bool use_rslora = false;
  // Either a list of module names (matched as PEFT does: the name or a ".name" suffix of the module path) or,
  // when target_regex is set, a regex that must match the whole module path.
  std::vector<std::string> target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  std::optional<std::string> target_regex;
  std::map<std::string, int64_t> rank_pattern;   // regex key -> r  (PEFT: matches "(.*\.)?(key)$")
  std::map<std::string, double> alpha_pattern;   // regex key -> alpha
  std::string base_model_name_or_path;
  // "model.layers." for Gemma3ForCausalLM, "model.language_model.layers." for the multimodal wrapper.
  std::string layer_prefix = "model.layers.";
};

// Parses adapter_config.json (errors name the file and field; DoRA, bias, modules_to_save, fan_in_fan_out and
// layer filters other than the defaults are rejected rather than silently ignored).
LoraConfig read_lora_config(const std::filesystem::path& path);
nlohmann::json to_peft_config(const LoraConfig& c);

struct LoraModule {
  int64_t layer = 0;
  Proj proj = Proj::kQ;
  int64_t r = 0, in = 0, out = 0;
  float scale = 0;
  std::vector<float> A, B;    // [r, in], [out, r]
  std::vector<float> dA, dB;  // gradients, same shapes (accumulated by backward, cleared by zero_grad)
  std::string path;           // "model.layers.3.self_attn.q_proj"
};

class LoraAdapter {
 public:
  // Modules selected by cfg on a model of config model; weights PEFT-initialised from seed.
  static LoraAdapter create(const ModelConfig& model, const LoraConfig& cfg, uint64_t seed);
  // A PEFT adapter folder (adapter_config.json + adapter_model.safetensors; f32/f16/bf16 tensors). Every
  // module the config selects must be present with the right shapes, and no tensor may be left unused.
  static LoraAdapter load(const std::filesystem::path& dir, const ModelConfig& model);
  // Writes the folder in PEFT's layout (fp32 tensors), atomically; refuses to overwrite unless asked.
  void save(const std::filesystem::path& dir, Overwrite overwrite = Overwrite::kNo) const;

  const LoraConfig& config() const { return cfg_; }
  std::vector<LoraModule>& modules() { return modules_; }
  const std::vector<LoraModule>& modules() const { return modules_; }
  // The module on (layer, proj), or null when that projection is not adapted.
  LoraModule* find(int64_t layer, Proj p) { return slot(layer, p) < 0 ? nullptr : &modules_[slot(layer, p)]; }
  const LoraModule* find(int64_t layer, Proj p) const {
    return slot(layer, p) < 0 ? nullptr : &modules_[slot(layer, p)];
  }
  void zero_grad();
  int64_t parameter_count() const;
  // PEFT tensor names of a module: base_model.model.<path>.lora_A.weight / lora_B.weight.
  static std::string tensor_name(const LoraModule& m, bool a);

 private:
  LoraConfig cfg_;
  std::vector<LoraModule> modules_;
  std::vector<int> index_;  // [layer * kNumProj + proj] -> module index or -1
  int slot(int64_t layer, Proj p) const {
    const size_t i = static_cast<size_t>(layer * kNumProj + static_cast<int>(p));
    return i < index_.size() ? index_[i] : -1;
  }
  void build(const ModelConfig& model);
};

}  // namespace scitune
