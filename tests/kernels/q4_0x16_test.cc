// The 16-row interleaved Q4_0 kernel against the exact value it computes: dequantised weights · dequantised Q8_0
// activations, summed in double (only float summation order may differ); the repack itself is lossless.
#include "kernels/cpu/q4_0x16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/matvec_vnni.h"
#include "kernels/q8_activation_reference.h"
#include "quant/quants.h"

namespace scitune {
namespace {

struct Case {
  int64_t N, K;
  std::vector<uint8_t> rows, packed;
};

Case make_case(int64_t N, int64_t K, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(N * K);
  for (auto& v : w) v = 0.05f * dist(rng);
  Case c{N, K, {}, {}};
  const size_t rb = ggml_row_size(GgmlType::Q4_0, K);
  c.rows.resize(rb * N);
  for (int64_t r = 0; r < N; ++r) quantize_row(GgmlType::Q4_0, w.data() + r * K, c.rows.data() + r * rb, K);
  c.packed.resize(c.rows.size());
  ops::pack_q4_0x16(c.packed.data(), c.rows.data(), N, K);
  return c;
}

TEST(Q4_0x16, RepackIsLossless) {
  const Case c = make_case(32, 320, 3);
  EXPECT_NE(c.packed, c.rows);
  std::vector<uint8_t> back(c.rows.size());
  ops::unpack_q4_0x16(back.data(), c.packed.data(), c.N, c.K);
  EXPECT_EQ(back, c.rows);
  EXPECT_TRUE(ops::q4_0x16_fits(1152, 6912));
  EXPECT_FALSE(ops::q4_0x16_fits(24, 64));
  EXPECT_FALSE(ops::q4_0x16_fits(16, 48));
}

TEST(Q4_0x16, MatchesDequantisedDotInDouble) {
  if (!ops::q4_0x16_available()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  const int64_t N = 48, K = 768;
  const Case c = make_case(N, K, 7);
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t T : {1, 3, 8, 11, 21}) {  // every tile size, a full tile plus remainders
    std::vector<float> x(T * K);
    for (auto& v : x) v = dist(rng);
    ops::ActivationQ8 act;
    act.quantize(x.data(), T, K);
    const int64_t ldy = N + 5;  // outputs strided, as when one product fills part of a wider row
    std::vector<float> y(T * ldy, 1.0f);
    ops::q4_0x16_matmul(y.data(), ldy, act, 0, T, c.packed.data(), K, 0, N / 16, /*accumulate=*/true);
    std::vector<float> wrow(K);
    const size_t rb = ggml_row_size(GgmlType::Q4_0, K);
    for (int64_t r = 0; r < N; ++r) {
      dequantize_row(GgmlType::Q4_0, c.rows.data() + r * rb, wrow.data(), K);
      for (int64_t t = 0; t < T; ++t) {
        const testing::ExactDot want = testing::exact_q8_dot(wrow, act, t);
        ASSERT_NEAR(y[t * ldy + r], 1.0 + want.value, 1e-5 * want.magnitude + 1e-6)
            << "T " << T << " row " << r << " t " << t;
      }
      for (int64_t t = 0; t < T; ++t)
        for (int64_t r2 = N; r2 < ldy; ++r2) ASSERT_EQ(y[t * ldy + r2], 1.0f) << "wrote outside its rows";
    }
    // Split by groups and by activation rows: the same numbers, and overwrite (not accumulate) works.
    std::vector<float> parts(T * ldy, 1.0f);
    for (int64_t g = 0; g < N / 16; ++g)
      for (int64_t t = 0; t < T; t += 2)
        ops::q4_0x16_matmul(parts.data(), ldy, act, t, std::min(T, t + 2), c.packed.data(), K, g, g + 1, false);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t r = 0; r < N; ++r) ASSERT_FLOAT_EQ(parts[t * ldy + r] + 1.0f, y[t * ldy + r]);
  }
}

}  // namespace
}  // namespace scitune
