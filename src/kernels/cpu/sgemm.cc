#include "kernels/cpu/sgemm.h"

#include <cblas.h>

#include <algorithm>

#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/thread_pool.h"

namespace scitune::ops {

namespace {

void blas(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(M),
              static_cast<int>(N), static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta,
              C, static_cast<int>(ldc));
}

// Below this many multiply-adds a product is not worth a pool wake-up.
constexpr int64_t kMinSplitWork = int64_t{1} << 18;

}  // namespace

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  ThreadPool& pool = ThreadPool::global();
  if (pool.size() <= 1 || M * N * K < kMinSplitWork || !blas_single_threaded())
    return blas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  // Parts of at least 16 rows/columns, one per thread: each writes its own block of C.
  const bool split_m = M >= N;
  const int64_t extent = split_m ? M : N;
  const int64_t parts = std::min<int64_t>(pool.size(), (extent + 15) / 16);
  pool.parallel_for(parts, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const int64_t i0 = extent * p / parts, i1 = extent * (p + 1) / parts;
      if (split_m)  // rows of C: rows of op(A)
        blas(ta, tb, i1 - i0, N, K, alpha, ta ? A + i0 : A + i0 * lda, lda, B, ldb, beta, C + i0 * ldc, ldc);
      else  // columns of C: columns of op(B)
        blas(ta, tb, M, i1 - i0, K, alpha, A, lda, tb ? B + i0 * ldb : B + i0, ldb, beta, C + i0, ldc);
    }
  });
}

}  // namespace scitune::ops
