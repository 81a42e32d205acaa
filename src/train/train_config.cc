#include <charconv>
#include "train/train_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <functional>
#include <map>

#include "train/optimizer.h"
#include "util/error.h"

namespace scitune {

int64_t TrainConfig::warmup_for(int64_t total_steps) const {
  if (warmup_steps > 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(warmup_ratio * static_cast<double>(total_steps)));
}

void TrainConfig::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) fail(what);
  };
  need(learning_rate >= 0, "learning_rate must be >= 0");
  need(warmup_steps >= 0, "warmup_steps must be >= 0");
  need(warmup_ratio >= 0 && warmup_ratio <= 1, "warmup_ratio must be in [0, 1]");
  need(max_steps == -1 || max_steps > 0, "max_steps must be > 0 (or -1 to use num_train_epochs)");
  need(num_train_epochs > 0, "num_train_epochs must be > 0");
  need(per_device_train_batch_size >= 1, "per_device_train_batch_size must be >= 1");
  need(per_device_eval_batch_size >= 1, "per_device_eval_batch_size must be >= 1");
  need(gradient_accumulation_steps >= 1, "gradient_accumulation_steps must be >= 1");
  need(weight_decay >= 0, "weight_decay must be >= 0");
  need(max_grad_norm >= 0, "max_grad_norm must be >= 0 (0 disables clipping)");
  need(is_known_optim(optim), "optim: \"" + optim +
                                  "\" is not supported (use adamw_torch or adamw_8bit; adamw_torch_fused and "
                                  "paged_adamw_8bit are accepted as their aliases)");
  need(max_seq_length >= 2, "max_seq_length must be >= 2");
  need(logging_steps >= 1, "logging_steps must be >= 1");
  need(eval_steps >= 0, "eval_steps must be >= 0");
  need(save_steps >= 1, "save_steps must be >= 1");
  need(save_total_limit >= 0, "save_total_limit must be >= 0");
  need(validation_split >= 0 && validation_split < 1, "validation_split must be in [0, 1)");
  need(quant == "none" || quant == "q8_0" || quant == "q4_0" || quant == "nf4",
       "quant: \"" + quant + "\", expected none, q8_0, q4_0 or nf4");
  need(lora.r >= 1, "r must be >= 1");
  need(lora.dropout >= 0 && lora.dropout < 1, "lora_dropout must be in [0, 1)");
  need(early_stopping_patience >= 0, "early_stopping_patience must be >= 0");
}

void apply_yaml_config(TrainConfig& c, const std::filesystem::path& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    fail(path.string() + ": " + e.what());
  }
  if (!root.IsMap()) fail(path.string() + ": expected a mapping of config keys");
  const std::string src = path.string();
  using Setter = std::function<void(const YAML::Node&)>;
  auto get = [&](const std::string& key, auto& dst) -> Setter {
    return [&, key](const YAML::Node& n) {
      try {
        dst = n.as<std::remove_reference_t<decltype(dst)>>();
      } catch (const YAML::Exception&) {
        fail(src + ": key \"" + key + "\" has a value of the wrong type (line " + std::to_string(n.Mark().line + 1) + ")");
      }
    };
  };
  std::map<std::string, Setter> keys = {
      {"model", get("model", c.model)},
      {"data_format", get("data_format", c.data_format)},
      {"validation_data", get("validation_data", c.validation_data)},
      {"validation_split", get("validation_split", c.validation_split)},
      {"shuffle", get("shuffle", c.shuffle)},
      {"init_adapter", get("init_adapter", c.init_adapter)},
      {"quant", get("quant", c.quant)},
      {"gradient_checkpointing", get("gradient_checkpointing", c.gradient_checkpointing)},
      {"bf16", get("bf16", c.bf16)},
      {"early_stopping_patience", get("early_stopping_patience", c.early_stopping_patience)},
      {"early_stopping_threshold", get("early_stopping_threshold", c.early_stopping_threshold)},
      {"threads", get("threads", c.threads)},
      {"output_dir", get("output_dir", c.output_dir)},
      {"learning_rate", get("learning_rate", c.learning_rate)},
      {"lr_scheduler_type", get("lr_scheduler_type", c.lr_scheduler_type)},
      {"warmup_steps", get("warmup_steps", c.warmup_steps)},
      {"warmup_ratio", get("warmup_ratio", c.warmup_ratio)},
      {"max_steps", get("max_steps", c.max_steps)},
      {"num_train_epochs", get("num_train_epochs", c.num_train_epochs)},
      {"per_device_train_batch_size", get("per_device_train_batch_size", c.per_device_train_batch_size)},
      {"per_device_eval_batch_size", get("per_device_eval_batch_size", c.per_device_eval_batch_size)},
      {"gradient_accumulation_steps", get("gradient_accumulation_steps", c.gradient_accumulation_steps)},
      {"weight_decay", get("weight_decay", c.weight_decay)},
      {"adam_beta1", get("adam_beta1", c.adam_beta1)},
      {"adam_beta2", get("adam_beta2", c.adam_beta2)},
      {"adam_epsilon", get("adam_epsilon", c.adam_epsilon)},
      {"max_grad_norm", get("max_grad_norm", c.max_grad_norm)},
      {"optim", get("optim", c.optim)},
      {"max_seq_length", get("max_seq_length", c.max_seq_length)},
      {"max_length", get("max_length", c.max_seq_length)},
      {"seed", get("seed", c.seed)},
      {"logging_steps", get("logging_steps", c.logging_steps)},
      {"eval_steps", get("eval_steps", c.eval_steps)},
      {"save_steps", get("save_steps", c.save_steps)},
      {"save_total_limit", get("save_total_limit", c.save_total_limit)},
      {"resume_from_checkpoint", get("resume_from_checkpoint", c.resume_from_checkpoint)},
      {"r", get("r", c.lora.r)},
      {"lora_alpha", get("lora_alpha", c.lora.alpha)},
      {"lora_dropout", get("lora_dropout", c.lora.dropout)},
      {"use_rslora", get("use_rslora", c.lora.use_rslora)},
  };
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "data") {
      c.data.clear();
      if (v.IsSequence())
        for (const auto& d : v) c.data.push_back(d.as<std::string>());
      else
        c.data.push_back(v.as<std::string>());
    } else if (key == "target_modules") {
      c.lora.target_modules.clear();
      c.lora.target_regex.reset();
      if (v.IsSequence())
        for (const auto& t : v) c.lora.target_modules.push_back(t.as<std::string>());
      else if (v.as<std::string>() == "all-linear")
        c.lora.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
      else
        c.lora.target_regex = v.as<std::string>();
    } else if (auto it = keys.find(key); it != keys.end()) {
      it->second(v);
    } else {
      fail(src + ": unknown key \"" + key + "\" (line " + std::to_string(kv.first.Mark().line + 1) + ")");
    }
  }
}

namespace {
// The shortest text that reads back as the same double ("0.0003", not yaml-cpp's 17-digit "0.00029999999999999997").
std::string shortest(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
}  // namespace

std::string to_yaml(const TrainConfig& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "model" << YAML::Value << c.model;
  e << YAML::Key << "data" << YAML::Value << c.data;
  e << YAML::Key << "data_format" << YAML::Value << c.data_format;
  if (!c.validation_data.empty()) e << YAML::Key << "validation_data" << YAML::Value << c.validation_data;
  e << YAML::Key << "validation_split" << YAML::Value << YAML::Load(shortest(c.validation_split));
  e << YAML::Key << "shuffle" << YAML::Value << c.shuffle;
  if (!c.init_adapter.empty()) e << YAML::Key << "init_adapter" << YAML::Value << c.init_adapter;
  e << YAML::Key << "quant" << YAML::Value << c.quant;
  e << YAML::Key << "gradient_checkpointing" << YAML::Value << c.gradient_checkpointing;
  e << YAML::Key << "bf16" << YAML::Value << c.bf16;
  e << YAML::Key << "early_stopping_patience" << YAML::Value << c.early_stopping_patience;
  e << YAML::Key << "early_stopping_threshold" << YAML::Value << YAML::Load(shortest(c.early_stopping_threshold));
  e << YAML::Key << "output_dir" << YAML::Value << c.output_dir;
  e << YAML::Key << "learning_rate" << YAML::Value << YAML::Load(shortest(c.learning_rate));
  e << YAML::Key << "lr_scheduler_type" << YAML::Value << c.lr_scheduler_type;
  e << YAML::Key << "warmup_steps" << YAML::Value << c.warmup_steps;
  e << YAML::Key << "warmup_ratio" << YAML::Value << YAML::Load(shortest(c.warmup_ratio));
  e << YAML::Key << "max_steps" << YAML::Value << c.max_steps;
  e << YAML::Key << "num_train_epochs" << YAML::Value << YAML::Load(shortest(c.num_train_epochs));
  e << YAML::Key << "per_device_train_batch_size" << YAML::Value << c.per_device_train_batch_size;
  e << YAML::Key << "per_device_eval_batch_size" << YAML::Value << c.per_device_eval_batch_size;
  e << YAML::Key << "gradient_accumulation_steps" << YAML::Value << c.gradient_accumulation_steps;
  e << YAML::Key << "weight_decay" << YAML::Value << YAML::Load(shortest(c.weight_decay));
  e << YAML::Key << "adam_beta1" << YAML::Value << YAML::Load(shortest(c.adam_beta1));
  e << YAML::Key << "adam_beta2" << YAML::Value << YAML::Load(shortest(c.adam_beta2));
  e << YAML::Key << "adam_epsilon" << YAML::Value << YAML::Load(shortest(c.adam_epsilon));
  e << YAML::Key << "max_grad_norm" << YAML::Value << YAML::Load(shortest(c.max_grad_norm));
  e << YAML::Key << "optim" << YAML::Value << c.optim;
  e << YAML::Key << "max_seq_length" << YAML::Value << c.max_seq_length;
  e << YAML::Key << "seed" << YAML::Value << c.seed;
  e << YAML::Key << "logging_steps" << YAML::Value << c.logging_steps;
  e << YAML::Key << "eval_steps" << YAML::Value << c.eval_steps;
  e << YAML::Key << "save_steps" << YAML::Value << c.save_steps;
  e << YAML::Key << "save_total_limit" << YAML::Value << c.save_total_limit;
  e << YAML::Key << "r" << YAML::Value << c.lora.r;
  e << YAML::Key << "lora_alpha" << YAML::Value << YAML::Load(shortest(c.lora.alpha));
  e << YAML::Key << "lora_dropout" << YAML::Value << YAML::Load(shortest(c.lora.dropout));
  e << YAML::Key << "use_rslora" << YAML::Value << c.lora.use_rslora;
  if (c.lora.target_regex)
    e << YAML::Key << "target_modules" << YAML::Value << *c.lora.target_regex;
  else
    e << YAML::Key << "target_modules" << YAML::Value << c.lora.target_modules;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace scitune
