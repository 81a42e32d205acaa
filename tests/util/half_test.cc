// fp16/bf16 conversions against the hardware (F16C) and exhaustive round trips.
#include "util/half.h"

#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <limits>
#include <random>

namespace scitune {
namespace {

__attribute__((target("f16c"))) uint16_t hw_fp32_to_fp16(float f) { return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }
__attribute__((target("f16c"))) float hw_fp16_to_fp32(uint16_t h) { return _cvtsh_ss(h); }

bool same_bits_or_both_nan(float a, float b) { return (std::isnan(a) && std::isnan(b)) || f32_bits(a) == f32_bits(b); }

TEST(Half, EveryFp16RoundTripsAndMatchesHardware) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "no F16C on this CPU";
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = fp16_to_fp32(static_cast<uint16_t>(h));
    ASSERT_TRUE(same_bits_or_both_nan(f, hw_fp16_to_fp32(static_cast<uint16_t>(h)))) << "h=" << h;
    if (!std::isnan(f)) {
      ASSERT_EQ(fp32_to_fp16(f), h) << "h=" << h;
    }
  }
}

TEST(Half, Fp32ToFp16MatchesHardwareOnRandomBitsAndBoundaries) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "no F16C on this CPU";
  std::mt19937 rng(123);
  auto check = [](uint32_t bits) {
    float f = f32_from_bits(bits);
    uint16_t ours = fp32_to_fp16(f), hw = hw_fp32_to_fp16(f);
    if (std::isnan(f)) {
      ASSERT_EQ(ours & 0x7c00, 0x7c00);
      ASSERT_NE(ours & 0x3ff, 0);
    } else {
      ASSERT_EQ(ours, hw) << std::hex << "bits=0x" << bits;
    }
  };
  for (int i = 0; i < 2000000; ++i) check(rng());
  // Every float around each fp16 rounding boundary (ties included), for all exponents incl. subnormals.
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    uint32_t mid = f32_bits((fp16_to_fp32(h) + fp16_to_fp32(h + 1)) * 0.5f);
    for (uint32_t d = 0; d < 5; ++d) {
      check(mid + d - 2);
      check((mid + d - 2) | 0x80000000u);
    }
  }
  check(f32_bits(65520.0f));
  check(f32_bits(65519.996f));
  check(f32_bits(std::numeric_limits<float>::infinity()));
}

TEST(Bf16, RoundsToNearestEvenAndKeepsNanQuiet) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0x3f808001u)), 0x3f81);
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0x7f800001u)), 0x7f80 | 64);  // signalling NaN -> quiet
  EXPECT_EQ(fp32_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  for (uint32_t b = 0; b < 65536; ++b) {
    float f = bf16_to_fp32(static_cast<uint16_t>(b));
    if (!std::isnan(f)) {
      ASSERT_EQ(fp32_to_bf16(f), b);
    }
  }
}

}  // namespace
}  // namespace scitune
