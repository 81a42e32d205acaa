// ops::sgemm against a double-precision product, for every transposition and leading dimensions wider than the
// matrices, both as one OpenBLAS call and split over the pool (OpenBLAS single-threaded, as in a bf16 step),
// splitting rows (M >= N) and columns (N > M).
#include "kernels/cpu/sgemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/blas_threads.h"
#include "test_util.h"

namespace scitune {
namespace {

using testing::randn;

TEST(Sgemm, MatchesDoubleProductWholeAndSplitOverThePool) {
  struct Shape {
    int64_t M, N, K;
  };
  for (bool split : {false, true})
    for (Shape sh : {Shape{300, 16, 70}, Shape{16, 333, 90}, Shape{129, 131, 64}, Shape{3, 5, 7}})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          SingleThreadedBlasScope blas(split);
          const int64_t M = sh.M, N = sh.N, K = sh.K;
          const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
          const auto a = randn(static_cast<size_t>((ta ? K : M) * lda), 1);
          const auto b = randn(static_cast<size_t>((tb ? N : K) * ldb), 2);
          auto c = randn(static_cast<size_t>(M * ldc), 3);
          const auto c0 = c;
          const float alpha = 0.75f, beta = 0.5f;
          ops::sgemm(ta, tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
          double worst = 0;
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
              double acc = 0, mag = 0;
              for (int64_t k = 0; k < K; ++k) {
                const double x = ta ? a[k * lda + i] : a[i * lda + k], y = tb ? b[j * ldb + k] : b[k * ldb + j];
                acc += x * y;
                mag += std::fabs(x * y);
              }
              const double want = alpha * acc + beta * c0[i * ldc + j];
              worst = std::max(worst, std::fabs(c[i * ldc + j] - want) / (mag + 1.0));
            }
          EXPECT_LT(worst, 1e-6) << "split=" << split << " M=" << M << " N=" << N << " ta=" << ta << " tb=" << tb;
          for (int64_t i = 0; i < M; ++i)  // the padding between rows of C is left alone
            for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]);
        }
}

}  // namespace
}  // namespace scitune
