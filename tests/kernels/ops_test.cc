// Fast CPU kernels against their scalar references.
#include "kernels/cpu/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "kernels/cpu/blas_threads.h"
#include "test_util.h"

namespace scitune {
namespace {

using testing::randn;
using testing::rel_err;

TEST(Ops, MatmulMatchesReference) {
  for (auto [T, K, N] : {std::tuple{1, 64, 3}, {7, 130, 33}, {64, 640, 256}}) {
    auto x = randn(T * K, 1), w = randn(N * K, 2);
    std::vector<float> y(T * N, 0.5f), yr(T * N, 0.5f);
    ops::matmul_nt(y.data(), x.data(), w.data(), T, K, N, /*accumulate=*/true);
    ops::ref::matmul_nt(yr.data(), x.data(), w.data(), T, K, N, true);
    EXPECT_LT(rel_err(y, yr), 1e-5) << T << "x" << K << "x" << N;
  }
}

TEST(Ops, GemmAfterStoppingIdleBlasThreadsIsUnchanged) {
  // Large enough for OpenBLAS to go multi-threaded: its workers must come back after being stopped.
  const int T = 256, K = 512, N = 384;
  auto x = randn(T * K, 3), w = randn(N * K, 4);
  std::vector<float> before(T * N), after(T * N), ref(T * N);
  ops::matmul_nt(before.data(), x.data(), w.data(), T, K, N, false);
  stop_idle_blas_threads();
  stop_idle_blas_threads();  // twice: nothing left to stop is fine too
  ops::matmul_nt(after.data(), x.data(), w.data(), T, K, N, false);
  ops::ref::matmul_nt(ref.data(), x.data(), w.data(), T, K, N, false);
  EXPECT_EQ(after, before);
  EXPECT_LT(rel_err(after, ref), 1e-5);
}

TEST(Ops, RmsNormMatchesReferenceAndSavesRstd) {
  const int T = 9, C = 640;
  auto x = randn(T * C, 3, 3.0f), w = randn(C, 4, 0.2f);
  std::vector<float> y(T * C), yr(T * C), r(T), rr(T);
  ops::rmsnorm(y.data(), r.data(), x.data(), w.data(), T, C, 1e-6f);
  ops::ref::rmsnorm(yr.data(), rr.data(), x.data(), w.data(), T, C, 1e-6f);
  EXPECT_LT(rel_err(y, yr), 1e-6);
  EXPECT_LT(rel_err(r, rr), 1e-6);
}

TEST(Ops, RopeMatchesReferenceAndPreservesNorm) {
  const int T = 11, H = 3, D = 32;
  auto x = randn(T * H * D, 5), xr = x;
  std::vector<int32_t> pos(T);
  for (int t = 0; t < T; ++t) pos[t] = 1000 * t;  // large positions stress the angle computation
  std::vector<float> inv(D / 2);
  ops::rope_inv_freq(inv.data(), D, 10000.0, 8.0);
  EXPECT_FLOAT_EQ(inv[0], 1.0f / 8.0f);
  ops::rope_neox(x.data(), pos.data(), inv.data(), T, H, D);
  ops::ref::rope_neox(xr.data(), pos.data(), inv.data(), T, H, D);
  EXPECT_LT(rel_err(x, xr), 1e-6);
}

TEST(Ops, GegluMatchesReference) {
  const int n = 10000;
  auto g = randn(n, 6, 4.0f), u = randn(n, 7);
  std::vector<float> y(n), yr(n);
  ops::geglu(y.data(), g.data(), u.data(), n);
  ops::ref::geglu(yr.data(), g.data(), u.data(), n);
  EXPECT_LT(rel_err(y, yr), 1e-6);
}

struct AttnCase {
  int T, H, G, D, window, valid;
  float softcap;
};

TEST(Ops, AttentionMatchesReferenceWithWindowPaddingGqaAndSoftcap) {
  // Both ways of running the blocks of query rows: in order with threaded GEMMs, and spread over the pool with
  // single-threaded ones (bf16 training steps).
  for (bool spread : {false, true})
  for (AttnCase c : {AttnCase{1, 1, 1, 8, 0, 1, 0}, {13, 4, 2, 16, 0, 13, 0}, {13, 4, 2, 16, 5, 13, 0},
                     {13, 4, 1, 16, 5, 9, 0}, {20, 2, 2, 8, 0, 17, 30.0f}, {150, 4, 2, 16, 70, 141, 0},
                     {130, 2, 1, 8, 0, 130, 5.0f}}) {
    SingleThreadedBlasScope blas(spread);
    auto q = randn(c.T * c.H * c.D, 8), k = randn(c.T * c.G * c.D, 9), v = randn(c.T * c.G * c.D, 10);
    std::vector<float> o(q.size()), orf(q.size()), p(c.H * c.T * c.T), pr(p.size());
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.D));
    ops::attention(o.data(), p.data(), q.data(), k.data(), v.data(), c.T, c.H, c.G, c.D, scale, c.window, c.valid,
                   c.softcap);
    ops::ref::attention(orf.data(), pr.data(), q.data(), k.data(), v.data(), c.T, c.H, c.G, c.D, scale, c.window,
                        c.valid, c.softcap);
    EXPECT_LT(rel_err(o, orf), 1e-5) << "T=" << c.T << " window=" << c.window;
    EXPECT_LT(rel_err(p, pr), 1e-5);
    // Contract: rows sum to 1 for real queries; padding queries and masked keys get exactly zero.
    for (int h = 0; h < c.H; ++h)
      for (int t = 0; t < c.T; ++t) {
        double sum = 0;
        for (int j = 0; j < c.T; ++j) {
          float pj = p[(h * c.T + t) * c.T + j];
          bool allowed = t < c.valid && j <= t && j < c.valid && (c.window <= 0 || j > t - c.window);
          if (!allowed) {
            EXPECT_EQ(pj, 0.0f);
          }
          sum += pj;
        }
        EXPECT_NEAR(sum, t < c.valid ? 1.0 : 0.0, 1e-5);
      }
  }
}

// attention_cached for the last n of T positions, keys and values in a cache of `cap` slots (a ring holding only the
// last positions when windowed), against the reference attention over the whole sequence: relative error.
double cached_attention_error(int T, int H, int G, int D, int n, int window, float softcap, float scale, int seed) {
  const int pos0 = T - n;
  auto q = randn(T * H * D, seed), k = randn(T * G * D, seed + 1), v = randn(T * G * D, seed + 2);
  std::vector<float> ref(T * H * D);
  ops::ref::attention(ref.data(), nullptr, q.data(), k.data(), v.data(), T, H, G, D, scale, window, T, softcap);
  // Global: every position kept (cap T). Sliding: a ring of window + n - 1 holding the last positions only.
  const int cap = window ? std::min(T, window + n - 1) : T;
  std::vector<float> kc(cap * G * D, NAN), vc(cap * G * D, NAN);
  for (int p = T - cap; p < T; ++p)
    for (int i = 0; i < G * D; ++i) {
      kc[(p % cap) * G * D + i] = k[p * G * D + i];
      vc[(p % cap) * G * D + i] = v[p * G * D + i];
    }
  std::vector<float> out(n * H * D);
  ops::attention_cached(out.data(), q.data() + pos0 * H * D, kc.data(), vc.data(), cap, pos0, n, H, G, D, scale,
                        window, softcap);
  return rel_err(out, std::vector<float>(ref.begin() + pos0 * H * D, ref.end()));
}

TEST(Ops, CachedAttentionOverARingMatchesReference) {  // a prompt chunk (the GEMM path)
  for (int window : {0, 5})
    EXPECT_LT(cached_attention_error(20, 4, 2, 16, ops::kAttentionGemmRows, window, 0.0f, 0.25f, 11), 1e-5)
        << "window " << window;
}

// Decoding (fewer than kAttentionGemmRows queries): the key range split over tasks per kv group and merged, with
// grouped heads, windows on a ring, softcap, and ranges shorter and longer than a split.
TEST(Ops, CachedDecodeAttentionSplitsKeysAndMergesExactly) {
  for (auto [H, G] : {std::pair{8, 2}, std::pair{4, 1}})
    for (int T : {3, 70, 700})
      for (int n : {1, 3})
        for (int window : {0, 100})
          for (float softcap : {0.0f, 30.0f})
            ASSERT_LT(cached_attention_error(T, H, G, 32, n, window, softcap, 0.3f, 21), 1e-5)
                << "H " << H << " G " << G << " T " << T << " n " << n << " window " << window << " softcap " << softcap;
}

}  // namespace
}  // namespace scitune
