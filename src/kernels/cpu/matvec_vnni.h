// Decode-time mat-vec with AVX-512 VNNI for the weight types of common GGUFs (Q8_0, Q4_0, Q5_0, Q4_K, Q6_K)
// against activations quantised to Q8_0 (one scale per 32 values, also for the K-quants, where llama.cpp uses
// Q8_K's one per 256: slightly more accurate, not bit-identical). Integer block sums are exact; float
// accumulation runs in vector lanes. Chosen at run time; without VNNI the caller falls back to quant vec_dot.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/linear.h"

// The target the AVX-512 VNNI kernels are compiled for (chosen at run time by vnni_matvec_available).
#define SCITUNE_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))

namespace scitune::ops {

// Activation rows quantised to Q8_0 and unpacked for the kernel: int8 values, block scales, block sums.
struct ActivationQ8 {
  int64_t rows = 0, cols = 0;
  std::vector<int8_t> qs;    // [rows, cols]
  std::vector<float> d;      // [rows, cols / 32]
  std::vector<int32_t> sum;    // [rows, cols / 32], sum of the block's qs (for the Q4_0/Q5_0/Q4_K offsets)
  std::vector<int32_t> sum16;  // [rows, cols / 16], sums of 16 qs (Q6_K: one scale per 16 values)
  std::vector<float> off8;     // [rows, cols / 32], 8·d·sum (Q4_0's offset: value = nibble - 8)
  void quantize(const float* x, int64_t rows, int64_t cols);
};

bool vnni_matvec_available(GgmlType weight_type);
// y[t, r] (+)= W[r] · a[t] for weight rows r in [r0, r1) and every activation row t; y is [T, w.rows].
void vnni_matvec(float* y, const ActivationQ8& a, const WeightMatrix& w, int64_t r0, int64_t r1, bool accumulate);

}  // namespace scitune::ops
