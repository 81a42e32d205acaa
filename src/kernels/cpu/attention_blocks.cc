// Attention block helpers (attention_blocks.h). The softmax is vectorised with Highway (run-time dispatch; its
// Exp and Tanh are within a few ULP): scalar std::exp over the score triangle was a visible part of a step.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/attention_blocks.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
//
#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace scitune::ops {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One row: entries [lo, hi) are live, the rest of [0, cols) become 0.
void SoftmaxRow(float* row, int64_t cols, int64_t lo, int64_t hi, float cap) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  std::fill(row, row + lo, 0.0f);
  std::fill(row + hi, row + cols, 0.0f);
  if (hi <= lo) return;
  float* z = row + lo;
  const int64_t n = hi - lo;
  if (cap > 0) {
    const auto c = hn::Set(d, cap), inv = hn::Set(d, 1.0f / cap);
    int64_t j = 0;
    for (; j + L <= n; j += L) hn::StoreU(hn::Mul(c, hn::Tanh(d, hn::Mul(hn::LoadU(d, z + j), inv))), d, z + j);
    for (; j < n; ++j) z[j] = cap * std::tanh(z[j] / cap);
  }
  auto vmax = hn::Set(d, -HUGE_VALF);
  int64_t j = 0;
  for (; j + L <= n; j += L) vmax = hn::Max(vmax, hn::LoadU(d, z + j));
  float mx = hn::GetLane(hn::MaxOfLanes(d, vmax));
  for (; j < n; ++j) mx = std::max(mx, z[j]);
  const auto vm = hn::Set(d, mx);
  auto vsum = hn::Zero(d);
  j = 0;
  for (; j + L <= n; j += L) {
    const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, z + j), vm));
    hn::StoreU(e, d, z + j);
    vsum = hn::Add(vsum, e);
  }
  float sum = hn::GetLane(hn::SumOfLanes(d, vsum));
  for (; j < n; ++j) sum += (z[j] = std::exp(z[j] - mx));
  const float inv = 1.0f / sum;
  const auto vinv = hn::Set(d, inv);
  j = 0;
  for (; j + L <= n; j += L) hn::StoreU(hn::Mul(hn::LoadU(d, z + j), vinv), d, z + j);
  for (; j < n; ++j) z[j] *= inv;
}

// Sum of a[i]·b[i] in four vector accumulators: a plain loop's single fp32 sum is a serial chain the compiler
// may not reorder, which made decoding's per-key attention scores a tenth of a token's time.
float Dot(const float* a, const float* b, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + L), hn::LoadU(d, b + i + L), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + i + 2 * L), hn::LoadU(d, b + i + 2 * L), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + i + 3 * L), hn::LoadU(d, b + i + 3 * L), s3);
  }
  for (; i + L <= n; i += L) s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  float r = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

}  // namespace HWY_NAMESPACE
}  // namespace scitune::ops
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "kernels/cpu/attention_blocks.h"
#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/thread_pool.h"

namespace scitune::ops {

HWY_EXPORT(SoftmaxRow);
HWY_EXPORT(Dot);

float dot_f32(const float* a, const float* b, int64_t n) { return HWY_DYNAMIC_DISPATCH(Dot)(a, b, n); }

void attention_softmax_rows(float* p, int64_t ld, int64_t rows, int64_t cols, int64_t r0, int64_t c0, int64_t window,
                            float cap) {
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t t = r0 + i;  // keys c0 + j live for t - window < c0 + j <= t
    const int64_t lo = std::clamp<int64_t>(window > 0 ? t - window + 1 - c0 : 0, 0, cols);
    const int64_t hi = std::clamp<int64_t>(t + 1 - c0, 0, cols);
    HWY_DYNAMIC_DISPATCH(SoftmaxRow)(p + i * ld, cols, lo, hi, cap);
  }
}

int attention_task_slots() { return blas_single_threaded() ? ThreadPool::global().size() : 1; }

void AttentionBlock::for_rows(const std::function<void(int64_t, int64_t)>& fn) const {
  if (threaded_rows)
    ThreadPool::global().parallel_for(rows(), fn);
  else
    fn(0, rows());
}

int run_attention_blocks(int64_t H, int64_t G, int64_t n_valid, int64_t window,
                         const std::function<void(const AttentionBlock&)>& fn) {
  const int64_t blocks = (n_valid + kAttentionBlockRows - 1) / kAttentionBlockRows, n_tasks = H * blocks;
  auto run = [&](int64_t t, int slot, bool threaded_rows) {
    const int64_t h = t / blocks, r0 = (t % blocks) * kAttentionBlockRows;
    const int64_t c0 = window > 0 && r0 - window + 1 > 0 ? r0 - window + 1 : 0;
    fn(AttentionBlock{h, h / (H / G), r0, std::min(n_valid, r0 + kAttentionBlockRows), c0, slot, threaded_rows});
  };
  const int slots = static_cast<int>(std::min<int64_t>(attention_task_slots(), std::max<int64_t>(n_tasks, 1)));
  if (slots <= 1) {
    for (int64_t t = 0; t < n_tasks; ++t) run(t, 0, true);
    return 1;
  }
  ThreadPool::global().parallel_for(slots, [&](int64_t b, int64_t e) {
    for (int64_t s = b; s < e; ++s)
      for (int64_t t = s; t < n_tasks; t += slots) run(t, static_cast<int>(s), false);
  });
  return slots;
}

}  // namespace scitune::ops
#endif  // HWY_ONCE
