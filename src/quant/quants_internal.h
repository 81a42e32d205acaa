// Helpers shared by the quantisation kernels. Not part of the public API.
#pragma once
#include <cstdint>
#include <cstring>

#include "quant/ggml_type.h"
#include "util/error.h"

namespace scitune::quant {

// ggml's nearest_int: adds 1.5*2^23 so the float unit does round-to-nearest-even, then reads the mantissa.
// Exact for |f| <= 4194303; outside that range (and for NaN/Inf) it returns the same garbage as ggml does.
inline int nearest_int(float f) {
  const float v = f + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &v, sizeof(i));
  return (i & 0x007fffff) - 0x00400000;
}

// C's float -> integer truncation as x86 executes it (cvttss2si): out-of-range and NaN give INT32_MIN.
// ggml's (int8_t)(x + 8.5f) style casts rely on it for degenerate blocks; plain C++ casts would be UB there.
inline int32_t trunc_i32_x86(float f) {
  if (f >= -2147483648.0f && f < 2147483648.0f) return static_cast<int32_t>(f);
  return INT32_MIN;
}
// (int8_t)(float) / (uint8_t)(float) as compiled by GCC on x86-64: truncate to int32, keep the low byte.
inline uint8_t trunc_low_byte(float f) { return static_cast<uint8_t>(trunc_i32_x86(f) & 0xFF); }

inline void check_row(GgmlType t, int64_t n) {
  const auto bs = static_cast<int64_t>(ggml_info(t).block_size);
  SCITUNE_CHECK(n >= 0 && n % bs == 0, std::string("row of ") + std::to_string(n) + " values is not a multiple of " +
                                           std::string(ggml_info(t).name) + " block size " + std::to_string(bs));
}

}  // namespace scitune::quant
