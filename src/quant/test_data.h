// Deterministic float rows for quantisation tests, golden files and benchmarks. Integer-only (splitmix64 and
// float bit patterns, plus exact power-of-two scalings), so tools/oracle/make_quant_golden.py reproduces the
// same bits in numpy without sharing any libm call. Keep the two implementations in lockstep.
#pragma once
#include <cstdint>

namespace scitune::quant::testdata {

// Row kinds, chosen by row % kNumKinds unless given explicitly:
//  0 bell-shaped (sum of 4 uniforms)   1 uniform             2 signed zeros        3 one dominant value
//  4 subnormal / tiny                  5 huge (exp 230..254) 6 all equal           7 negative only
//  8 alternating signs                 9 wide exponent range 10 grid values (ties) 11 sparse (1 in 8)
// 12 constant per 32-value block      13 positive, offset 100
inline constexpr int kNumKinds = 14;

// splitmix64 finaliser of seed + (stream * 2^32 + index + 1) * golden gamma (all mod 2^64).
uint64_t splitmix(uint64_t seed, uint64_t stream, uint64_t index);

// Fills out[0..n) with row `row` of the given kind. Every value is finite.
void make_row(uint64_t seed, uint64_t row, int kind, float* out, int64_t n);
inline void make_row(uint64_t seed, uint64_t row, float* out, int64_t n) {
  make_row(seed, row, static_cast<int>(row % kNumKinds), out, n);
}

}  // namespace scitune::quant::testdata
