// The Highway kernels against the scalar reference, for every target compiled into this binary and supported
// by the CPU (AVX3, AVX2, SSE4, SSSE3 and the scalar fallback on an AVX-512 machine). Everything is bitwise
// equal except F16/BF16 x F32 dot products (float lanes vs ref's double accumulation), which get a rounding
// bound: |simd - ref| <= 2 n 2^-24 sum|w a|.
#include "quant/quants_simd.h"

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "golden_util.h"
#include "quant/quants.h"
#include "quant/test_data.h"
#include "util/half.h"

namespace scitune::quant {
namespace {

constexpr uint64_t kSeed = 0xABCDEF0123456789ull;
const GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                              GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q4_K,
                              GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K};
const GgmlType kDotTypes[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q4_1,
                              GgmlType::Q5_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

std::string name(GgmlType t) { return std::string(ggml_info(t).name); }

// Rows of every generator kind, 512 values each.
std::vector<float> test_rows(int rows, int64_t n, uint64_t seed) {
  std::vector<float> x(static_cast<size_t>(rows * n));
  for (int r = 0; r < rows; ++r) testdata::make_row(seed, static_cast<uint64_t>(r), x.data() + r * n, n);
  return x;
}

// Random bytes, with the fp16 scale fields forced finite every other block so both regimes are covered.
std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(testdata::splitmix(seed, 7, i) >> 56);
  return b;
}

class PerTarget : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { hwy::SetSupportedTargetsForTest(GetParam()); }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

std::string target_name(const ::testing::TestParamInfo<int64_t>& info) { return hwy::TargetName(info.param); }

TEST_P(PerTarget, DequantizeIsBitExact) {
  const int64_t n = 1024;
  for (GgmlType t : kAllTypes) {
    // Real blocks (quantised test rows) and arbitrary bytes (any scale, NaN and Inf included).
    const auto x = test_rows(testdata::kNumKinds, n, kSeed);
    std::vector<uint8_t> q(ggml_row_size(t, static_cast<uint64_t>(x.size())));
    ref::quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
    const std::vector<uint8_t> noise = random_bytes(q.size(), kSeed + static_cast<uint64_t>(t));
    for (const std::vector<uint8_t>* src : std::initializer_list<const std::vector<uint8_t>*>{&q, &noise}) {
      const auto count = static_cast<int64_t>(x.size());
      std::vector<float> a(x.size()), b(x.size());
      simd::dequantize_row(t, src->data(), a.data(), count);
      ref::dequantize_row(t, src->data(), b.data(), count);
      for (size_t i = 0; i < a.size(); ++i)
        ASSERT_TRUE(golden::same_float(a[i], b[i])) << name(t) << (src == &q ? " quantised rows" : " random bytes")
                                                    << ", value " << i << ": " << a[i] << " vs ref " << b[i];
    }
  }
}

TEST_P(PerTarget, ActivationQuantizeIsBitExact) {
  const auto x = test_rows(3 * testdata::kNumKinds, 512, kSeed + 1);
  const auto count = static_cast<int64_t>(x.size());
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q8_K}) {
    std::vector<uint8_t> a(ggml_row_size(t, x.size())), b(a.size());
    simd::quantize_row_q8(t, x.data(), a.data(), count);
    ref::quantize_row(t, x.data(), b.data(), count);
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(a[i], b[i]) << name(t) << " byte " << i << " (block " << i / ggml_info(t).type_size << ")";
  }
}

TEST_P(PerTarget, QuantizedDotProductsAreBitExact) {
  const int64_t n = 2048;
  const auto w = test_rows(testdata::kNumKinds, n, kSeed + 2);
  const auto act = test_rows(testdata::kNumKinds, n, kSeed + 3);
  for (GgmlType t : kDotTypes) {
    const GgmlType at = vec_dot_activation_type(t);
    for (int r = 0; r < testdata::kNumKinds; ++r) {
      std::vector<uint8_t> qw(ggml_row_size(t, n)), qa(ggml_row_size(at, n));
      ref::quantize_row(t, w.data() + r * n, qw.data(), n);
      ref::quantize_row(at, act.data() + ((r * 5 + 3) % testdata::kNumKinds) * n, qa.data(), n);
      const float s = simd::vec_dot(t, qw.data(), qa.data(), n), want = ref::vec_dot(t, qw.data(), qa.data(), n);
      ASSERT_TRUE(golden::same_float(s, want)) << name(t) << " row kind " << r << ": " << s << " vs ref " << want;
    }
    // Arbitrary weight bytes (all nibble/scale patterns) against a real activation row.
    const auto wb = random_bytes(ggml_row_size(t, n), kSeed + 4 + static_cast<uint64_t>(t));
    std::vector<uint8_t> qa(ggml_row_size(at, n));
    ref::quantize_row(at, act.data(), qa.data(), n);
    const float s = simd::vec_dot(t, wb.data(), qa.data(), n), want = ref::vec_dot(t, wb.data(), qa.data(), n);
    EXPECT_TRUE(golden::same_float(s, want)) << name(t) << " random weights: " << s << " vs ref " << want;
  }
}

TEST_P(PerTarget, HalfDotProductsWithinRoundingBound) {
  for (int64_t n : {1, 7, 31, 256, 1000, 4099}) {
    const auto w = test_rows(1, n, kSeed + 5);
    const auto a = test_rows(2, n, kSeed + 6);
    for (GgmlType t : {GgmlType::F16, GgmlType::BF16}) {
      std::vector<uint16_t> qw(static_cast<size_t>(n));
      ref::quantize_row(t, w.data(), qw.data(), n);
      const float* act = a.data() + n;  // row kind 1: uniform
      double bound = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float wf = t == GgmlType::F16 ? fp16_to_fp32(qw[i]) : bf16_to_fp32(qw[i]);
        bound += std::fabs(static_cast<double>(wf) * act[i]);
      }
      bound *= 2.0 * static_cast<double>(n) * std::ldexp(1.0, -24);
      const float s = simd::vec_dot(t, qw.data(), act, n), want = ref::vec_dot(t, qw.data(), act, n);
      EXPECT_LE(std::fabs(static_cast<double>(s) - want), bound + 1e-30) << name(t) << " n=" << n;
    }
  }
}

TEST_P(PerTarget, FirstNonFinite) {
  std::vector<float> x(100, 1.0f);
  EXPECT_EQ(simd::first_non_finite(x.data(), 100), -1);
  EXPECT_EQ(simd::first_non_finite(x.data(), 0), -1);
  for (int64_t pos : {0, 5, 17, 63, 99}) {
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      std::vector<float> y = x;
      y[pos] = bad;
      y[99] = pos == 99 ? bad : -INFINITY;  // a later one must not win
      EXPECT_EQ(simd::first_non_finite(y.data(), 100), pos);
    }
  }
  x[50] = 3.4e38f;  // the largest finite values are fine
  EXPECT_EQ(simd::first_non_finite(x.data(), 100), -1);
}

INSTANTIATE_TEST_SUITE_P(Targets, PerTarget, ::testing::ValuesIn(hwy::SupportedAndGeneratedTargets()), target_name);

TEST(SimdTargets, BestTargetIsCompiledIn) {
  // The binary is built without -march flags; dispatch must still find the machine's best vector unit.
  const auto targets = hwy::SupportedAndGeneratedTargets();
  ASSERT_FALSE(targets.empty());
  EXPECT_GE(targets.size(), 2u) << "only " << hwy::TargetName(targets[0]) << " is available";
}

}  // namespace
}  // namespace scitune::quant
