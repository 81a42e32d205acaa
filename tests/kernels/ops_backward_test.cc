// Backward kernels: the fast versions against their scalar references, and the references against central
// finite differences of a double-precision forward (itself checked against ops::ref's forward, so the gradient
// is of the function the model actually computes).
#include "kernels/cpu/ops_backward.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/ops.h"
#include "test_util.h"

namespace scitune {
namespace {

using Vec = std::vector<float>;
using DVec = std::vector<double>;

using testing::randn;
using testing::rel_err;

DVec to_double(const Vec& v) { return DVec(v.begin(), v.end()); }

// Central differences of a scalar function f at x, every coordinate.
DVec numeric_grad(const std::function<double(const DVec&)>& f, DVec x, double h = 1e-6) {
  DVec g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double fp = f(x);
    x[i] = x0 - h;
    const double fm = f(x);
    x[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

double weighted_sum(const DVec& y, const Vec& w) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += y[i] * w[i];
  return s;
}

// ---- double-precision forwards (the same math as ops::ref, for finite differences) ----

DVec rmsnorm_fwd(const DVec& x, const DVec& gain, int T, int C, double eps) {
  DVec y(x.size());
  for (int t = 0; t < T; ++t) {
    double ss = 0;
    for (int c = 0; c < C; ++c) ss += x[t * C + c] * x[t * C + c];
    const double r = 1.0 / std::sqrt(ss / C + eps);
    for (int c = 0; c < C; ++c) y[t * C + c] = x[t * C + c] * r * gain[c];
  }
  return y;
}

DVec geglu_fwd(const DVec& g, const DVec& u) {
  DVec y(g.size());
  for (size_t i = 0; i < g.size(); ++i)
    y[i] = 0.5 * g[i] * (1.0 + std::tanh(0.7978845608028654 * (g[i] + 0.044715 * g[i] * g[i] * g[i]))) * u[i];
  return y;
}

struct AttnCase {
  int T, H, G, D, window, valid;
  float softcap;
};

DVec attention_fwd(const AttnCase& c, const DVec& q, const DVec& k, const DVec& v, float scale) {
  const int group = c.H / c.G;
  DVec out(static_cast<size_t>(c.T) * c.H * c.D, 0.0), s(c.T);
  for (int h = 0; h < c.H; ++h)
    for (int t = 0; t < c.valid; ++t) {
      const int g = h / group;
      double mx = -std::numeric_limits<double>::infinity();
      for (int j = 0; j <= t; ++j) {
        if (j >= c.valid || (c.window > 0 && j <= t - c.window)) {
          s[j] = -std::numeric_limits<double>::infinity();
          continue;
        }
        double d = 0;
        for (int e = 0; e < c.D; ++e) d += q[(t * c.H + h) * c.D + e] * k[(j * c.G + g) * c.D + e];
        d *= scale;
        if (c.softcap > 0) d = c.softcap * std::tanh(d / c.softcap);
        s[j] = d;
        mx = std::max(mx, d);
      }
      double sum = 0;
      for (int j = 0; j <= t; ++j) sum += (s[j] = std::exp(s[j] - mx));
      for (int j = 0; j <= t; ++j)
        for (int e = 0; e < c.D; ++e) out[(t * c.H + h) * c.D + e] += s[j] / sum * v[(j * c.G + g) * c.D + e];
    }
  return out;
}

// ---- RMSNorm ----

TEST(OpsBackward, RmsNormMatchesFiniteDifferences) {
  const int T = 3, C = 16;
  const float eps = 1e-6f;
  auto x = randn(T * C, 1, 2.0f), gain = randn(C, 2, 0.3f), dy = randn(T * C, 3);
  for (auto& g : gain) g += 1.0f;
  Vec y(T * C), rstd(T);
  ops::ref::rmsnorm(y.data(), rstd.data(), x.data(), gain.data(), T, C, eps);
  ASSERT_LT(rel_err(rmsnorm_fwd(to_double(x), to_double(gain), T, C, eps), y), 1e-6);

  Vec dx(T * C), dgain(C, 0.0f);
  ops::ref::rmsnorm_backward(dx.data(), dgain.data(), dy.data(), x.data(), rstd.data(), gain.data(), T, C);
  const DVec gx = numeric_grad(
      [&](const DVec& xx) { return weighted_sum(rmsnorm_fwd(xx, to_double(gain), T, C, eps), dy); }, to_double(x));
  const DVec gg = numeric_grad(
      [&](const DVec& gg) { return weighted_sum(rmsnorm_fwd(to_double(x), gg, T, C, eps), dy); }, to_double(gain));
  EXPECT_LT(rel_err(dx, gx), 1e-5);
  EXPECT_LT(rel_err(dgain, gg), 1e-5);
}

TEST(OpsBackward, RmsNormMatchesReferenceAccumulatesGainAndAllowsInPlace) {
  const int T = 37, C = 640;
  auto x = randn(T * C, 4, 3.0f), gain = randn(C, 5, 0.2f), dy = randn(T * C, 6);
  Vec y(T * C), rstd(T);
  ops::rmsnorm(y.data(), rstd.data(), x.data(), gain.data(), T, C, 1e-6f);
  Vec dx(T * C, NAN), dxr(T * C, NAN), dg(C, 0.5f), dgr(C, 0.5f);
  ops::rmsnorm_backward(dx.data(), dg.data(), dy.data(), x.data(), rstd.data(), gain.data(), T, C);
  ops::ref::rmsnorm_backward(dxr.data(), dgr.data(), dy.data(), x.data(), rstd.data(), gain.data(), T, C);
  EXPECT_LT(rel_err(dx, dxr), 1e-5);
  EXPECT_LT(rel_err(dg, dgr), 1e-5);
  // dgain accumulates: a second call adds the same amount again.
  Vec dg2 = dg;
  ops::rmsnorm_backward(dx.data(), dg2.data(), dy.data(), x.data(), rstd.data(), gain.data(), T, C);
  for (int c = 0; c < C; ++c) EXPECT_NEAR(dg2[c] - dg[c], dg[c] - 0.5f, 1e-4f * (1 + std::fabs(dg[c])));
  // dx may alias dy; dgain may be null.
  Vec inplace = dy;
  ops::rmsnorm_backward(inplace.data(), nullptr, inplace.data(), x.data(), rstd.data(), gain.data(), T, C);
  EXPECT_EQ(inplace, dx);
}

// ---- RoPE ----

TEST(OpsBackward, RopeBackwardIsTheAdjointAndTheInverse) {
  const int T = 9, H = 3, D = 32;
  std::vector<int32_t> pos(T);
  for (int t = 0; t < T; ++t) pos[t] = 977 * t + 3;
  Vec inv(D / 2);
  ops::rope_inv_freq(inv.data(), D, 10000.0, 1.0);
  auto x = randn(T * H * D, 7), dy = randn(T * H * D, 8);
  Vec y = x;
  ops::ref::rope_neox(y.data(), pos.data(), inv.data(), T, H, D);
  for (bool fast : {false, true}) {
    Vec dx = dy;
    (fast ? ops::rope_neox_backward : ops::ref::rope_neox_backward)(dx.data(), pos.data(), inv.data(), T, H, D);
    // <R x, dy> == <x, Rᵀ dy>: the defining property of the backward of a linear map.
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      lhs += static_cast<double>(y[i]) * dy[i];
      rhs += static_cast<double>(x[i]) * dx[i];
    }
    EXPECT_NEAR(lhs, rhs, 1e-5 * std::fabs(lhs) + 1e-4) << (fast ? "fast" : "ref");
    // A rotation's transpose is its inverse.
    Vec back = y;
    (fast ? ops::rope_neox_backward : ops::ref::rope_neox_backward)(back.data(), pos.data(), inv.data(), T, H, D);
    EXPECT_LT(rel_err(back, x), 1e-5) << (fast ? "fast" : "ref");
  }
}

// ---- GeGLU ----

TEST(OpsBackward, GegluMatchesFiniteDifferences) {
  const int n = 200;
  auto g = randn(n, 9, 3.0f), u = randn(n, 10), dout = randn(n, 11);
  Vec y(n);
  ops::ref::geglu(y.data(), g.data(), u.data(), n);
  ASSERT_LT(rel_err(geglu_fwd(to_double(g), to_double(u)), y), 1e-6);
  Vec dg(n), du(n);
  ops::ref::geglu_backward(dg.data(), du.data(), dout.data(), g.data(), u.data(), n);
  const DVec ng =
      numeric_grad([&](const DVec& gg) { return weighted_sum(geglu_fwd(gg, to_double(u)), dout); }, to_double(g));
  const DVec nu =
      numeric_grad([&](const DVec& uu) { return weighted_sum(geglu_fwd(to_double(g), uu), dout); }, to_double(u));
  EXPECT_LT(rel_err(dg, ng), 1e-6);
  EXPECT_LT(rel_err(du, nu), 1e-6);
}

TEST(OpsBackward, GegluMatchesReferenceAndAllowsInPlace) {
  const int n = 10007;
  auto g = randn(n, 12, 4.0f), u = randn(n, 13), dout = randn(n, 14);
  Vec dg(n), du(n), dgr(n), dur(n);
  ops::geglu_backward(dg.data(), du.data(), dout.data(), g.data(), u.data(), n);
  ops::ref::geglu_backward(dgr.data(), dur.data(), dout.data(), g.data(), u.data(), n);
  EXPECT_LT(rel_err(dg, dgr), 1e-6);
  EXPECT_LT(rel_err(du, dur), 1e-6);
  Vec gi = g, ui = u;  // the trainer overwrites the saved activations with their gradients
  ops::geglu_backward(gi.data(), ui.data(), dout.data(), gi.data(), ui.data(), n);
  EXPECT_EQ(gi, dg);
  EXPECT_EQ(ui, du);
}

// ---- softcap ----

TEST(OpsBackward, SoftcapMatchesFiniteDifferencesAndReference) {
  const int n = 300;
  const float c = 30.0f;
  auto x = randn(n, 15, 40.0f), dy = randn(n, 16);
  Vec y = x;
  ops::softcap(y.data(), n, c);
  Vec dx(n), dxr(n);
  ops::softcap_backward(dx.data(), dy.data(), y.data(), n, c);
  ops::ref::softcap_backward(dxr.data(), dy.data(), y.data(), n, c);
  EXPECT_LT(rel_err(dx, dxr), 1e-6);
  const DVec nx = numeric_grad(
      [&](const DVec& xx) {
        double s = 0;
        for (int i = 0; i < n; ++i) s += c * std::tanh(xx[i] / c) * dy[i];
        return s;
      },
      to_double(x), 1e-4);
  // y is fp32, so 1 - (y/c)^2 loses digits where |x| >> c (y/c near 1): a looser bound than elsewhere.
  EXPECT_LT(rel_err(dxr, nx), 1e-4);
  Vec inplace = dy;
  ops::softcap_backward(inplace.data(), inplace.data(), y.data(), n, c);
  EXPECT_EQ(inplace, dx);
}

// ---- attention ----

struct AttnGrads {
  Vec dq, dk, dv;
};

// recompute: the fast backward without saved probabilities (it rebuilds them block by block).
AttnGrads run_attention_backward(bool fast, const AttnCase& c, const Vec& q, const Vec& k, const Vec& v,
                                 const Vec& dout, float scale, bool recompute = false) {
  Vec out(q.size()), probs(static_cast<size_t>(c.H) * c.T * c.T);
  ops::attention(out.data(), probs.data(), q.data(), k.data(), v.data(), c.T, c.H, c.G, c.D, scale, c.window, c.valid,
                 c.softcap);
  // NaN-filled outputs: every element must be written, none accumulated.
  AttnGrads g{Vec(q.size(), NAN), Vec(k.size(), NAN), Vec(v.size(), NAN)};
  (fast ? ops::attention_backward : ops::ref::attention_backward)(
      g.dq.data(), g.dk.data(), g.dv.data(), dout.data(), recompute ? nullptr : probs.data(), q.data(), k.data(),
      v.data(), c.T, c.H, c.G, c.D, scale, c.window, c.valid, c.softcap);
  return g;
}

TEST(OpsBackward, AttentionMatchesFiniteDifferences) {
  for (AttnCase c :
       {AttnCase{1, 1, 1, 4, 0, 1, 0}, {7, 4, 2, 5, 0, 7, 0}, {7, 4, 2, 5, 3, 6, 0}, {6, 2, 1, 4, 0, 5, 2.0f}}) {
    auto q = randn(c.T * c.H * c.D, 17), k = randn(c.T * c.G * c.D, 18), v = randn(c.T * c.G * c.D, 19);
    auto dout = randn(q.size(), 20);
    const float scale = 0.7f;
    {  // the double forward is ops::ref::attention's math
      Vec out(q.size());
      ops::ref::attention(out.data(), nullptr, q.data(), k.data(), v.data(), c.T, c.H, c.G, c.D, scale, c.window,
                          c.valid, c.softcap);
      ASSERT_LT(rel_err(out, attention_fwd(c, to_double(q), to_double(k), to_double(v), scale)), 1e-5);
    }
    const AttnGrads g = run_attention_backward(false, c, q, k, v, dout, scale);
    const DVec qd = to_double(q), kd = to_double(k), vd = to_double(v);
    const DVec nq =
        numeric_grad([&](const DVec& x) { return weighted_sum(attention_fwd(c, x, kd, vd, scale), dout); }, qd);
    const DVec nk =
        numeric_grad([&](const DVec& x) { return weighted_sum(attention_fwd(c, qd, x, vd, scale), dout); }, kd);
    const DVec nv =
        numeric_grad([&](const DVec& x) { return weighted_sum(attention_fwd(c, qd, kd, x, scale), dout); }, vd);
    // probs come from the fp32 forward, so ~1e-6 relative noise is expected
    EXPECT_LT(rel_err(g.dq, nq), 2e-5) << "T=" << c.T << " window=" << c.window << " cap=" << c.softcap;
    EXPECT_LT(rel_err(g.dk, nk), 2e-5) << "T=" << c.T << " window=" << c.window << " cap=" << c.softcap;
    EXPECT_LT(rel_err(g.dv, nv), 2e-5) << "T=" << c.T << " window=" << c.window << " cap=" << c.softcap;
  }
}

TEST(OpsBackward, AttentionMatchesReferenceAcrossBlocksWindowPaddingGqaAndSoftcap) {
  // Blocks in order with threaded GEMMs, and spread over the pool with single-threaded ones (per-thread dK/dV).
  for (bool spread : {false, true})
  for (AttnCase c : {AttnCase{1, 1, 1, 8, 0, 1, 0},
                     {13, 4, 2, 16, 0, 13, 0},
                     {130, 4, 2, 16, 0, 130, 0},
                     {130, 4, 1, 32, 50, 130, 0},
                     {150, 4, 4, 16, 70, 141, 0},
                     {100, 2, 1, 8, 0, 77, 5.0f},
                     {90, 2, 2, 8, 20, 90, 5.0f}}) {
    SingleThreadedBlasScope blas(spread);
    auto q = randn(c.T * c.H * c.D, 21), k = randn(c.T * c.G * c.D, 22), v = randn(c.T * c.G * c.D, 23);
    auto dout = randn(q.size(), 24);
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.D));
    const AttnGrads f = run_attention_backward(true, c, q, k, v, dout, scale);
    const AttnGrads r = run_attention_backward(false, c, q, k, v, dout, scale);
    EXPECT_LT(rel_err(f.dq, r.dq), 2e-5) << "T=" << c.T << " window=" << c.window << " valid=" << c.valid;
    EXPECT_LT(rel_err(f.dk, r.dk), 2e-5) << "T=" << c.T << " window=" << c.window << " valid=" << c.valid;
    EXPECT_LT(rel_err(f.dv, r.dv), 2e-5) << "T=" << c.T << " window=" << c.window << " valid=" << c.valid;
    // Without saved probabilities: the recomputed blocks give the same gradients (same arithmetic as the
    // forward's score rows, so equal up to the GEMM's blocking).
    const AttnGrads m = run_attention_backward(true, c, q, k, v, dout, scale, /*recompute=*/true);
    EXPECT_LT(rel_err(m.dq, f.dq), 1e-6) << "recompute T=" << c.T << " window=" << c.window << " valid=" << c.valid;
    EXPECT_LT(rel_err(m.dk, f.dk), 1e-6) << "recompute T=" << c.T << " window=" << c.window << " valid=" << c.valid;
    EXPECT_LT(rel_err(m.dv, f.dv), 1e-6) << "recompute T=" << c.T << " window=" << c.window << " valid=" << c.valid;
    // Padding: query rows past valid_len get no gradient, and neither do the keys/values they would be.
    for (int t = c.valid; t < c.T; ++t) {
      for (int i = 0; i < c.H * c.D; ++i) EXPECT_EQ(f.dq[t * c.H * c.D + i], 0.0f);
      for (int i = 0; i < c.G * c.D; ++i) {
        EXPECT_EQ(f.dk[t * c.G * c.D + i], 0.0f);
        EXPECT_EQ(f.dv[t * c.G * c.D + i], 0.0f);
      }
    }
  }
}

}  // namespace
}  // namespace scitune
