// The VNNI mat-vec against the exact value it computes: dequantised weights · dequantised Q8_0 activations,
// summed in double. Only float summation order may differ.
#include "kernels/cpu/matvec_vnni.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/q8_activation_reference.h"
#include "quant/quants.h"

namespace scitune {
namespace {

class VnniTypes : public ::testing::TestWithParam<GgmlType> {};

TEST_P(VnniTypes, MatchesDequantisedDotInDouble) {
  const GgmlType t = GetParam();
  if (!ops::vnni_matvec_available(t)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  const int64_t K = 768, N = 19, T = 3;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(N * K), x(T * K);
  for (auto& v : w) v = 0.05f * dist(rng);
  for (auto& v : x) v = dist(rng);
  const size_t rb = ggml_row_size(t, K);
  std::vector<uint8_t> wq(rb * N);
  for (int64_t r = 0; r < N; ++r) quantize_row(t, w.data() + r * K, wq.data() + r * rb, K);
  const WeightMatrix m{t, wq.data(), N, K};
  ops::ActivationQ8 act;
  act.quantize(x.data(), T, K);
  std::vector<float> y(T * N, 1.0f);
  ops::vnni_matvec(y.data(), act, m, 0, N, /*accumulate=*/true);
  std::vector<float> wrow(K);
  for (int64_t r = 0; r < N; ++r) {
    dequantize_row(t, wq.data() + r * rb, wrow.data(), K);
    for (int64_t i = 0; i < T; ++i) {
      const testing::ExactDot want = testing::exact_q8_dot(wrow, act, i);
      EXPECT_NEAR(y[i * N + r], 1.0 + want.value, 1e-5 * want.magnitude + 1e-6)
          << ggml_info(t).name << " row " << r << " t " << i;
    }
  }
  // A row's value does not depend on the range of rows a thread was given.
  std::vector<float> one(T * N, 1.0f);
  for (int64_t r = 0; r < N; ++r) ops::vnni_matvec(one.data(), act, m, r, r + 1, /*accumulate=*/true);
  EXPECT_EQ(one, y);
}

INSTANTIATE_TEST_SUITE_P(Types, VnniTypes,
                         ::testing::Values(GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q4_K,
                                           GgmlType::Q6_K),
                         [](const auto& info) { return std::string(ggml_info(info.param).name); });

}  // namespace
}  // namespace scitune
