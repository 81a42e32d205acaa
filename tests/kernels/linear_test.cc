// Linear layers over stored weight types against the dequantise-everything reference, on both paths
// (vec_dot for few rows, dequantised panels + sgemm for many) and for the input gradient.
#include "kernels/cpu/linear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/matvec_vnni.h"
#include "kernels/cpu/q4_0x16.h"
#include "quant/nf4.h"
#include "quant/quants.h"
#include "test_util.h"

namespace scitune {
namespace {

using testing::randn;
using testing::rel_err;

struct Stored {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
};

Stored quantise(GgmlType t, const std::vector<float>& values, int64_t rows, int64_t cols) {
  Stored s;
  const size_t rb = ggml_row_size(t, static_cast<uint64_t>(cols));
  s.bytes.resize(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) quantize_row(t, values.data() + r * cols, s.bytes.data() + r * rb, cols);
  s.w = {t, s.bytes.data(), rows, cols};
  return s;
}

// The activation quantisation of the vec_dot path costs accuracy like llama.cpp's; the panel path is fp32.
double tolerance(GgmlType t, int64_t T) {
  if (T >= ops::kLinearGemmRows || t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16) return 2e-5;
  return 2e-2;
}

class LinearTypes : public ::testing::TestWithParam<GgmlType> {};

TEST_P(LinearTypes, MatchesDequantisedReferenceOnBothPaths) {
  const GgmlType t = GetParam();
  const int64_t K = 512, N = 77;
  Stored s = quantise(t, randn(N * K, 1, 0.05f), N, K);
  for (int64_t T : {int64_t{1}, int64_t{3}, ops::kLinearGemmRows, int64_t{37}}) {
    auto x = randn(T * K, 2 + T);
    std::vector<float> y(T * N, 0.25f), yr(T * N, 0.25f);
    ops::linear(y.data(), x.data(), s.w, T, /*accumulate=*/true);
    ops::ref::linear(yr.data(), x.data(), s.w, T, true);
    EXPECT_LT(rel_err(y, yr), tolerance(t, T)) << ggml_info(t).name << " T=" << T;
  }
}

TEST_P(LinearTypes, InputGradientIsTheTransposedProduct) {
  const GgmlType t = GetParam();
  const int64_t K = 256, N = 45, T = 6;
  auto values = randn(N * K, 3, 0.05f);
  Stored s = quantise(t, values, N, K);
  std::vector<float> deq(N * K);
  for (int64_t r = 0; r < N; ++r) ops::weight_row(deq.data() + r * K, s.w, r);
  auto dy = randn(T * N, 4);
  std::vector<float> dx(T * K, 1.0f), want(T * K, 1.0f);
  ops::linear_backward_input(dx.data(), dy.data(), s.w, T, /*accumulate=*/true);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t k = 0; k < K; ++k) {
      double acc = want[i * K + k];
      for (int64_t n = 0; n < N; ++n) acc += static_cast<double>(dy[i * N + n]) * deq[n * K + k];
      want[i * K + k] = static_cast<float>(acc);
    }
  EXPECT_LT(rel_err(dx, want), 2e-5) << ggml_info(t).name;
}

INSTANTIATE_TEST_SUITE_P(Types, LinearTypes,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0,
                                           GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                           GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K),
                         [](const auto& info) { return std::string(ggml_info(info.param).name); });

// q/k/v (and gate/up) through one call: the same numbers as one linear() per weight, bit for bit, whether the
// weights mix VNNI types (one fused job) or include a type that takes the other paths.
TEST(Linear, MultiEqualsOneCallPerWeight) {
  const int64_t K = 256;
  Stored q = quantise(GgmlType::Q4_0, randn(40 * K, 11, 0.05f), 40, K);
  Stored k = quantise(GgmlType::Q8_0, randn(9 * K, 12, 0.05f), 9, K);
  Stored v = quantise(GgmlType::Q6_K, randn(13 * K, 13, 0.05f), 13, K);
  Stored f = quantise(GgmlType::F16, randn(7 * K, 14, 0.05f), 7, K);
  for (bool with_f16 : {false, true})
    for (int64_t T : {int64_t{1}, int64_t{3}, int64_t{12}}) {
      const auto x = randn(T * K, 15 + T);
      const WeightMatrix& third = with_f16 ? f.w : v.w;
      std::vector<float> y0(T * q.w.rows, NAN), y1(T * k.w.rows, NAN), y2(T * third.rows, NAN);
      ops::linear_multi({{y0.data(), &q.w}, {y1.data(), &k.w}, {y2.data(), &third}}, x.data(), T);
      std::vector<float> r0(y0.size()), r1(y1.size()), r2(y2.size());
      ops::linear(r0.data(), x.data(), q.w, T);
      ops::linear(r1.data(), x.data(), k.w, T);
      ops::linear(r2.data(), x.data(), third, T);
      EXPECT_EQ(y0, r0) << "T=" << T << " f16=" << with_f16;
      EXPECT_EQ(y1, r1) << "T=" << T << " f16=" << with_f16;
      EXPECT_EQ(y2, r2) << "T=" << T << " f16=" << with_f16;
    }
}

// A Q4_0 weight with its 16-row repack (as LoadOptions::inference_layout makes it): decoding reads the repack and gives the
// row kernel's values up to float order; with Precision::kQ8 many rows go the same integer way (each row the same
// number as when it comes alone, as a decoding step), and without it the exact fp32 panel path is untouched.
TEST(Linear, RepackedQ4_0OnEveryPath) {
  if (!ops::q4_0x16_available()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  const int64_t K = 384, N = 48;
  Stored plain = quantise(GgmlType::Q4_0, randn(N * K, 21, 0.05f), N, K);
  std::vector<uint8_t> packed(plain.bytes.size());
  ops::pack_q4_0x16(packed.data(), plain.bytes.data(), N, K);
  WeightMatrix w = plain.w;
  w.q4_0x16 = packed.data();
  for (int64_t T : {int64_t{1}, int64_t{5}, int64_t{21}}) {
    const auto x = randn(T * K, 22 + T);
    std::vector<float> exact(T * N), q8(T * N), f32(T * N), row_kernel(T * N), one(N);
    ops::ref::linear(exact.data(), x.data(), plain.w, T, false);
    ops::linear(q8.data(), x.data(), w, T, false, ops::Precision::kQ8);
    ops::linear(f32.data(), x.data(), w, T, false, ops::Precision::kF32);
    EXPECT_LT(rel_err(q8, exact), 2e-2) << "T=" << T;  // Q8_0 activations, as decoding
    for (int64_t t = 0; t < T; ++t) {  // each row as a decoding step of its own: the same number
      ops::linear(one.data(), x.data() + t * K, w, 1);
      for (int64_t r = 0; r < N; ++r) ASSERT_EQ(q8[t * N + r], one[r]) << "T=" << T << " t=" << t << " r=" << r;
      ops::linear(row_kernel.data() + t * N, x.data() + t * K, plain.w, 1);  // unpacked: the row kernel
    }
    EXPECT_LT(rel_err(q8, row_kernel), 1e-5) << "T=" << T;
    if (T >= ops::kLinearGemmRows) {
      std::vector<float> panel(T * N);
      ops::linear(panel.data(), x.data(), plain.w, T);
      EXPECT_EQ(f32, panel) << "kF32 ignores the repack";
      EXPECT_LT(rel_err(f32, exact), 2e-5);
    }
    // q/k/v as one job over repacked and plain weights: what one call per weight gives.
    std::vector<float> m0(T * N), m1(T * N), m2(T * N);
    ops::linear_multi({{m0.data(), &w}, {m1.data(), &w}, {m2.data(), &plain.w}}, x.data(), T, ops::Precision::kQ8);
    std::vector<float> p2(T * N);
    ops::linear(p2.data(), x.data(), plain.w, T, false, ops::Precision::kQ8);
    EXPECT_EQ(m0, q8);
    EXPECT_EQ(m1, q8);
    EXPECT_EQ(m2, p2);
  }
}

// Short generation prompts (Precision::kQ8, under kQ8RowKernelMaxRows rows) on the other VNNI types run the decoding
// kernel: each row the number a decoding step gives; from kQ8RowKernelMaxRows rows on, the exact panel path.
TEST(Linear, ShortQ8PromptsUseTheDecodingKernel) {
  const int64_t K = 256, N = 24;
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    if (!ops::vnni_matvec_available(t)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
    Stored s = quantise(t, randn(N * K, 31, 0.05f), N, K);
    for (int64_t T : {int64_t{12}, ops::kQ8RowKernelMaxRows}) {
      const auto x = randn(T * K, 32 + T);
      std::vector<float> y(T * N), one(N), f32(T * N);
      ops::linear(y.data(), x.data(), s.w, T, false, ops::Precision::kQ8);
      ops::linear(f32.data(), x.data(), s.w, T);
      bool all_equal = true;
      for (int64_t i = 0; i < T; ++i) {
        ops::linear(one.data(), x.data() + i * K, s.w, 1);
        for (int64_t r = 0; r < N; ++r) all_equal = all_equal && y[i * N + r] == one[r];
      }
      EXPECT_EQ(all_equal, T < ops::kQ8RowKernelMaxRows) << ggml_info(t).name << " T=" << T;
      EXPECT_EQ(y == f32, T >= ops::kQ8RowKernelMaxRows) << ggml_info(t).name << " T=" << T;
    }
  }
}

TEST(Linear, PanelsCoverManyRowsAndTallMatrices) {
  // More rows than one dequantised panel holds, so the panel loop runs several times.
  const int64_t K = 64, N = 20000, T = 9;
  Stored s = quantise(GgmlType::Q8_0, randn(N * K, 5, 0.1f), N, K);
  auto x = randn(T * K, 6);
  std::vector<float> y(T * N), yr(T * N);
  ops::linear(y.data(), x.data(), s.w, T);
  ops::ref::linear(yr.data(), x.data(), s.w, T, false);
  EXPECT_LT(rel_err(y, yr), 2e-5);
}

}  // namespace
}  // namespace scitune

namespace scitune {
namespace {

// NF4 (bitsandbytes) matrices: rows dequantised block by block equal nf4_dequantize of the whole tensor, and
// linear / its input gradient run through them for few and many rows.
TEST(Linear, Nf4MatrixRowsAndProducts) {
  const int64_t K = 192, N = 21;
  auto values = randn(N * K, 9, 0.05f);
  Nf4Quantized q = nf4_quantize(values, 64, /*double_quant=*/true);
  std::vector<float> whole(N * K);
  nf4_dequantize(q, whole);
  const WeightMatrix w{GgmlType::F32, q.packed.data(), N, K, &q};
  std::vector<float> row(K);
  for (int64_t r = 0; r < N; ++r) {
    ops::weight_row(row.data(), w, r);
    for (int64_t k = 0; k < K; ++k) ASSERT_EQ(row[k], whole[r * K + k]) << r << "," << k;
  }
  const WeightMatrix dense = WeightMatrix::f32(whole.data(), N, K);
  for (int64_t T : {int64_t{1}, int64_t{12}}) {
    auto x = randn(T * K, 10);
    std::vector<float> y(T * N), yr(T * N), dx(T * K), dxr(T * K);
    ops::linear(y.data(), x.data(), w, T);
    ops::linear(yr.data(), x.data(), dense, T);
    EXPECT_LT(rel_err(y, yr), 1e-5);
    auto dy = randn(T * N, 11);
    ops::linear_backward_input(dx.data(), dy.data(), w, T);
    ops::linear_backward_input(dxr.data(), dy.data(), dense, T);
    EXPECT_LT(rel_err(dx, dxr), 1e-5);
  }
}

}  // namespace
}  // namespace scitune
