// bf16 GEMM with fp32 accumulation through oneDNN (Debian libdnnl-dev), whose run-time dispatch picks the
// AVX512-BF16 kernels (vdpbf16ps: twice the fp32 FMA rate) where the CPU has them. Used for the large training
// GEMMs when bf16 is asked for (TRL's `bf16: true`): inputs are rounded to bf16 (round to nearest even), products
// and sums stay fp32 — the same numerics as PyTorch bf16 autocast matmuls.
#pragma once
#include <cstdint>

namespace scitune::ops {

// True when the CPU has native bf16 dot products (AVX512_BF16); otherwise bf16 would only be emulated.
bool bf16_gemm_available();

// C[M,N] (+)= A[M,K] · op(B), row-major with leading dimensions: A bf16 (lda), B bf16 stored [N,K] when trans_b
// else [K,N] (ldb), C fp32 (ldc).
void gemm_bf16(float* C, int64_t ldc, const uint16_t* A, int64_t lda, const uint16_t* B, int64_t ldb, int64_t M,
               int64_t N, int64_t K, bool trans_b, bool accumulate);

// fp32 -> bf16, round to nearest even (NaN stays NaN), vectorised.
void to_bf16(uint16_t* out, const float* x, int64_t n);

}  // namespace scitune::ops
