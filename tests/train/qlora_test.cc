// QLoRA: with the frozen base held quantised (NF4 as bitsandbytes, Q8_0, Q4_0; used through dequantised panels,
// never a full fp32 copy), the LoRA gradients equal those computed on an fp32 base holding the same dequantised
// values: only fp32 summation order may differ.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/safetensors.h"
#include "kernels/cpu/linear.h"
#include "model/weights.h"
#include "train/gemma3_lora.h"
#include "util/half.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

const fs::path kCase = fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny";

// An fp32 copy of m whose linear weights are the dequantised values of m's (embedding and norms shared).
LoadedGemma3 dequantised_copy(const LoadedGemma3& m) {
  LoadedGemma3 out;
  out.config = m.config;
  out.weights = m.weights;
  auto widen = [&](WeightMatrix& w) {
    std::vector<float>& buf = out.storage.emplace_back(static_cast<size_t>(w.rows * w.cols));
    for (int64_t r = 0; r < w.rows; ++r) ops::weight_row(buf.data() + r * w.cols, w, r);
    w = WeightMatrix::f32(buf.data(), w.rows, w.cols);
  };
  out.storage.reserve(m.weights.layers.size() * 7 + 1);
  widen(out.weights.embed);
  for (auto& L : out.weights.layers)
    for (WeightMatrix* w : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) widen(*w);
  return out;
}

std::vector<std::vector<float>> gradients(const LoadedGemma3& m, const SafetensorsFile& golden,
                                          const TrainOptions& options = {}) {
  LoraAdapter adapter = LoraAdapter::load(kCase / "adapter", m.config);
  Gemma3Lora net(m.config, m.weights, &adapter);
  auto shape = golden.tensor("input_ids").shape();
  const int64_t B = shape[0], T = shape[1];
  auto ids64 = golden.tensor("input_ids").as<int64_t>();
  auto labels = golden.tensor("labels").as<int64_t>();
  std::vector<int32_t> ids(ids64.begin(), ids64.end());
  std::vector<int64_t> lab(labels.begin(), labels.end()), lengths(B, T);
  net.step(ids, lengths, lab, B, T, 0.1f, true, options);
  std::vector<std::vector<float>> g;
  for (const LoraModule& mod : adapter.modules()) {
    g.push_back(mod.dA);
    g.push_back(mod.dB);
  }
  return g;
}

// Largest |a - b| over largest |b|, tensor by tensor; the worst tensor.
double worst_relative(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double num = 0, den = 0;
    for (size_t j = 0; j < a[i].size(); ++j) {
      num = std::max(num, std::fabs(static_cast<double>(a[i][j]) - b[i][j]));
      den = std::max(den, std::fabs(static_cast<double>(b[i][j])));
    }
    worst = std::max(worst, num / std::max(den, 1e-30));
  }
  return worst;
}

class QloraBases : public ::testing::TestWithParam<std::string> {};

TEST_P(QloraBases, GradientsEqualThoseOnTheDequantisedBase) {
  if (!fs::exists(kCase)) GTEST_SKIP() << "golden case missing";
  LoadOptions opts;
  apply_quant_on_load(opts, GetParam(), "quant");
  auto folder = HfModelFolder::open(kCase / "model");
  LoadedGemma3 q = load_gemma3(folder, opts);
  if (GetParam() == "nf4") {
    ASSERT_NE(q.weights.layers[0].q.nf4, nullptr);
  } else {
    ASSERT_EQ(q.weights.layers[0].q.type, *opts.quant);
  }
  LoadedGemma3 f = dequantised_copy(q);
  SafetensorsFile golden(kCase / "golden.safetensors");
  const auto gq = gradients(q, golden), gf = gradients(f, golden);
  ASSERT_EQ(gq.size(), gf.size());
  EXPECT_LT(worst_relative(gq, gf), 1e-5) << GetParam();
  // And the quantisation did change the model (the comparison is not fp32 against itself).
  LoadedGemma3 exact = load_gemma3_fp32(folder);
  const auto ge = gradients(exact, golden);
  double diff = 0;
  for (size_t i = 0; i < ge.size(); ++i)
    for (size_t j = 0; j < ge[i].size(); ++j) diff = std::max(diff, std::fabs(static_cast<double>(ge[i][j]) - gq[i][j]));
  EXPECT_GT(diff, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Bases, QloraBases, ::testing::Values("nf4", "q8_0", "q4_0"),
                         [](const auto& info) { return info.param; });


// LoadOptions::bf16 (train --bf16 on an fp32 folder): matrices held as their bf16 rounding, read in place by the
// bf16 GEMMs; a bf16 step gives the gradients of an fp32 base holding the same rounded values.
TEST(Bf16Base, RoundedOnceAndReadInPlace) {
  if (!fs::exists(kCase)) GTEST_SKIP() << "golden case missing";
  auto folder = HfModelFolder::open(kCase / "model");
  LoadOptions opts;
  opts.bf16 = true;
  LoadedGemma3 b = load_gemma3(folder, opts);
  LoadedGemma3 exact = load_gemma3_fp32(folder);
  ASSERT_EQ(b.weights.embed.type, GgmlType::BF16);
  ASSERT_EQ(b.weights.layers[0].down.type, GgmlType::BF16);
  std::vector<float> rb(static_cast<size_t>(exact.weights.layers[0].down.cols)), re(rb.size());
  ops::weight_row(rb.data(), b.weights.layers[0].down, 3);
  ops::weight_row(re.data(), exact.weights.layers[0].down, 3);
  for (size_t k = 0; k < rb.size(); ++k) ASSERT_EQ(rb[k], bf16_to_fp32(fp32_to_bf16(re[k]))) << k;
  EXPECT_EQ(b.weights.final_norm[0], exact.weights.final_norm[0]);  // norms stay fp32

  SafetensorsFile golden(kCase / "golden.safetensors");
  TrainOptions bf16_step;
  bf16_step.bf16 = true;
  const auto gb = gradients(b, golden, bf16_step), gf = gradients(dequantised_copy(b), golden, bf16_step);
  EXPECT_LT(worst_relative(gb, gf), 1e-5);
}

}  // namespace
}  // namespace scitune
