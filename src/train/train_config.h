// Training configuration with the key names of TRL SFTConfig / HF TrainingArguments / PEFT LoraConfig, so a
// YAML written for those tools reads the same here. Read from YAML (`scitune train --config cfg.yaml`); the
// same keys as command-line flags override it. Defaults are TRL's / PEFT's unless noted.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "train/lora.h"

namespace scitune {

struct TrainConfig {
  // ours
  std::string model;                    // HF folder or GGUF
  std::vector<std::string> data;        // dataset files ("path" or "path:N" samples)
  std::string data_format = "auto";
  std::string validation_data;          // optional separate validation file
  double validation_split = 0.0;        // fraction of data held out for evaluation when no validation_data
  bool shuffle = true;
  std::string init_adapter;             // start from this PEFT adapter instead of a fresh init
  std::string quant = "none";           // none | q8_0 | q4_0 | nf4: base weights quantised on load (QLoRA)
  bool gradient_checkpointing = false;
  bool bf16 = false;                    // TrainingArguments.bf16: bf16 GEMMs with fp32 accumulation (AVX512-BF16)
  int64_t early_stopping_patience = 0;  // evaluations without improvement before stopping; 0 = off
  double early_stopping_threshold = 0.0;
  int64_t threads = 0;                  // 0 = all cores
  // TRL SFTConfig / TrainingArguments
  std::string output_dir = "scitune-output";
  double learning_rate = 2e-4;          // TRL's default
  std::string lr_scheduler_type = "linear";
  int64_t warmup_steps = 0;
  double warmup_ratio = 0.0;
  int64_t max_steps = -1;
  double num_train_epochs = 3.0;
  int64_t per_device_train_batch_size = 8;
  int64_t per_device_eval_batch_size = 8;
  int64_t gradient_accumulation_steps = 1;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
  double max_grad_norm = 1.0;
  std::string optim = "adamw_torch";
  int64_t max_seq_length = 1024;        // TRL max_length
  int64_t seed = 42;
  int64_t logging_steps = 10;
  int64_t eval_steps = 0;               // 0: evaluate every logging_steps when there is validation data
  int64_t save_steps = 500;
  int64_t save_total_limit = 0;         // 0 = keep all
  std::string resume_from_checkpoint;   // a checkpoint folder, or "latest" for the newest in output_dir
  // PEFT LoraConfig
  LoraConfig lora = [] {
    LoraConfig c;
    c.r = 8;
    c.alpha = 8;  // PEFT defaults
    return c;
  }();

  // Warmup steps as TrainingArguments.get_warmup_steps: warmup_steps if > 0 else ceil(ratio * total).
  int64_t warmup_for(int64_t total_steps) const;
  void validate() const;  // ranges; errors name the key
};

// Applies the keys of a YAML mapping onto cfg (unknown keys are errors naming the key and the file).
void apply_yaml_config(TrainConfig& cfg, const std::filesystem::path& path);
// The effective config as YAML (written to output_dir/train_config.yaml for the record).
std::string to_yaml(const TrainConfig& cfg);

}  // namespace scitune
