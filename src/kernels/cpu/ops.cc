// Fast versions of ops.h. GEMM goes to OpenBLAS (run-time dispatched kernels); the element-wise ops are
// compiled for several instruction sets with target_clones and threaded over rows.
#include "kernels/cpu/ops.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/attention_blocks.h"
#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/geglu_hwy.h"
#include "kernels/cpu/thread_pool.h"

#define SCITUNE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace scitune::ops {

void matmul_nt(float* y, const float* x, const float* w, int64_t T, int64_t K, int64_t N, bool accumulate) {
  if (T == 0 || N == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(T), static_cast<int>(N), static_cast<int>(K),
              1.0f, x, static_cast<int>(K), w, static_cast<int>(K), accumulate ? 1.0f : 0.0f, y, static_cast<int>(N));
}

namespace {

SCITUNE_CLONES void rmsnorm_rows(float* y, float* rstd, const float* x, const float* gain, int64_t t0, int64_t t1,
                                 int64_t C, float eps) {
  for (int64_t t = t0; t < t1; ++t) {
    const float* xr = x + t * C;
    float* yr = y + t * C;
    float ss = 0;
    for (int64_t c = 0; c < C; ++c) ss += xr[c] * xr[c];
    const float r = 1.0f / std::sqrt(ss / static_cast<float>(C) + eps);
    if (rstd) rstd[t] = r;
    for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * r * gain[c];
  }
}

SCITUNE_CLONES void axpy(float* y, float a, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}


// Attention of n queries (positions qpos0..qpos0+n-1) over L key/value rows whose positions are kpos[s]
// (-1: never attended) as matrix products: per head S = scale * Q K^T (sgemm), masked softmax per row, then
// O = P V (sgemm). Queries at or beyond n_live get zero output (padding). Used for prompts against the KV cache,
// whose ring-buffer slots are not in position order: the full [n, L] score block is computed even where the
// causal mask discards half of it (sgemm is an order of magnitude faster than per-pair dot products).
// Heads are the pool's tasks, each with single-threaded products: OpenBLAS's own workers, once woken, spin
// (sched_yield) long after a product and took a core from the projections around it (a fifth of a Q4_0 prompt).
void attention_gemm(float* out, int64_t out_ld, const float* q, int64_t q_ld, const float* k,
                    const float* v, int64_t kv_ld, const int64_t* kpos, int64_t L, int64_t n, int64_t qpos0,
                    int64_t n_live, int64_t H, int64_t G, int64_t D, float scale, int64_t window, float cap) {
  const int64_t group = H / G;
  thread_local std::vector<float> scores_tls;
  std::vector<float>& scores = scores_tls;
  scores.resize(static_cast<size_t>(H * n * L));
  const SingleThreadedBlasScope single_threaded(true);
  ThreadPool::global().parallel_for(H, [&](int64_t h0, int64_t h1) {
    for (int64_t h = h0; h < h1; ++h) {
      const int64_t g = h / group;
      float* S = scores.data() + h * n * L;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(L),
                  static_cast<int>(D), scale, q + h * D, static_cast<int>(q_ld), k + g * D, static_cast<int>(kv_ld),
                  0.0f, S, static_cast<int>(L));
      for (int64_t i = 0; i < n; ++i) {
        float* row = S + i * L;
        const int64_t p = qpos0 + i;
        if (i >= n_live) {
          std::fill(row, row + L, 0.0f);
          continue;
        }
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t s = 0; s < L; ++s) {
          const int64_t kp = kpos[s];
          if (kp < 0 || kp > p || (window > 0 && kp <= p - window)) {
            row[s] = -std::numeric_limits<float>::infinity();
            continue;
          }
          if (cap > 0) row[s] = cap * std::tanh(row[s] / cap);
          mx = std::max(mx, row[s]);
        }
        float sum = 0;
        for (int64_t s = 0; s < L; ++s)
          sum += (row[s] = row[s] == -std::numeric_limits<float>::infinity() ? 0.0f : std::exp(row[s] - mx));
        const float inv = 1.0f / sum;
        for (int64_t s = 0; s < L; ++s) row[s] *= inv;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(D),
                  static_cast<int>(L), 1.0f, S, static_cast<int>(L), v + g * D, static_cast<int>(kv_ld), 0.0f,
                  out + h * D, static_cast<int>(out_ld));
    }
  });
}

// Causal self-attention of a whole sequence as GEMMs over blocks of query rows: block [r0, r1) only reaches keys
// [c0, r1), so the masked half of the score matrix (and everything outside a sliding window) is never computed.
// Tasks are (head, block) pairs, spread over the pool when the GEMMs are single-threaded (attention_blocks.h).
void attention_blocks(float* out, float* probs, const float* q, const float* k, const float* v, int64_t T, int64_t H,
                      int64_t G, int64_t D, float scale, int64_t window, int64_t valid_len, float cap) {
  const int64_t n_valid = std::clamp<int64_t>(valid_len, 0, T);
  const int ldq = static_cast<int>(H * D), ldk = static_cast<int>(G * D);
  std::fill(out + n_valid * H * D, out + T * H * D, 0.0f);  // padding queries
  if (probs)
    for (int64_t h = 0; h < H; ++h) std::fill(probs + (h * T + n_valid) * T, probs + (h + 1) * T * T, 0.0f);
  std::vector<std::vector<float>> scratch(static_cast<size_t>(probs ? 0 : attention_task_slots()));
  for (auto& s : scratch) s.resize(static_cast<size_t>(kAttentionBlockRows * n_valid));
  run_attention_blocks(H, G, n_valid, window, [&](const AttentionBlock& blk) {
    const int64_t h = blk.h, g = blk.g, r0 = blk.r0, r1 = blk.r1, c0 = blk.c0, rb = blk.rows(), cb = blk.keys();
    float* S = probs ? probs + (h * T + r0) * T + c0 : scratch[static_cast<size_t>(blk.slot)].data();
    const int64_t lds = probs ? T : cb;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rb), static_cast<int>(cb),
                static_cast<int>(D), scale, q + r0 * ldq + h * D, ldq, k + c0 * ldk + g * D, ldk, 0.0f, S,
                static_cast<int>(lds));
    blk.for_rows([&](int64_t i0, int64_t i1) {
      attention_softmax_rows(S + i0 * lds, lds, i1 - i0, cb, r0 + i0, c0, window, cap);
      if (probs)  // the rest of each saved row lies outside the block's key range: zero
        for (int64_t i = i0; i < i1; ++i) {
          float* row = probs + (h * T + r0 + i) * T;
          std::fill(row, row + c0, 0.0f);
          std::fill(row + r1, row + T, 0.0f);
        }
    });
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rb), static_cast<int>(D),
                static_cast<int>(cb), 1.0f, S, static_cast<int>(lds), v + c0 * ldk + g * D, ldk, 0.0f,
                out + r0 * ldq + h * D, ldq);
  });
}

}  // namespace

// Elementwise work below this many values runs on the calling thread: decoding's norms and GeGLU (a few
// thousand values) cost less than waking the pool (~7 jobs per layer and token otherwise).
constexpr int64_t kInlineElements = 32768;

void rmsnorm(float* y, float* rstd, const float* x, const float* gain, int64_t T, int64_t C, float eps) {
  if (T * C < kInlineElements) return rmsnorm_rows(y, rstd, x, gain, 0, T, C, eps);
  ThreadPool::global().parallel_for(T, [&](int64_t b, int64_t e) { rmsnorm_rows(y, rstd, x, gain, b, e, C, eps); });
}

void rope_inv_freq(float* inv_freq, int64_t D, double base, double linear_factor) {
  for (int64_t i = 0; i < D / 2; ++i)
    inv_freq[i] = static_cast<float>(1.0 / std::pow(base, static_cast<double>(2 * i) / static_cast<double>(D)) /
                                     linear_factor);
}

void rope_neox(float* x, const int32_t* pos, const float* inv_freq, int64_t T, int64_t heads, int64_t D) {
  const int64_t half = D / 2;
  ThreadPool::global().parallel_for(T, [&](int64_t b, int64_t e) {
    std::vector<float> cs(half), sn(half);
    for (int64_t t = b; t < e; ++t) {
      for (int64_t i = 0; i < half; ++i) {
        const float angle = static_cast<float>(pos[t]) * inv_freq[i];
        cs[i] = std::cos(angle);
        sn[i] = std::sin(angle);
      }
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + (t * heads + h) * D;
        for (int64_t i = 0; i < half; ++i) {
          const float a = v[i], c = v[i + half];
          v[i] = a * cs[i] - c * sn[i];
          v[i + half] = c * cs[i] + a * sn[i];
        }
      }
    }
  });
}

void geglu(float* out, const float* gate, const float* up, int64_t n) {
  if (n < kInlineElements) return geglu_range_hwy(out, gate, up, 0, n);
  ThreadPool::global().parallel_for((n + 4095) / 4096, [&](int64_t b, int64_t e) {
    geglu_range_hwy(out, gate, up, b * 4096, std::min(n, e * 4096));
  });
}

void softcap(float* x, int64_t n, float c) {
  for (int64_t i = 0; i < n; ++i) x[i] = c * std::tanh(x[i] / c);
}

void attention(float* out, float* probs, const float* q, const float* k, const float* v, int64_t T, int64_t H,
               int64_t G, int64_t D, float scale, int64_t window, int64_t valid_len, float cap) {
  if (T >= kAttentionGemmRows) return attention_blocks(out, probs, q, k, v, T, H, G, D, scale, window, valid_len, cap);
  const int64_t group = H / G;
  // One task per (head, query row): rows are independent, so work splits evenly despite the causal triangle.
  ThreadPool::global().parallel_for(H * T, [&](int64_t b, int64_t e) {
    std::vector<float> s(T);
    for (int64_t task = b; task < e; ++task) {
      const int64_t h = task / T, t = task % T, g = h / group;
      float* o = out + (t * H + h) * D;
      float* p = probs ? probs + (h * T + t) * T : nullptr;
      std::fill(o, o + D, 0.0f);
      if (p) std::fill(p, p + T, 0.0f);
      if (t >= valid_len) continue;
      const int64_t lo = window > 0 ? std::max<int64_t>(0, t - window + 1) : 0;
      const int64_t hi = std::min(t, valid_len - 1);
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = lo; j <= hi; ++j) {
        float d = dot_f32(q + (t * H + h) * D, k + (j * G + g) * D, D) * scale;
        if (cap > 0) d = cap * std::tanh(d / cap);
        s[j] = d;
        mx = std::max(mx, d);
      }
      float sum = 0;
      for (int64_t j = lo; j <= hi; ++j) sum += (s[j] = std::exp(s[j] - mx));
      const float inv = 1.0f / sum;
      for (int64_t j = lo; j <= hi; ++j) {
        const float pj = s[j] * inv;
        if (p) p[j] = pj;
        axpy(o, pj, v + (j * G + g) * D, D);
      }
    }
  });
}

namespace {

// Decoding attention (a few queries against the cache), split for the threads the way flash-decoding does: a task
// is (query, kv group, range of keys), and runs every query head of its group, so each cached key and value row is
// read once per group instead of once per head (the 1B has one kv head for four query heads). Each task keeps, per
// head, its range's max score, sum of exponentials and unnormalised output; the ranges are then merged exactly.
void decode_attention(float* out, const float* q, const float* k_cache, const float* v_cache, int64_t cap,
                      int64_t pos0, int64_t n, int64_t H, int64_t G, int64_t D, float scale, int64_t window,
                      float cap_logits) {
  const int64_t group = H / G, threads = ThreadPool::global().size();
  auto first_key = [&](int64_t p) { return window > 0 ? std::max<int64_t>(0, p - window + 1) : 0; };
  const int64_t longest = pos0 + n - first_key(pos0 + n - 1);
  constexpr int64_t kMinKeysPerSplit = 16;  // below this a split costs more in merging than it saves
  const int64_t splits = std::clamp<int64_t>((threads + n * G - 1) / (n * G), 1,
                                             std::max<int64_t>(1, longest / kMinKeysPerSplit));
  struct Partial {  // per (task, head): max score, sum of exp(score - max), output before normalising
    float max, sum;
  };
  const int64_t tasks = n * G * splits;
  thread_local std::vector<Partial> parts_tls;
  thread_local std::vector<float> outs_tls;
  std::vector<Partial>& parts = parts_tls;
  std::vector<float>& outs = outs_tls;
  parts.assign(static_cast<size_t>(tasks * group), {});
  outs.assign(static_cast<size_t>(tasks * group * D), 0.0f);
  ThreadPool::global().parallel_for(tasks, [&](int64_t b, int64_t e) {
    std::vector<float> sc;
    for (int64_t task = b; task < e; ++task) {
      const int64_t i = task / (G * splits), g = task / splits % G, part = task % splits, p = pos0 + i;
      const int64_t lo = first_key(p), keys = p - lo + 1;
      const int64_t k0 = lo + keys * part / splits, k1 = lo + keys * (part + 1) / splits;
      sc.resize(static_cast<size_t>(std::max<int64_t>(0, k1 - k0) * group));
      for (int64_t j = k0; j < k1; ++j) {  // scores of every head of the group against key j
        const float* kr = k_cache + ((j % cap) * G + g) * D;
        for (int64_t hh = 0; hh < group; ++hh) {
          float d = dot_f32(q + (i * H + g * group + hh) * D, kr, D) * scale;
          if (cap_logits > 0) d = cap_logits * std::tanh(d / cap_logits);
          sc[(j - k0) * group + hh] = d;
        }
      }
      Partial* pt = parts.data() + task * group;
      float* ot = outs.data() + task * group * D;
      for (int64_t hh = 0; hh < group; ++hh) {
        float mx = -std::numeric_limits<float>::infinity(), sum = 0;
        for (int64_t j = k0; j < k1; ++j) mx = std::max(mx, sc[(j - k0) * group + hh]);
        for (int64_t j = k0; j < k1; ++j) sum += (sc[(j - k0) * group + hh] = std::exp(sc[(j - k0) * group + hh] - mx));
        pt[hh] = {mx, sum};
      }
      for (int64_t j = k0; j < k1; ++j) {  // value row j once for the group
        const float* vr = v_cache + ((j % cap) * G + g) * D;
        for (int64_t hh = 0; hh < group; ++hh) axpy(ot + hh * D, sc[(j - k0) * group + hh], vr, D);
      }
    }
  });
  for (int64_t i = 0; i < n; ++i)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / group, hh = h % group, t0 = (i * G + g) * splits;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t s = 0; s < splits; ++s) mx = std::max(mx, parts[(t0 + s) * group + hh].max);
      float* o = out + (i * H + h) * D;
      std::fill(o, o + D, 0.0f);
      float total = 0;
      for (int64_t s = 0; s < splits; ++s) {  // no range is empty: splits <= keys / kMinKeysPerSplit
        const Partial& pt = parts[(t0 + s) * group + hh];
        const float w = std::exp(pt.max - mx);
        total += w * pt.sum;
        axpy(o, w, outs.data() + ((t0 + s) * group + hh) * D, D);
      }
      const float inv = 1.0f / total;
      for (int64_t d = 0; d < D; ++d) o[d] *= inv;
    }
}

}  // namespace

void attention_cached(float* out, const float* q, const float* k_cache, const float* v_cache, int64_t cap,
                      int64_t pos0, int64_t n, int64_t H, int64_t G, int64_t D, float scale, int64_t window,
                      float cap_logits) {
  if (n >= kAttentionGemmRows) {
    // Slot s holds the latest position p <= pos0 + n - 1 with p % cap == s.
    const int64_t L = std::min(pos0 + n, cap), last = pos0 + n - 1;
    std::vector<int64_t> kpos(static_cast<size_t>(L));
    for (int64_t s = 0; s < L; ++s) kpos[s] = s + cap * ((last - s) / cap);
    return attention_gemm(out, H * D, q, H * D, k_cache, v_cache, G * D, kpos.data(), L, n, pos0, n, H, G,
                          D, scale, window, cap_logits);
  }
  decode_attention(out, q, k_cache, v_cache, cap, pos0, n, H, G, D, scale, window, cap_logits);
}

}  // namespace scitune::ops
