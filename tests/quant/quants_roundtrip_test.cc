// Contract of quantize_row / dequantize_row: preconditions, NaN/Inf policy, zeros, and round-trip error bounds
// per type (derived from each format's rounding rule, with the fp16 rounding of the stored scales).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "quant/quants.h"
#include "quant/test_data.h"
#include "util/error.h"
#include "util/half.h"

namespace scitune::quant {
namespace {

const GgmlType kBlockTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                GgmlType::Q8_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K};
// Row kinds with ordinary magnitudes (no subnormals, no values near FLT_MAX).
const int kPlainKinds[] = {0, 1, 3, 6, 7, 8, 10, 11, 12, 13};

std::string name(GgmlType t) { return std::string(ggml_info(t).name); }

std::vector<float> round_trip(GgmlType t, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(ggml_row_size(t, static_cast<uint64_t>(n)));
  quantize_row(t, x.data(), q.data(), n);
  std::vector<float> y(x.size());
  dequantize_row(t, q.data(), y.data(), n);
  return y;
}

TEST(QuantRow, SupportedTypes) {
  for (GgmlType t : kBlockTypes) EXPECT_TRUE(quant_row_supported(t)) << name(t);
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16}) EXPECT_TRUE(quant_row_supported(t));
  for (GgmlType t : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::I8, GgmlType::I32, GgmlType::F64}) {
    EXPECT_FALSE(quant_row_supported(t));
    float x[256] = {};
    uint8_t buf[2048];
    EXPECT_THROW(quantize_row(t, x, buf, 256), InternalError) << name(t);
    EXPECT_THROW(dequantize_row(t, buf, x, 256), InternalError) << name(t);
  }
}

TEST(QuantRow, RejectsRowsThatAreNotWholeBlocks) {
  std::vector<float> x(512, 1.0f);
  std::vector<uint8_t> q(4096);
  for (GgmlType t : kBlockTypes) {
    const int64_t bs = ggml_info(t).block_size;
    for (int64_t n : {bs - 1, bs + 16, int64_t{-bs}}) {
      EXPECT_THROW(quantize_row(t, x.data(), q.data(), n), InternalError) << name(t) << " n=" << n;
      EXPECT_THROW(dequantize_row(t, q.data(), x.data(), n), InternalError) << name(t) << " n=" << n;
      EXPECT_THROW(ref::quantize_row(t, x.data(), q.data(), n), InternalError) << name(t);
    }
    EXPECT_NO_THROW(quantize_row(t, x.data(), q.data(), 0));
  }
  EXPECT_NO_THROW(quantize_row(GgmlType::F16, x.data(), q.data(), 7));  // F16/BF16/F32: any length
}

TEST(QuantRow, NonFiniteInputIsAUserErrorNamingTheValue) {
  for (GgmlType t : kBlockTypes) {
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      std::vector<float> x(512, 0.5f);
      x[300] = bad;
      std::vector<uint8_t> q(ggml_row_size(t, 512));
      try {
        quantize_row(t, x.data(), q.data(), 512);
        FAIL() << name(t) << " accepted " << bad;
      } catch (const UserError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("value 300"), std::string::npos) << msg;
        EXPECT_NE(msg.find(name(t)), std::string::npos) << msg;
      }
    }
  }
  // F16/BF16 represent NaN and Inf, as ggml does.
  const float special[4] = {NAN, INFINITY, -INFINITY, 70000.0f};
  for (GgmlType t : {GgmlType::F16, GgmlType::BF16}) {
    uint16_t q[4];
    float y[4];
    quantize_row(t, special, q, 4);
    dequantize_row(t, q, y, 4);
    EXPECT_TRUE(std::isnan(y[0]));
    EXPECT_EQ(y[1], INFINITY);
    EXPECT_EQ(y[2], -INFINITY);
    EXPECT_EQ(y[3], t == GgmlType::F16 ? INFINITY : 70144.0f);  // > 65504 overflows fp16
  }
}

TEST(QuantRow, ZerosStayZeroAndEqualValuesStayClose) {
  for (GgmlType t : kBlockTypes) {
    const std::vector<float> zeros(512, 0.0f);
    for (float v : round_trip(t, zeros)) ASSERT_EQ(v, 0.0f) << name(t);
    const std::vector<float> same(512, -0.3f);
    for (float v : round_trip(t, same)) ASSERT_NEAR(v, -0.3f, 0.3f * 2e-3f) << name(t);
  }
}

// Largest |x - dequant(x)| each legacy format allows in a 32-value block, from its rounding rule:
// symmetric formats round x/d (Q4_0/Q5_0 also clamp the +8/+16 end, costing up to a full step), the min
// formats round (x - min)/d; the fp16 rounding of d and m adds up to q_max * |d - fp16(d)| + |m - fp16(m)|.
double legacy_bound(GgmlType t, const float* x) {
  float amax = 0, mx = -INFINITY, mn = INFINITY;
  for (int j = 0; j < 32; ++j) {
    amax = std::max(amax, std::fabs(x[j]));
    mx = std::max(mx, x[j]);
    mn = std::min(mn, x[j]);
  }
  auto fp16_err = [](float v) { return std::fabs(static_cast<double>(v) - fp16_to_fp32(fp32_to_fp16(v))); };
  switch (t) {
    case GgmlType::Q8_0:
    case GgmlType::Q8_1:
      return 0.5 * amax / 127 + 127 * fp16_err(amax / 127);
    case GgmlType::Q4_0:
      return amax / 8.0 + 8 * fp16_err(amax / 8);
    case GgmlType::Q5_0:
      return amax / 16.0 + 16 * fp16_err(amax / 16);
    case GgmlType::Q4_1:
      return 0.5 * (mx - mn) / 15 + 15 * fp16_err((mx - mn) / 15) + fp16_err(mn);
    case GgmlType::Q5_1:
      return 0.5 * (mx - mn) / 31 + 31 * fp16_err((mx - mn) / 31) + fp16_err(mn);
    default:
      return 0;
  }
}

TEST(QuantRow, LegacyRoundTripWithinPerBlockBound) {
  const int64_t n = 1024;
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1}) {
    for (int kind : kPlainKinds) {
      std::vector<float> x(n);
      testdata::make_row(21, static_cast<uint64_t>(kind), kind, x.data(), n);
      const auto y = round_trip(t, x);
      for (int64_t b = 0; b < n / 32; ++b) {
        const double bound = legacy_bound(t, x.data() + 32 * b) * (1 + 1e-6) + 1e-30;
        for (int j = 0; j < 32; ++j) {
          const int64_t i = 32 * b + j;
          ASSERT_LE(std::fabs(static_cast<double>(x[i]) - y[i]), bound)
              << name(t) << " kind " << kind << " value " << i << ": " << x[i] << " -> " << y[i];
        }
      }
    }
  }
}

TEST(QuantRow, Q8KRoundTripWithinHalfAStep) {
  std::vector<float> x(1024);
  for (int kind : kPlainKinds) {
    testdata::make_row(22, static_cast<uint64_t>(kind), kind, x.data(), 1024);
    std::vector<BlockQ8_K> q(4);
    quantize_row(GgmlType::Q8_K, x.data(), q.data(), 1024);
    std::vector<float> y(1024);
    dequantize_row(GgmlType::Q8_K, q.data(), y.data(), 1024);
    for (int i = 0; i < 1024; ++i)
      ASSERT_LE(std::fabs(x[i] - y[i]), 0.5 * std::fabs(q[i / 256].d) * (1 + 1e-5) + 1e-6 * std::fabs(x[i]))
          << "kind " << kind << " value " << i;
  }
}

// K-quants have no closed-form per-value bound (the scale search trades values against each other); check
// the relative RMS error on bell-shaped and uniform rows against what the formats are known to deliver
// (ggml reports ~4.5, 5.5, 6.6 bits per weight).
TEST(QuantRow, KQuantRelativeRmsError) {
  const int64_t n = 256 * 64;
  struct Case {
    GgmlType t;
    double max_rel_rms;
  };
  for (const Case c : {Case{GgmlType::Q4_K, 0.10}, Case{GgmlType::Q5_K, 0.05}, Case{GgmlType::Q6_K, 0.025}}) {
    for (int kind : {0, 1}) {
      std::vector<float> x(n);
      testdata::make_row(23, static_cast<uint64_t>(kind), kind, x.data(), n);
      const auto y = round_trip(c.t, x);
      double err = 0, ref = 0;
      for (int64_t i = 0; i < n; ++i) {
        err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
        ref += static_cast<double>(x[i]) * x[i];
      }
      const double rel = std::sqrt(err / ref);
      EXPECT_LT(rel, c.max_rel_rms) << name(c.t) << " kind " << kind;
      EXPECT_GT(rel, c.max_rel_rms / 20) << name(c.t) << " kind " << kind << ": suspiciously exact";
      RecordProperty(name(c.t) + "_kind" + std::to_string(kind) + "_rel_rms", std::to_string(rel));
    }
  }
}

TEST(QuantRow, KQuantsKeepTheOrderOfValuesWithinASubBlock) {
  // A ramp must dequantise to a non-decreasing sequence: q is monotone in x for fixed (scale, min).
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = -1.0f + static_cast<float>(i) / 128.0f;
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K}) {
    const auto y = round_trip(t, x);
    for (int i = 1; i < 256; ++i) {
      if (i % 16 != 0) {
        ASSERT_LE(y[i - 1], y[i]) << name(t) << " at " << i;
      }
    }
  }
}

}  // namespace
}  // namespace scitune::quant
