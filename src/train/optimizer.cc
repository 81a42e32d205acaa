#include "train/optimizer.h"

#include <cmath>
#include <numbers>

#include "train/optimizer8bit.h"
#include "util/error.h"

namespace scitune {

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "constant") return LrSchedule::kConstant;
  if (name == "constant_with_warmup") return LrSchedule::kConstantWithWarmup;
  if (name == "linear") return LrSchedule::kLinear;
  if (name == "cosine") return LrSchedule::kCosine;
  fail("lr_scheduler_type: \"" + name + "\", expected constant, constant_with_warmup, linear or cosine");
}

const char* lr_schedule_name(LrSchedule s) {
  switch (s) {
    case LrSchedule::kConstant: return "constant";
    case LrSchedule::kConstantWithWarmup: return "constant_with_warmup";
    case LrSchedule::kLinear: return "linear";
    case LrSchedule::kCosine: return "cosine";
  }
  return "?";
}

double lr_multiplier(LrSchedule s, int64_t step, int64_t warmup, int64_t total) {
  const double st = static_cast<double>(step);
  if (s == LrSchedule::kConstant) return 1.0;
  if (step < warmup) return st / static_cast<double>(std::max<int64_t>(1, warmup));
  if (s == LrSchedule::kConstantWithWarmup) return 1.0;
  if (s == LrSchedule::kLinear)
    return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup)));
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));  // num_cycles 0.5
}

bool is_known_optim(const std::string& optim) {
  return optim == "adamw_torch" || optim == "adamw_torch_fused" || optim == "adamw_8bit" || optim == "paged_adamw_8bit";
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& optim, const LoraAdapter& adapter, AdamWConfig config) {
  if (optim == "adamw_torch" || optim == "adamw_torch_fused") return std::make_unique<AdamW>(adapter, config);
  if (optim == "adamw_8bit" || optim == "paged_adamw_8bit") return std::make_unique<AdamW8bit>(adapter, config);
  fail("optim: \"" + optim + "\" is not supported (use adamw_torch or adamw_8bit)");
}

AdamW::AdamW(const LoraAdapter& adapter, AdamWConfig config) : cfg_(config) {
  for (size_t k = 0; k < lora_tensor_count(adapter); ++k) {
    m_.emplace_back(lora_param(adapter, k).size(), 0.0f);
    v_.emplace_back(lora_param(adapter, k).size(), 0.0f);
  }
}

uint64_t AdamW::state_bytes() const {
  uint64_t n = 0;
  for (const auto& x : m_) n += x.size();
  for (const auto& x : v_) n += x.size();
  return n * sizeof(float);
}

std::vector<TensorData> AdamW::state_tensors() const {
  std::vector<TensorData> t;
  for (size_t k = 0; k < m_.size(); ++k)
    for (int which = 0; which < 2; ++which) {
      const std::vector<float>& v = which == 0 ? m_[k] : v_[k];
      t.push_back({{(which == 0 ? "exp_avg." : "exp_avg_sq.") + std::to_string(k), DType::F32,
                    {static_cast<int64_t>(v.size())}},
                   {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)}});
    }
  return t;
}

void AdamW::load_state(const SafetensorsFile& f) {
  for (size_t k = 0; k < m_.size(); ++k)
    for (int which = 0; which < 2; ++which) {
      std::vector<float>& v = which == 0 ? m_[k] : v_[k];
      std::vector<float> got = f.tensor((which == 0 ? "exp_avg." : "exp_avg_sq.") + std::to_string(k)).to_f32();
      if (got.size() != v.size()) fail(f.path().string() + ": optimizer state size does not match the adapter");
      v = std::move(got);
    }
}

void AdamW::step(LoraAdapter& adapter, double lr) {
  ++t_;
  const float b1 = static_cast<float>(cfg_.beta1), b2 = static_cast<float>(cfg_.beta2);
  // torch computes the bias corrections in Python floats (double) and folds them into step_size / denom.
  const double bc1 = 1.0 - std::pow(cfg_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(cfg_.beta2, static_cast<double>(t_));
  const float step_size = static_cast<float>(lr / bc1), bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float eps = static_cast<float>(cfg_.eps), decay = static_cast<float>(1.0 - lr * cfg_.weight_decay);
  for (size_t k = 0; k < m_.size(); ++k) {
    std::vector<float>& p = lora_param(adapter, k);
    const std::vector<float>& g = lora_grad(adapter, k);
    std::vector<float>& m = m_[k];
    std::vector<float>& v = v_[k];
    SCITUNE_CHECK(p.size() == m.size(), "optimizer state matches the adapter");
    for (size_t i = 0; i < p.size(); ++i) {
      if (cfg_.weight_decay != 0) p[i] *= decay;
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];  // torch lerp_: m += (1 - b1) * (g - m), same to rounding
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
      p[i] -= step_size * m[i] / denom;
    }
  }
}

double clip_grad_norm(LoraAdapter& adapter, double max_norm) {
  double ss = 0;
  for (const LoraModule& m : adapter.modules()) {
    for (float g : m.dA) ss += static_cast<double>(g) * g;
    for (float g : m.dB) ss += static_cast<double>(g) * g;
  }
  const double norm = std::sqrt(ss);
  if (max_norm > 0 && std::isfinite(norm)) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
      const float c = static_cast<float>(coef);
      for (LoraModule& m : adapter.modules()) {
        for (float& g : m.dA) g *= c;
        for (float& g : m.dB) g *= c;
      }
    }
  }
  return norm;
}

}  // namespace scitune
