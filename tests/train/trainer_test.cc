// Trainer semantics that peers got wrong (../shared/spec/pitfalls.md): gradient accumulation is not a loss
// multiplier — one optimizer step over the same examples gives the same loss, gradient norm and update whether
// they come as 4 x GA 1, 2 x GA 2 or 1 x GA 4 (HF's num_items_in_batch normalisation); and a run whose adapter
// gets no gradient at all stops with a message instead of "training" on nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "model/weights.h"
#include "train/trainer.h"
#include "util/error.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
const fs::path kModel = fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny/model";

std::vector<TokenizedExample> examples() {
  std::vector<TokenizedExample> out;
  for (int e = 0; e < 4; ++e) {
    TokenizedExample x;
    const int len = 6 + 3 * e;  // different lengths: the batched variants pad
    for (int t = 0; t < len; ++t) {
      x.input_ids.push_back(t == 0 ? 2 : 3 + (e * 37 + t * 11) % 500);
      x.labels.push_back(t < 3 ? kIgnoreLabel : x.input_ids.back());
    }
    out.push_back(x);
  }
  return out;
}

struct Result {
  StepLog log;
  std::vector<float> b0;  // one LoRA tensor after the update
};

Result one_step(int64_t batch, int64_t accumulation) {
  LoadedGemma3 m = load_gemma3_fp32(HfModelFolder::open(kModel));
  TrainConfig cfg;
  cfg.per_device_train_batch_size = batch;
  cfg.gradient_accumulation_steps = accumulation;
  cfg.shuffle = false;
  cfg.max_steps = 1;
  cfg.learning_rate = 1e-2;
  cfg.lora.r = 4;
  LoraAdapter adapter = LoraAdapter::create(m.config, cfg.lora, 7);
  Gemma3Lora net(m.config, m.weights, &adapter);
  const auto data = examples();
  const std::vector<TokenizedExample> none;
  Trainer t(cfg, net, adapter, data, none);
  Result r;
  r.log = t.train_step();
  r.b0 = adapter.modules()[0].B;
  return r;
}

TEST(Trainer, GradientAccumulationEqualsTheBiggerBatch) {
  if (!fs::exists(kModel)) GTEST_SKIP() << "golden model missing";
  const Result a = one_step(4, 1), b = one_step(2, 2), c = one_step(1, 4);
  for (const Result* r : {&b, &c}) {
    EXPECT_NEAR(r->log.loss, a.log.loss, 1e-6 * a.log.loss);
    EXPECT_NEAR(r->log.grad_norm, a.log.grad_norm, 1e-5 * a.log.grad_norm);
    double num = 0, den = 0;
    for (size_t i = 0; i < a.b0.size(); ++i) {
      num = std::max(num, std::fabs(static_cast<double>(r->b0[i]) - a.b0[i]));
      den = std::max(den, std::fabs(static_cast<double>(a.b0[i])));
    }
    EXPECT_LT(num / den, 1e-4);
  }
  EXPECT_GT(a.log.grad_norm, 0.0);
}

}  // namespace
}  // namespace scitune
