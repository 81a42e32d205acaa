// Fused LM head + cross-entropy: the blocked fast version against the naive full-logits reference, and the
// reference's gradient against central finite differences of a double-precision loss.
#include "kernels/cpu/lm_head_loss.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/gemm_bf16.h"
#include "test_util.h"
#include "util/error.h"
#include "util/half.h"

namespace scitune {
namespace {

using Vec = std::vector<float>;

using testing::randn;
using testing::rel_err;

// Targets in [0, V) with every 5th row (and row 1) ignored.
std::vector<int32_t> make_targets(int64_t N, int64_t V, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(N);
  for (int64_t i = 0; i < N; ++i)
    t[i] = (i % 5 == 3 || i == 1) ? static_cast<int32_t>(ops::kLmHeadIgnore) : static_cast<int32_t>(rng() % V);
  return t;
}

// The loss of one row in double: h is that row's hidden vector.
double row_loss(const std::vector<double>& h, const Vec& embed, int64_t C, int64_t V, int32_t target, float cap) {
  std::vector<double> z(V);
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < V; ++j) {
    double acc = 0;
    for (int64_t c = 0; c < C; ++c) acc += h[c] * embed[j * C + c];
    z[j] = cap > 0 ? cap * std::tanh(acc / cap) : acc;
    mx = std::max(mx, z[j]);
  }
  double sum = 0;
  for (double x : z) sum += std::exp(x - mx);
  return std::log(sum) + mx - z[target];
}

// x rounded to bf16 in place; returns the bits.
std::vector<uint16_t> round_to_bf16(Vec& x) {
  std::vector<uint16_t> bits(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    bits[i] = fp32_to_bf16(x[i]);
    x[i] = bf16_to_fp32(bits[i]);
  }
  return bits;
}

struct Case {
  int64_t N, C, V;
  float softcap;
};

TEST(LmHeadLoss, MatchesNaiveReferenceAcrossBlocksWithIgnoredRowsAndSoftcap) {
  for (Case c : {Case{37, 32, 300, 0},
                 {37, 32, 300, 3.0f},
                 {2 * ops::kLmHeadRows + 37, 32, 300, 0},
                 {2 * ops::kLmHeadRows + 37, 32, 300, 3.0f},
                 {70, 16, 3000, 0},
                 {70, 16, 3000, 10.0f},
                 {1, 8, 5, 0}}) {
    const Vec hidden = randn(c.N * c.C, 1, 1.5f), embed = randn(c.V * c.C, 2, 0.5f);
    const auto targets = make_targets(c.N, c.V, 3);
    int64_t count = -1, count_ref = -1;
    Vec dh(c.N * c.C, NAN), dh_ref(c.N * c.C, NAN);  // NaN: every element must be written
    // grad_scale 1/count is the mean loss; the reference is told the same count
    int64_t active = 0;
    for (int32_t t : targets) active += t != ops::kLmHeadIgnore;
    const float gs = 1.0f / static_cast<float>(std::max<int64_t>(active, 1));
    const double loss = ops::lm_head_ce_forward_backward(dh.data(), hidden.data(), embed.data(), targets.data(), c.N,
                                                         c.C, c.V, c.softcap, gs, &count);
    const double loss_ref = ops::ref::lm_head_ce_forward_backward(
        dh_ref.data(), hidden.data(), embed.data(), targets.data(), c.N, c.C, c.V, c.softcap, gs, &count_ref);
    EXPECT_EQ(count, active);
    EXPECT_EQ(count_ref, active);
    EXPECT_NEAR(loss, loss_ref, 1e-5 * std::fabs(loss_ref)) << "N=" << c.N << " V=" << c.V << " cap=" << c.softcap;
    EXPECT_LT(rel_err(dh, dh_ref), 1e-4) << "N=" << c.N << " V=" << c.V << " cap=" << c.softcap;
    for (int64_t i = 0; i < c.N; ++i) {
      if (targets[i] != ops::kLmHeadIgnore) continue;
      for (int64_t k = 0; k < c.C; ++k) ASSERT_EQ(dh[i * c.C + k], 0.0f);
    }
    // Forward only: the same loss, nothing written.
    const double loss_fwd = ops::lm_head_ce_forward_backward(nullptr, hidden.data(), embed.data(), targets.data(), c.N,
                                                             c.C, c.V, c.softcap, gs, nullptr);
    EXPECT_NEAR(loss_fwd, loss, 1e-9 * std::fabs(loss));
  }
}

TEST(LmHeadLoss, Bf16EmbeddingMatchesTheFp32PathOnTheSameValues) {
  // V spans many vocabulary chunks (the last one partial) and N two blocks of rows.
  const int64_t N = ops::kLmHeadRows + 20, C = 64, V = 70000;
  const Vec hidden = randn(N * C, 8);
  Vec embed = randn(V * C, 9, 0.3f);
  const std::vector<uint16_t> bits = round_to_bf16(embed);  // the fp32 path sees exactly the bf16 values
  const auto targets = make_targets(N, V, 10);
  for (float cap : {0.0f, 8.0f}) {
    Vec dh(N * C, NAN), dh16(N * C, NAN);
    int64_t count = 0, count16 = 0;
    const double loss = ops::lm_head_ce_forward_backward(dh.data(), hidden.data(), embed.data(), targets.data(), N, C,
                                                         V, cap, 0.01f, &count);
    const double loss16 = ops::lm_head_ce_forward_backward_bf16(dh16.data(), hidden.data(), bits.data(), targets.data(),
                                                                N, C, V, cap, 0.01f, &count16);
    EXPECT_EQ(count16, count);
    EXPECT_NEAR(loss16, loss, 1e-6 * std::fabs(loss)) << "cap=" << cap;
    EXPECT_LT(rel_err(dh16, dh), 1e-5) << "cap=" << cap;
  }
}

// The bf16 GEMM path (TRL bf16): hidden rows and d logits rounded to bf16, fp32 accumulation. Against the double
// reference on the same (bf16-valued) embedding: within bf16 rounding. V spans vocabulary chunks (the last one
// partial) and N two blocks of rows; both storages the path reads: bf16 in place and fp32 rounded per chunk.
TEST(LmHeadLoss, Bf16GemmPathStaysWithinBf16Rounding) {
  if (!ops::bf16_gemm_available()) GTEST_SKIP() << "no AVX512-BF16";
  const int64_t N = ops::kLmHeadRows + 20, C = 64, V = 9000;
  const Vec hidden = randn(N * C, 18);
  Vec embed = randn(V * C, 19, 0.3f);
  const std::vector<uint16_t> bits = round_to_bf16(embed);
  const auto targets = make_targets(N, V, 20);
  const WeightMatrix as_bf16{GgmlType::BF16, reinterpret_cast<const uint8_t*>(bits.data()), V, C};
  const WeightMatrix as_f32 = WeightMatrix::f32(embed.data(), V, C);
  for (float cap : {0.0f, 8.0f}) {
    Vec want(N * C);
    int64_t count_ref = 0;
    const double loss_ref = ops::ref::lm_head_ce_forward_backward(want.data(), hidden.data(), embed.data(),
                                                                  targets.data(), N, C, V, cap, 0.01f, &count_ref);
    for (const WeightMatrix* w : {&as_bf16, &as_f32}) {
      Vec dh(N * C, NAN);
      int64_t count = 0;
      const double loss = ops::lm_head_ce_forward_backward(dh.data(), hidden.data(), *w, targets.data(), N, cap, 0.01f,
                                                           &count, /*bf16=*/true);
      EXPECT_EQ(count, count_ref);
      EXPECT_NEAR(loss, loss_ref, 2e-3 * std::fabs(loss_ref)) << "cap=" << cap;
      EXPECT_LT(rel_err(dh, want), 1e-2) << "cap=" << cap;
      EXPECT_GT(rel_err(dh, want), 0.0) << "the bf16 path really ran";
      for (int64_t i = 0; i < N; ++i) {  // ignored rows: exactly zero
        if (targets[i] != ops::kLmHeadIgnore) continue;
        for (int64_t c = 0; c < C; ++c) ASSERT_EQ(dh[i * C + c], 0.0f);
      }
    }
  }
}

TEST(LmHeadLoss, ReferenceGradientMatchesFiniteDifferences) {
  const int64_t N = 7, C = 12, V = 40;
  const Vec hidden = randn(N * C, 4), embed = randn(V * C, 5, 0.7f);
  const auto targets = make_targets(N, V, 6);
  for (float cap : {0.0f, 2.5f}) {
    const float gs = 0.25f;
    Vec dh(N * C);
    ops::ref::lm_head_ce_forward_backward(dh.data(), hidden.data(), embed.data(), targets.data(), N, C, V, cap, gs,
                                          nullptr);
    Vec num(N * C, 0.0f);
    for (int64_t i = 0; i < N; ++i) {
      if (targets[i] == ops::kLmHeadIgnore) continue;  // the loss does not depend on this row: gradient 0
      std::vector<double> h(hidden.begin() + i * C, hidden.begin() + (i + 1) * C);
      for (int64_t k = 0; k < C; ++k) {
        const double h0 = h[k], eps = 1e-6;
        h[k] = h0 + eps;
        const double fp = row_loss(h, embed, C, V, targets[i], cap);
        h[k] = h0 - eps;
        const double fm = row_loss(h, embed, C, V, targets[i], cap);
        h[k] = h0;
        num[i * C + k] = static_cast<float>(gs * (fp - fm) / (2 * eps));
      }
    }
    EXPECT_LT(rel_err(dh, num), 1e-5) << "cap=" << cap;
  }
}

TEST(LmHeadLoss, ContractsUniformLogitsAllIgnoredAndBadTargets) {
  const int64_t N = 3, C = 4, V = 1000;
  const Vec zeros(N * C, 0.0f), embed = randn(V * C, 7);
  std::vector<int32_t> targets = {5, 999, 0};
  // Zero hidden state: uniform softmax, loss log(V) per row.
  int64_t count = 0;
  const double loss = ops::lm_head_ce_forward_backward(nullptr, zeros.data(), embed.data(), targets.data(), N, C, V,
                                                       0.0f, 1.0f, &count);
  EXPECT_EQ(count, 3);
  EXPECT_NEAR(loss, 3 * std::log(1000.0), 1e-5);
  // Every row ignored: zero loss, zero count, zero gradient.
  std::vector<int32_t> none(N, static_cast<int32_t>(ops::kLmHeadIgnore));
  Vec dh(N * C, NAN);
  EXPECT_EQ(
      ops::lm_head_ce_forward_backward(dh.data(), zeros.data(), embed.data(), none.data(), N, C, V, 0.0f, 1.0f, &count),
      0.0);
  EXPECT_EQ(count, 0);
  for (float x : dh) EXPECT_EQ(x, 0.0f);
  // A target outside the vocabulary (and not -100) is a caller bug.
  for (int32_t bad : {-1, 1000}) {
    targets[1] = bad;
    EXPECT_THROW(ops::lm_head_ce_forward_backward(nullptr, zeros.data(), embed.data(), targets.data(), N, C, V, 0.0f,
                                                  1.0f, nullptr),
                 InternalError);
  }
}

}  // namespace
}  // namespace scitune
