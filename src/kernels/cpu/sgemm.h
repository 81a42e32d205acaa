// Row-major fp32 GEMM for the small products around the big ones (LoRA's rank-r factors): OpenBLAS, threaded by
// OpenBLAS as usual, or — while OpenBLAS is single-threaded for a bf16 step (blas_threads.h) — split over
// scitune's pool along the larger of M and N, each part a single-threaded OpenBLAS call.
#pragma once
#include <cstdint>

namespace scitune::ops {

// C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C, op = transpose when ta / tb.
void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace scitune::ops
