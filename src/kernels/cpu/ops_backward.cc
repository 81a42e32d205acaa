// Fast versions of ops_backward.h. Attention backward is a few OpenBLAS GEMMs per (head, block of query rows),
// restricted to the key columns the causal/sliding mask can reach; the element-wise ops are compiled for several
// instruction sets with target_clones and threaded over rows.
#include "kernels/cpu/ops_backward.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "kernels/cpu/attention_blocks.h"
#include "kernels/cpu/geglu_hwy.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"
#include "util/error.h"

#define SCITUNE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace scitune::ops {

namespace {

SCITUNE_CLONES void rmsnorm_dgain_cols(float* dgain, const float* dy, const float* x, const float* rstd, int64_t T,
                                       int64_t C, int64_t c0, int64_t c1) {
  for (int64_t t = 0; t < T; ++t) {
    const float r = rstd[t];
    const float* dyr = dy + t * C;
    const float* xr = x + t * C;
    for (int64_t c = c0; c < c1; ++c) dgain[c] += dyr[c] * xr[c] * r;
  }
}

SCITUNE_CLONES void rmsnorm_dx_rows(float* dx, const float* dy, const float* x, const float* rstd, const float* gain,
                                    int64_t t0, int64_t t1, int64_t C) {
  for (int64_t t = t0; t < t1; ++t) {
    const float* dyr = dy + t * C;
    const float* xr = x + t * C;
    float* dxr = dx + t * C;
    float dot = 0;
    for (int64_t c = 0; c < C; ++c) dot += gain[c] * dyr[c] * xr[c];
    const float r = rstd[t];
    const float k = r * r * r * dot / static_cast<float>(C);
    for (int64_t c = 0; c < C; ++c) dxr[c] = r * gain[c] * dyr[c] - xr[c] * k;
  }
}

SCITUNE_CLONES void softcap_backward_range(float* dx, const float* dy, const float* y, int64_t b, int64_t e,
                                           float inv_c) {
  for (int64_t i = b; i < e; ++i) {
    const float r = y[i] * inv_c;
    dx[i] = dy[i] * (1.0f - r * r);
  }
}

// dS = P ⊙ (dP - rowsum(P ⊙ dP)) for one block of rows, in place over dP; with a softcap, times the tanh
// derivative of the recomputed (scaled) scores s.
SCITUNE_CLONES void softmax_backward_rows(float* dp, int64_t ld_dp, const float* p, int64_t ld_p, const float* s,
                                          int64_t ld_s, int64_t rows, int64_t cols, float inv_cap) {
  for (int64_t i = 0; i < rows; ++i) {
    float* dpr = dp + i * ld_dp;
    const float* pr = p + i * ld_p;
    float rowdot = 0;
    for (int64_t j = 0; j < cols; ++j) rowdot += pr[j] * dpr[j];
    for (int64_t j = 0; j < cols; ++j) dpr[j] = pr[j] * (dpr[j] - rowdot);
    if (s) {
      const float* sr = s + i * ld_s;
      for (int64_t j = 0; j < cols; ++j) {
        const float th = std::tanh(sr[j] * inv_cap);
        dpr[j] *= 1.0f - th * th;
      }
    }
  }
}

int to_int(int64_t n) { return static_cast<int>(n); }

}  // namespace

void rmsnorm_backward(float* dx, float* dgain, const float* dy, const float* x, const float* rstd, const float* gain,
                      int64_t T, int64_t C) {
  auto& pool = ThreadPool::global();
  // dgain first: dx may overwrite dy. Column ranges per thread, so no two threads add into one dgain[c].
  if (dgain) {
    const int64_t blocks = (C + 63) / 64;
    pool.parallel_for(blocks, [&](int64_t b, int64_t e) {
      rmsnorm_dgain_cols(dgain, dy, x, rstd, T, C, b * 64, std::min(C, e * 64));
    });
  }
  pool.parallel_for(T, [&](int64_t b, int64_t e) { rmsnorm_dx_rows(dx, dy, x, rstd, gain, b, e, C); });
}

void rope_neox_backward(float* dx, const int32_t* pos, const float* inv_freq, int64_t T, int64_t heads, int64_t D) {
  // The transpose of a rotation is the rotation by the negated angle: the forward at negated positions
  // (cos is even and sin odd in IEEE arithmetic, so this is exact).
  std::vector<int32_t> neg(pos, pos + T);
  for (int32_t& p : neg) p = -p;
  rope_neox(dx, neg.data(), inv_freq, T, heads, D);
}

void geglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  ThreadPool::global().parallel_for((n + 4095) / 4096, [&](int64_t b, int64_t e) {
    geglu_backward_range_hwy(dgate, dup, dout, gate, up, b * 4096, std::min(n, e * 4096));
  });
}

void softcap_backward(float* dx, const float* dy, const float* y, int64_t n, float c) {
  ThreadPool::global().parallel_for((n + 4095) / 4096, [&](int64_t b, int64_t e) {
    softcap_backward_range(dx, dy, y, b * 4096, std::min(n, e * 4096), 1.0f / c);
  });
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                        const float* k, const float* v, int64_t T, int64_t H, int64_t G, int64_t D, float scale,
                        int64_t window, int64_t valid_len, float cap) {
  SCITUNE_CHECK(G > 0 && H % G == 0, "attention_backward: H must be a multiple of G");
  const int64_t n_valid = std::clamp<int64_t>(valid_len, 0, T);
  std::fill(dk, dk + T * G * D, 0.0f);
  std::fill(dv, dv + T * G * D, 0.0f);
  std::fill(dq + n_valid * H * D, dq + T * H * D, 0.0f);
  // Blocks of query rows: a block only reaches keys [c0, r1), so the causal triangle (and a sliding window)
  // skips most of the T x T work while each GEMM stays large enough for OpenBLAS. (head, block) tasks may run on
  // several threads: dQ rows belong to one task, dK/dV are sums over tasks, so each extra slot adds into its own
  // copy, summed at the end.
  constexpr int64_t kRows = kAttentionBlockRows;
  const int slots = attention_task_slots();
  struct Scratch {
    std::vector<float> dp, s, p_block, dk, dv;
  };
  std::vector<Scratch> scratch(static_cast<size_t>(slots));
  for (size_t i = 0; i < scratch.size(); ++i) {
    Scratch& sc = scratch[i];
    sc.dp.resize(kRows * T);
    sc.s.resize(cap > 0 ? kRows * T : 0);
    sc.p_block.resize(probs ? 0 : kRows * T);
    if (i > 0) {
      sc.dk.assign(T * G * D, 0.0f);
      sc.dv.assign(T * G * D, 0.0f);
    }
  }
  const int ldq = to_int(H * D), ldk = to_int(G * D);
  const int used = run_attention_blocks(H, G, n_valid, window, [&](const AttentionBlock& blk) {
    Scratch& sc = scratch[static_cast<size_t>(blk.slot)];
    const int64_t h = blk.h, g = blk.g, r0 = blk.r0, c0 = blk.c0, rb = blk.rows(), cb = blk.keys();
    const float* qh = q + h * D;
    const float* doh = dout + h * D;
    float* dqh = dq + h * D;
    const float* kg = k + g * D;
    const float* vg = v + g * D;
    float* dkg = (blk.slot == 0 ? dk : sc.dk.data()) + g * D;
    float* dvg = (blk.slot == 0 ? dv : sc.dv.data()) + g * D;
    float* dp = sc.dp.data();
    // dP = dO · Vᵀ
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, to_int(rb), to_int(cb), to_int(D), 1.0f, doh + r0 * ldq, ldq,
                vg + c0 * ldk, ldk, 0.0f, dp, to_int(cb));
    if (cap > 0)  // the scaled, uncapped scores, for the tanh derivative
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, to_int(rb), to_int(cb), to_int(D), scale, qh + r0 * ldq,
                  ldq, kg + c0 * ldk, ldk, 0.0f, sc.s.data(), to_int(cb));
    const float* pb = probs ? probs + (h * T + r0) * T + c0 : sc.p_block.data();
    const int64_t ld_p = probs ? T : cb;
    if (!probs) {  // this block's probabilities again, from the scores: the forward's arithmetic
      if (cap > 0)
        std::copy(sc.s.begin(), sc.s.begin() + rb * cb, sc.p_block.begin());
      else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, to_int(rb), to_int(cb), to_int(D), scale,
                    qh + r0 * ldq, ldq, kg + c0 * ldk, ldk, 0.0f, sc.p_block.data(), to_int(cb));
      blk.for_rows([&](int64_t i0, int64_t i1) {
        attention_softmax_rows(sc.p_block.data() + i0 * cb, cb, i1 - i0, cb, r0 + i0, c0, window, cap);
      });
    }
    // dV += Pᵀ · dO (before dP is overwritten; independent of it)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, to_int(cb), to_int(D), to_int(rb), 1.0f, pb, to_int(ld_p),
                doh + r0 * ldq, ldq, 1.0f, dvg + c0 * ldk, ldk);
    blk.for_rows([&](int64_t i0, int64_t i1) {
      softmax_backward_rows(dp + i0 * cb, cb, pb + i0 * ld_p, ld_p, cap > 0 ? sc.s.data() + i0 * cb : nullptr, cb,
                            i1 - i0, cb, cap > 0 ? 1.0f / cap : 0.0f);
    });
    // dQ = scale · dS · K ;  dK += scale · dSᵀ · Q
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, to_int(rb), to_int(D), to_int(cb), scale, dp, to_int(cb),
                kg + c0 * ldk, ldk, 0.0f, dqh + r0 * ldq, ldq);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, to_int(cb), to_int(D), to_int(rb), scale, dp, to_int(cb),
                qh + r0 * ldq, ldq, 1.0f, dkg + c0 * ldk, ldk);
  });
  for (int sl = 1; sl < used; ++sl) {
    const Scratch& sc = scratch[static_cast<size_t>(sl)];
    for (int64_t i = 0; i < T * G * D; ++i) {
      dk[i] += sc.dk[i];
      dv[i] += sc.dv[i];
    }
  }
}

}  // namespace scitune::ops
