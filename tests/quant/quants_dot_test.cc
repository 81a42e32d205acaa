// Dot products through the public API: exact integer results with unit scales (so the block decoding is
// checked independently of quant::ref), agreement with dequantise-then-dot, and the activation-type contract.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "quant/quants.h"
#include "quant/test_data.h"
#include "util/error.h"
#include "util/half.h"

namespace scitune::quant {
namespace {

const GgmlType kDotTypes[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q4_1, GgmlType::Q5_1,
                              GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::F16,  GgmlType::BF16};

uint64_t rnd(uint64_t i) { return testdata::splitmix(0xD07, 3, i); }
int small(uint64_t i, int lo, int hi) { return lo + static_cast<int>(rnd(i) % static_cast<uint64_t>(hi - lo + 1)); }

TEST(VecDot, ActivationTypes) {
  EXPECT_EQ(vec_dot_activation_type(GgmlType::Q8_0), GgmlType::Q8_0);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::Q4_0), GgmlType::Q8_0);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::Q5_0), GgmlType::Q8_0);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::Q4_1), GgmlType::Q8_1);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::Q5_1), GgmlType::Q8_1);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::Q4_K), GgmlType::Q8_K);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::Q5_K), GgmlType::Q8_K);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::Q6_K), GgmlType::Q8_K);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::F16), GgmlType::F32);
  EXPECT_EQ(vec_dot_activation_type(GgmlType::BF16), GgmlType::F32);
  for (GgmlType t : {GgmlType::F32, GgmlType::Q8_1, GgmlType::Q8_K, GgmlType::Q2_K, GgmlType::I8}) {
    EXPECT_FALSE(vec_dot_supported(t));
    EXPECT_THROW(vec_dot_activation_type(t), InternalError);
    EXPECT_THROW(vec_dot(t, nullptr, nullptr, 0), InternalError);
  }
}

TEST(VecDot, RejectsPartialBlocks) {
  std::vector<uint8_t> w(1024), a(1024);
  EXPECT_THROW(vec_dot(GgmlType::Q8_0, w.data(), a.data(), 48), InternalError);
  EXPECT_THROW(vec_dot(GgmlType::Q4_K, w.data(), a.data(), 128), InternalError);
  EXPECT_THROW(vec_dot(GgmlType::Q8_0, w.data(), a.data(), -32), InternalError);
  EXPECT_EQ(vec_dot(GgmlType::Q8_0, w.data(), a.data(), 0), 0.0f);
}

// Unit scales make every float operation exact, so the result must be the integer dot product itself.
TEST(VecDot, LegacyBlocksGiveExactIntegerSums) {
  constexpr int kBlocks = 8;
  const uint16_t one = fp32_to_fp16(1.0f);
  std::vector<BlockQ8_0> a0(kBlocks);
  std::vector<BlockQ8_1> a1(kBlocks);
  std::vector<BlockQ8_0> w8(kBlocks);
  std::vector<BlockQ4_0> w40(kBlocks);
  std::vector<BlockQ4_1> w41(kBlocks);
  std::vector<BlockQ5_0> w50(kBlocks);
  std::vector<BlockQ5_1> w51(kBlocks);
  int64_t want8 = 0, want40 = 0, want41 = 0, want50 = 0, want51 = 0;
  uint64_t c = 0;
  for (int b = 0; b < kBlocks; ++b) {
    a0[b].d = a1[b].d = w8[b].d = w40[b].d = w41[b].d = w50[b].d = w51[b].d = one;
    w41[b].m = w51[b].m = fp32_to_fp16(static_cast<float>(small(c++, -3, 3)));
    uint32_t qh50 = 0, qh51 = 0;
    int asum = 0;
    for (int j = 0; j < 32; ++j) {
      const int act = small(c++, -8, 8);  // keeps Q8_1's s = sum exact in fp16
      a0[b].qs[j] = a1[b].qs[j] = static_cast<int8_t>(act);
      asum += act;
      const int q8 = small(c++, -127, 127);
      w8[b].qs[j] = static_cast<int8_t>(q8);
      want8 += q8 * act;
      const int q4 = small(c++, 0, 15), q5 = small(c++, 0, 31);
      want40 += (q4 - 8) * act;
      want41 += q4 * act;
      want50 += (q5 - 16) * act;
      want51 += q5 * act;
      const int byte = j % 16, shift = j < 16 ? 0 : 4;
      if (j < 16) w40[b].qs[byte] = w41[b].qs[byte] = w50[b].qs[byte] = w51[b].qs[byte] = 0;
      w40[b].qs[byte] |= static_cast<uint8_t>(q4 << shift);
      w41[b].qs[byte] |= static_cast<uint8_t>(q4 << shift);
      w50[b].qs[byte] |= static_cast<uint8_t>((q5 & 0xF) << shift);
      w51[b].qs[byte] |= static_cast<uint8_t>((q5 & 0xF) << shift);
      qh50 |= static_cast<uint32_t>(q5 >> 4) << j;
      qh51 |= static_cast<uint32_t>(q5 >> 4) << j;
    }
    std::memcpy(w50[b].qh, &qh50, 4);
    std::memcpy(w51[b].qh, &qh51, 4);
    a1[b].s = fp32_to_fp16(static_cast<float>(asum));
    want41 += static_cast<int64_t>(fp16_to_fp32(w41[b].m)) * asum;
    want51 += static_cast<int64_t>(fp16_to_fp32(w51[b].m)) * asum;
  }
  const int64_t n = 32 * kBlocks;
  EXPECT_EQ(vec_dot(GgmlType::Q8_0, w8.data(), a0.data(), n), static_cast<float>(want8));
  EXPECT_EQ(vec_dot(GgmlType::Q4_0, w40.data(), a0.data(), n), static_cast<float>(want40));
  EXPECT_EQ(vec_dot(GgmlType::Q5_0, w50.data(), a0.data(), n), static_cast<float>(want50));
  EXPECT_EQ(vec_dot(GgmlType::Q4_1, w41.data(), a1.data(), n), static_cast<float>(want41));
  EXPECT_EQ(vec_dot(GgmlType::Q5_1, w51.data(), a1.data(), n), static_cast<float>(want51));
}

TEST(VecDot, KQuantBlocksGiveExactIntegerSums) {
  constexpr int kBlocks = 3;
  const uint16_t one = fp32_to_fp16(1.0f);
  std::vector<BlockQ8_K> a(kBlocks);
  std::vector<BlockQ4_K> w4(kBlocks);
  std::vector<BlockQ5_K> w5(kBlocks);
  std::vector<BlockQ6_K> w6(kBlocks);
  int64_t want4 = 0, want5 = 0, want6 = 0;
  uint64_t c = 1000;
  for (int b = 0; b < kBlocks; ++b) {
    a[b].d = 1.0f;
    for (int j = 0; j < 256; ++j) a[b].qs[j] = static_cast<int8_t>(small(c++, -3, 3));
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int k = 0; k < 16; ++k) s += a[b].qs[16 * g + k];
      a[b].bsums[g] = static_cast<int16_t>(s);
    }
    w4[b].d = w4[b].dmin = w5[b].d = w5[b].dmin = w6[b].d = one;
    for (int k = 0; k < 12; ++k) w4[b].scales[k] = w5[b].scales[k] = static_cast<uint8_t>(rnd(c++));
    for (int k = 0; k < 128; ++k) w4[b].qs[k] = w5[b].qs[k] = static_cast<uint8_t>(rnd(c++));
    for (int k = 0; k < 32; ++k) w5[b].qh[k] = static_cast<uint8_t>(rnd(c++));
    for (int k = 0; k < 128; ++k) w6[b].ql[k] = static_cast<uint8_t>(rnd(c++));
    for (int k = 0; k < 64; ++k) w6[b].qh[k] = static_cast<uint8_t>(rnd(c++));
    for (int k = 0; k < 16; ++k) w6[b].scales[k] = static_cast<int8_t>(rnd(c++));
    // Expected values straight from the spec's bit layouts (section 5.4).
    for (int e = 0; e < 256; ++e) {
      const int j = e / 32, chunk = e / 64, l = e % 32, hi_nibble = (e / 32) % 2;
      uint8_t sc, m;
      k_scale_min(j, w4[b].scales, &sc, &m);
      const uint8_t byte = w4[b].qs[32 * chunk + l];
      const int q4 = hi_nibble ? byte >> 4 : byte & 0xF;
      const int q5 = q4 + (((w5[b].qh[l] >> (2 * chunk + hi_nibble)) & 1) << 4);
      want4 += (static_cast<int64_t>(sc) * q4 - m) * a[b].qs[e];
      want5 += (static_cast<int64_t>(sc) * q5 - m) * a[b].qs[e];
      const int half = e / 128, c6 = (e % 128) / 32;
      const uint8_t ql = w6[b].ql[64 * half + l + 32 * (c6 % 2)];
      const int v6 = ((c6 < 2 ? ql & 0xF : ql >> 4) | (((w6[b].qh[32 * half + l] >> (2 * c6)) & 3) << 4)) - 32;
      want6 += static_cast<int64_t>(w6[b].scales[e / 16]) * v6 * a[b].qs[e];
    }
  }
  const int64_t n = 256 * kBlocks;
  EXPECT_EQ(vec_dot(GgmlType::Q4_K, w4.data(), a.data(), n), static_cast<float>(want4));
  EXPECT_EQ(vec_dot(GgmlType::Q5_K, w5.data(), a.data(), n), static_cast<float>(want5));
  EXPECT_EQ(vec_dot(GgmlType::Q6_K, w6.data(), a.data(), n), static_cast<float>(want6));
}

// Against dequantise-then-dot in double: the quantised dot only rounds the per-block scale products and the
// running float sum, so it must agree to ~1e-5 of the sum of |terms| (a wrong nibble or scale is O(1)).
TEST(VecDot, MatchesDequantizedDot) {
  const int64_t n = 4096;
  std::vector<float> w(n), x(n);
  for (int trial = 0; trial < 6; ++trial) {
    const int wk[] = {0, 1, 7, 8, 10, 13}, ak[] = {1, 0, 8, 10, 7, 0};
    testdata::make_row(11, static_cast<uint64_t>(trial), wk[trial], w.data(), n);
    testdata::make_row(12, static_cast<uint64_t>(trial), ak[trial], x.data(), n);
    for (GgmlType t : kDotTypes) {
      const GgmlType at = vec_dot_activation_type(t);
      std::vector<uint8_t> qw(ggml_row_size(t, n)), qa(ggml_row_size(at, n));
      quantize_row(t, w.data(), qw.data(), n);
      quantize_row(at, x.data(), qa.data(), n);
      std::vector<float> dw(n), da(n);
      dequantize_row(t, qw.data(), dw.data(), n);
      dequantize_row(at, qa.data(), da.data(), n);
      // Scale for the rounding: K-quant min terms can each be as large as the row's largest weight.
      double want = 0, mag = 0, wmax = 0;
      for (int64_t i = 0; i < n; ++i) wmax = std::max(wmax, std::fabs(static_cast<double>(dw[i])));
      for (int64_t i = 0; i < n; ++i) {
        want += static_cast<double>(dw[i]) * da[i];
        mag += std::fabs(static_cast<double>(da[i])) * (std::fabs(dw[i]) + wmax);
      }
      const double got = vec_dot(t, qw.data(), qa.data(), n);
      EXPECT_NEAR(got, want, 2e-5 * mag + 1e-30) << ggml_info(t).name << " trial " << trial;
    }
  }
}

}  // namespace
}  // namespace scitune::quant
