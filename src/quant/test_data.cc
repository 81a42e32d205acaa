#include "quant/test_data.h"

#include "util/error.h"
#include "util/half.h"

namespace scitune::quant::testdata {
namespace {

constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;

// 2^e as a float, built from bits (e in -126..127).
float pow2(int e) { return f32_from_bits(static_cast<uint32_t>(127 + e) << 23); }

// Bell-shaped value in [-1, 1]: sum of four 16-bit uniforms, centred, times 2^-17 (exact).
float bell(uint64_t u) {
  int64_t g = 0;
  for (int k = 0; k < 4; ++k) g += static_cast<int64_t>((u >> (16 * k)) & 0xFFFF);
  return static_cast<float>(g - 131070) * pow2(-17);
}

// Uniform in [-1, 1): a signed 24-bit integer times 2^-23.
float uniform(uint64_t u) { return static_cast<float>(static_cast<int64_t>(u >> 40) - (1 << 23)) * pow2(-23); }

float from_fields(uint64_t sign, uint64_t exp, uint64_t mant) {
  return f32_from_bits(static_cast<uint32_t>((sign << 31) | (exp << 23) | (mant & 0x7FFFFF)));
}

}  // namespace

uint64_t splitmix(uint64_t seed, uint64_t stream, uint64_t index) {
  uint64_t z = seed + ((stream << 32) + index + 1) * kGamma;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void make_row(uint64_t seed, uint64_t row, int kind, float* out, int64_t n) {
  SCITUNE_CHECK(kind >= 0 && kind < kNumKinds && n >= 0, "make_row: bad kind or length");
  auto param = [&](uint64_t k) { return splitmix(seed, 2 * row + 1, k); };
  const float row_scale = pow2(static_cast<int>(param(0) % 13) - 6);
  for (int64_t j = 0; j < n; ++j) {
    const uint64_t u = splitmix(seed, 2 * row, static_cast<uint64_t>(j));
    float v = 0.0f;
    switch (kind) {
      case 0:
        v = bell(u) * row_scale;
        break;
      case 1:
        v = uniform(u) * row_scale;
        break;
      case 2:
        v = from_fields(u & 1, 0, 0);
        break;
      case 3:
        v = static_cast<uint64_t>(j) == param(1) % static_cast<uint64_t>(n)
                ? from_fields(param(4) & 1, 127 + 2 + param(3) % 8, param(2) >> 41)
                : bell(u) * pow2(-10);
        break;
      case 4:
        v = from_fields(u >> 63, (u >> 23) % 4, u);
        break;
      case 5:
        v = from_fields(u >> 63, 230 + (u >> 32) % 25, u);
        break;
      case 6:
        v = bell(param(1)) * row_scale;
        break;
      case 7:
        v = f32_from_bits(f32_bits(bell(u) * row_scale) | 0x80000000u);
        break;
      case 8:
        v = f32_from_bits((f32_bits(uniform(u)) & 0x7FFFFFFFu) | (static_cast<uint32_t>(j & 1) << 31));
        break;
      case 9:
        v = from_fields(u >> 63, 100 + (u >> 32) % 55, u);
        break;
      case 10:
        v = static_cast<float>(static_cast<int64_t>((u >> 32) % 65) - 32) * pow2(-static_cast<int>(param(1) % 5));
        break;
      case 11:
        v = (u >> 61) == 0 ? bell(u) * row_scale : 0.0f;
        break;
      case 12:
        v = bell(param(8 + static_cast<uint64_t>(j / 32))) * row_scale;
        break;
      case 13:
        v = 100.0f + bell(u) * pow2(-4);
        break;
    }
    out[j] = v;
  }
}

}  // namespace scitune::quant::testdata
