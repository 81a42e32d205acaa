// Optimizers and learning-rate schedule with the semantics of torch.optim.AdamW (here), bitsandbytes' 8-bit
// AdamW (optimizer8bit.h) and transformers' get_{constant,linear,cosine}_schedule_with_warmup (spec:
// ../shared/spec/trainer_quant_facts.md §2-§5), so a run's numbers can be compared with HF Trainer's step by step.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "train/lora.h"

namespace scitune {

enum class LrSchedule { kConstant, kConstantWithWarmup, kLinear, kCosine };
LrSchedule parse_lr_schedule(const std::string& name);  // "constant", "constant_with_warmup", "linear", "cosine"
const char* lr_schedule_name(LrSchedule s);

// The LambdaLR multiplier for scheduler step `step` (0-based); optimizer update k (1-based) uses step k - 1.
double lr_multiplier(LrSchedule s, int64_t step, int64_t warmup_steps, int64_t total_steps);

struct AdamWConfig {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

// What the trainer holds: an optimizer over every LoRA tensor of an adapter, in optimizer order (module order,
// A then B: tensor k is module k / 2, A when k is even).
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(LoraAdapter& adapter, double lr) = 0;
  virtual const char* name() const = 0;      // the optim it implements: "adamw_torch", "adamw_8bit"
  virtual uint64_t state_bytes() const = 0;  // the moments' memory
  // Checkpoints: the state as named tensors viewing this object, and back (names, dtypes and sizes checked;
  // errors name the file).
  virtual std::vector<TensorData> state_tensors() const = 0;
  virtual void load_state(const SafetensorsFile& f) = 0;
  int64_t steps_taken() const { return t_; }
  void set_steps_taken(int64_t t) { t_ = t; }

 protected:
  int64_t t_ = 0;
};

// The optimizer for TrainingArguments.optim: adamw_torch / adamw_torch_fused -> AdamW, adamw_8bit /
// paged_adamw_8bit -> AdamW8bit (paging is a CUDA memory feature; bitsandbytes ignores it on CPU too).
std::unique_ptr<Optimizer> make_optimizer(const std::string& optim, const LoraAdapter& adapter, AdamWConfig config);
bool is_known_optim(const std::string& optim);

// Parameter and gradient of optimizer tensor k (see Optimizer).
inline std::vector<float>& lora_param(LoraAdapter& a, size_t k) {
  return k % 2 == 0 ? a.modules()[k / 2].A : a.modules()[k / 2].B;
}
inline const std::vector<float>& lora_param(const LoraAdapter& a, size_t k) {
  return k % 2 == 0 ? a.modules()[k / 2].A : a.modules()[k / 2].B;
}
inline const std::vector<float>& lora_grad(const LoraAdapter& a, size_t k) {
  return k % 2 == 0 ? a.modules()[k / 2].dA : a.modules()[k / 2].dB;
}
inline size_t lora_tensor_count(const LoraAdapter& a) { return 2 * a.modules().size(); }

// torch.optim.AdamW (non-fused, non-amsgrad) over every LoRA tensor of an adapter, fp32 states:
//   p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Checkpoint tensors exp_avg.<k> / exp_avg_sq.<k> (F32).
class AdamW : public Optimizer {
 public:
  AdamW(const LoraAdapter& adapter, AdamWConfig config);
  void step(LoraAdapter& adapter, double lr) override;
  const char* name() const override { return "adamw_torch"; }
  uint64_t state_bytes() const override;
  std::vector<TensorData> state_tensors() const override;
  void load_state(const SafetensorsFile& f) override;

 private:
  AdamWConfig cfg_;
  std::vector<std::vector<float>> m_, v_;  // per optimizer tensor
};

// L2 norm of all LoRA gradients (in double), and torch clip_grad_norm_: when max_norm > 0 and
// max_norm / (norm + 1e-6) < 1, every gradient is multiplied by that coefficient. Returns the norm before clipping.
double clip_grad_norm(LoraAdapter& adapter, double max_norm);

}  // namespace scitune
