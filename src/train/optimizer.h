// Optimizer and learning-rate schedule with the semantics of torch.optim.AdamW and transformers'
// get_{constant,linear,cosine}_schedule_with_warmup (spec: ../shared/spec/trainer_quant_facts.md §2-§4), so a
// run's numbers can be compared with HF Trainer's step by step.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

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

// torch.optim.AdamW (non-fused, non-amsgrad) over every LoRA tensor of an adapter, fp32 states:
//   p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
class AdamW {
 public:
  AdamW(const LoraAdapter& adapter, AdamWConfig config);
  void step(LoraAdapter& adapter, double lr);
  int64_t steps_taken() const { return t_; }
  uint64_t state_bytes() const;
  // Moments in adapter module order, A then B (for checkpoints).
  std::vector<std::vector<float>>& moments1() { return m_; }
  std::vector<std::vector<float>>& moments2() { return v_; }
  void set_steps_taken(int64_t t) { t_ = t; }

 private:
  AdamWConfig cfg_;
  int64_t t_ = 0;
  std::vector<std::vector<float>> m_, v_;  // 2 per module: A, B
};

// L2 norm of all LoRA gradients (in double), and torch clip_grad_norm_: when max_norm > 0 and
// max_norm / (norm + 1e-6) < 1, every gradient is multiplied by that coefficient. Returns the norm before clipping.
double clip_grad_norm(LoraAdapter& adapter, double max_norm);

}  // namespace scitune
