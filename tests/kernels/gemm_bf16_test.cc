// bf16 GEMM (oneDNN) against a double-precision product of the same bf16-rounded inputs, in every layout the
// training code uses; and the bf16 paths of linear / its input gradient against fp32 within bf16 rounding.
#include "kernels/cpu/gemm_bf16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/linear.h"
#include "quant/quants.h"
#include "test_util.h"
#include "util/half.h"

namespace scitune {
namespace {

using testing::randn;  // scale 1: N(0, 1) over std::mt19937, as before

TEST(GemmBf16, MatchesDoubleProductOfRoundedInputs) {
  if (!ops::bf16_gemm_available()) GTEST_SKIP() << "no AVX512-BF16";
  const int64_t M = 37, N = 53, K = 70;
  for (bool trans_b : {true, false}) {
    for (bool acc : {false, true}) {
      auto a = randn(M * K, 1), b = randn(N * K, 2);
      std::vector<uint16_t> ab(M * K), bb(N * K);
      ops::to_bf16(ab.data(), a.data(), M * K);
      ops::to_bf16(bb.data(), b.data(), N * K);
      const int64_t ldc = N + 5;
      std::vector<float> c(M * ldc, 0.5f);
      ops::gemm_bf16(c.data(), ldc, ab.data(), K, bb.data(), trans_b ? K : N, M, N, K, trans_b, acc);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double want = acc ? 0.5 : 0.0, mag = 0;
          for (int64_t k = 0; k < K; ++k) {
            const double bv = bf16_to_fp32(trans_b ? bb[j * K + k] : bb[k * N + j]);
            want += bf16_to_fp32(ab[i * K + k]) * bv;
            mag += std::fabs(bf16_to_fp32(ab[i * K + k]) * bv);
          }
          ASSERT_NEAR(c[i * ldc + j], want, 1e-5 * mag + 1e-6) << i << "," << j << " trans_b " << trans_b;
        }
      EXPECT_EQ(c[N], 0.5f) << "the padding beyond N in each row is untouched";
    }
  }
}

TEST(GemmBf16, VectorRoundingEqualsTheScalarOneOnEveryKindOfValue) {
  std::vector<float> x = randn(100003, 9);  // not a multiple of any vector width
  const uint32_t special[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu, 0xff7fffffu,
                              0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x3f808000u,
                              0x3f818000u, 0x3f80ffffu, 0x477fffffu, 0x7f7f8000u};
  for (size_t i = 0; i < std::size(special); ++i) x[i * 997] = f32_from_bits(special[i]);
  std::vector<uint16_t> fast(x.size());
  ops::to_bf16(fast.data(), x.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(fast[i], fp32_to_bf16(x[i])) << i << " bits " << f32_bits(x[i]);
}

TEST(GemmBf16, LinearPathsStayWithinBf16Rounding) {
  if (!ops::bf16_gemm_available()) GTEST_SKIP() << "no AVX512-BF16";
  const int64_t K = 256, N = 90, T = 20;
  auto wv = randn(N * K, 3), x = randn(T * K, 4), dy = randn(T * N, 5);
  std::vector<uint8_t> q(ggml_row_size(GgmlType::Q8_0, K) * N);
  for (int64_t r = 0; r < N; ++r)
    quantize_row(GgmlType::Q8_0, wv.data() + r * K, q.data() + r * ggml_row_size(GgmlType::Q8_0, K), K);
  std::vector<uint16_t> wb(wv.size());  // bf16 storage, read in place as one product
  for (size_t i = 0; i < wv.size(); ++i) wb[i] = fp32_to_bf16(wv[i]);
  for (const WeightMatrix& w : {WeightMatrix::f32(wv.data(), N, K), WeightMatrix{GgmlType::Q8_0, q.data(), N, K},
                                WeightMatrix{GgmlType::BF16, reinterpret_cast<const uint8_t*>(wb.data()), N, K}}) {
    std::vector<float> y(T * N), yr(T * N), dx(T * K), dxr(T * K);
    ops::linear(y.data(), x.data(), w, T, false, ops::Precision::kBf16);
    ops::linear(yr.data(), x.data(), w, T, false, ops::Precision::kF32);
    ops::linear_backward_input(dx.data(), dy.data(), w, T, false, ops::Precision::kBf16);
    ops::linear_backward_input(dxr.data(), dy.data(), w, T, false, ops::Precision::kF32);
    double ey = 0, my = 0, ex = 0, mx = 0;
    for (size_t i = 0; i < y.size(); ++i) ey = std::max(ey, double(std::fabs(y[i] - yr[i]))), my = std::max(my, double(std::fabs(yr[i])));
    for (size_t i = 0; i < dx.size(); ++i) ex = std::max(ex, double(std::fabs(dx[i] - dxr[i]))), mx = std::max(mx, double(std::fabs(dxr[i])));
    EXPECT_LT(ey / my, 2e-2);
    EXPECT_LT(ex / mx, 2e-2);
    EXPECT_GT(ey, 0.0) << "the bf16 path really ran";
  }
}

}  // namespace
}  // namespace scitune
