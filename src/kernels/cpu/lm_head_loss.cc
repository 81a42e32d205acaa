// Fused LM head + cross-entropy (lm_head_loss.h). The GEMMs go to OpenBLAS (fp32) or oneDNN (bf16), which
// thread them; the per-row softmax work is threaded over the block's rows with the global pool and vectorised
// with Highway (run-time dispatch; its Exp is within 1 ULP). This file is compiled once per Highway target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/lm_head_loss.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
//
#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "util/half.h"

HWY_BEFORE_NAMESPACE();
namespace scitune::ops {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

float RowMax(const float* z, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  auto m = hn::Set(d, -HUGE_VALF);
  int64_t j = 0;
  for (; j + L <= n; j += L) m = hn::Max(m, hn::LoadU(d, z + j));
  float r = hn::GetLane(hn::MaxOfLanes(d, m));
  for (; j < n; ++j) r = z[j] > r ? z[j] : r;
  return r;
}

// One segment of a row in the running log-sum-exp: caps z in place first when cap > 0 (c·tanh(z/c)), then
// (mx, sum) <- the max so far and sum_j exp(z_j - mx) so far (fp32 lanes within 1024 values, double across).
void RowStats(float* z, int64_t n, float cap, float* mx, double* sum) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  if (cap > 0) {
    const auto c = hn::Set(d, cap), inv = hn::Set(d, 1.0f / cap);
    int64_t j = 0;
    for (; j + L <= n; j += L) hn::StoreU(hn::Mul(c, hn::Tanh(d, hn::Mul(hn::LoadU(d, z + j), inv))), d, z + j);
    for (; j < n; ++j) z[j] = cap * std::tanh(z[j] / cap);
  }
  const float seg_max = RowMax(z, n);
  if (seg_max > *mx) {
    *sum *= std::exp(static_cast<double>(*mx) - seg_max);
    *mx = seg_max;
  }
  const auto vmx = hn::Set(d, *mx);
  double total = 0;
  for (int64_t j0 = 0; j0 < n; j0 += 1024) {
    const int64_t j1 = j0 + 1024 < n ? j0 + 1024 : n;
    auto acc = hn::Zero(d);
    int64_t j = j0;
    for (; j + L <= j1; j += L) acc = hn::Add(acc, hn::Exp(d, hn::Sub(hn::LoadU(d, z + j), vmx)));
    double part = hn::GetLane(hn::SumOfLanes(d, acc));
    for (; j < j1; ++j) part += std::exp(z[j] - *mx);
    total += part;
  }
  *sum += total;
}

// d loss / d logits over one segment, without the target's -1: g_j = a·exp(z_j - mx), times (1 - (z_j/c)²) when
// the logits are capped (inv_cap = 1/c, else 0). Written over z (fp32) or, when out is non-null, rounded to
// bf16 (nearest even, NaN kept) into out.
void GradRow(float* z, uint16_t* out, int64_t n, float mx, float a, float inv_cap) {
  const hn::ScalableTag<float> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const hn::RebindToSigned<decltype(d)> di;
  const hn::Rebind<uint16_t, decltype(d)> d16;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto vmx = hn::Set(d, mx), va = hn::Set(d, a), vic = hn::Set(d, inv_cap), one = hn::Set(d, 1.0f);
  const auto round_bias = hn::Set(du, 0x7fffu), lsb = hn::Set(du, 1u), abs_mask = hn::Set(du, 0x7fffffffu);
  const auto inf_bits = hn::Set(du, 0x7f800000u), quiet = hn::Set(du, 64u);
  int64_t j = 0;
  for (; j + L <= n; j += L) {
    const auto zj = hn::LoadU(d, z + j);
    auto g = hn::Mul(va, hn::Exp(d, hn::Sub(zj, vmx)));
    if (inv_cap > 0) {
      const auto r = hn::Mul(zj, vic);
      g = hn::Mul(g, hn::NegMulAdd(r, r, one));
    }
    if (!out) {
      hn::StoreU(g, d, z + j);
      continue;
    }
    const auto u = hn::BitCast(du, g);
    const auto rounded = hn::ShiftRight<16>(hn::Add(hn::Add(u, round_bias), hn::And(hn::ShiftRight<16>(u), lsb)));
    const auto nan = hn::Gt(hn::And(u, abs_mask), inf_bits);
    const auto bits = hn::IfThenElse(nan, hn::Or(hn::ShiftRight<16>(u), quiet), rounded);
    hn::StoreU(hn::DemoteTo(d16, hn::BitCast(di, bits)), d16, out + j);  // bits <= 0xffff: no saturation
  }
  for (; j < n; ++j) {
    float g = a * std::exp(z[j] - mx);
    if (inv_cap > 0) g *= 1.0f - (z[j] * inv_cap) * (z[j] * inv_cap);
    if (out)
      out[j] = fp32_to_bf16(g);
    else
      z[j] = g;
  }
}

// bf16 -> fp32 is exact: the bf16 bits become the high half of the fp32 word.
void Bf16ToF32(const uint16_t* src, float* dst, int64_t n) {
  const hn::ScalableTag<float> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const hn::Rebind<uint16_t, decltype(d)> d16;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t j = 0;
  for (; j + L <= n; j += L)
    hn::StoreU(hn::BitCast(d, hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, src + j)))), d, dst + j);
  for (; j < n; ++j) {
    const uint32_t bits = static_cast<uint32_t>(src[j]) << 16;
    std::memcpy(dst + j, &bits, 4);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace scitune::ops
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/lm_head_loss.h"
#include "kernels/cpu/thread_pool.h"
#include "util/error.h"

namespace scitune::ops {

namespace {

// Active rows and the target check shared by the fast and the reference version.
std::vector<int64_t> active_rows(const int32_t* targets, int64_t N, int64_t V) {
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < N; ++i) {
    if (targets[i] == kLmHeadIgnore) continue;
    SCITUNE_CHECK(targets[i] >= 0 && targets[i] < V, "lm_head_ce: target " + std::to_string(targets[i]) + " of row " +
                                                         std::to_string(i) + " outside [0, " + std::to_string(V) +
                                                         ") and not the ignore id -100");
    rows.push_back(i);
  }
  return rows;
}

HWY_EXPORT(RowStats);
HWY_EXPORT(GradRow);
HWY_EXPORT(Bf16ToF32);

// Rows [v0, v1) of the embedding as fp32 [v1 - v0, C], valid until the next call.
using EmbedRows = std::function<const float*(int64_t v0, int64_t v1)>;
// The same rows in bf16 (a bf16 embedding read in place, or rows rounded for the bf16 path).
using EmbedRowsBf16 = std::function<const uint16_t*(int64_t v0, int64_t v1)>;

// Columns of the vocabulary per GEMM: a block's [kLmHeadRows, kVocabChunk] slice of logits (2 MiB) is still in
// cache when its softmax statistics, and later its gradient, are computed right after the GEMM that wrote it.
// (An fp32 embedding used in place goes whole instead: with OpenBLAS threading the GEMMs, alternating with the
// pool per chunk left both sets of threads fighting for the cores — the whole step got 20% slower.)
constexpr int64_t kVocabChunk = 4096;

// Scratch reused across calls (a training step calls once; the block's logits are 128 MiB at V = 262144).
struct HeadScratch {
  std::unique_ptr<float[]> logits;
  size_t logits_size = 0;
  std::vector<float> h, dh;
  std::vector<uint16_t> hb, gb;
  float* logits_for(size_t n) {
    if (logits_size < n) {
      logits.reset(new float[n]);  // uninitialised: the GEMMs write every element read later
      logits_size = n;
    }
    return logits.get();
  }
};

// The fused kernel. Per block of rows: (1) logits chunk by chunk (GEMM), each chunk's part of the running
// log-sum-exp taken while it is in cache; (2) with dhidden, chunk by chunk again: d logits (rounded to bf16 on
// the bf16 path) and dh += d logits · E for that chunk. The [B, V] logits are written once and read once.
double fused(float* dhidden, const float* hidden, const EmbedRows& embed_rows, const EmbedRowsBf16& bf16_rows,
             int64_t vchunk, const int32_t* targets, int64_t N, int64_t C, int64_t V, float softcap, float grad_scale,
             int64_t* count) {
  const std::vector<int64_t> rows = active_rows(targets, N, V);
  if (count) *count = static_cast<int64_t>(rows.size());
  if (dhidden) std::fill(dhidden, dhidden + N * C, 0.0f);
  if (rows.empty()) return 0.0;

  const bool bf16 = static_cast<bool>(bf16_rows);
  const int64_t B = std::min<int64_t>(kLmHeadRows, static_cast<int64_t>(rows.size()));
  const int64_t VC = std::min(V, vchunk);
  thread_local HeadScratch scratch_tls;
  HeadScratch& sc = scratch_tls;
  float* logits = sc.logits_for(static_cast<size_t>(B * V));
  sc.h.resize(static_cast<size_t>(B * C));
  sc.dh.resize(dhidden ? static_cast<size_t>(B * C) : 0);
  sc.hb.resize(bf16 ? static_cast<size_t>(B * C) : 0);
  sc.gb.resize(bf16 && dhidden ? static_cast<size_t>(B * VC) : 0);
  std::vector<float> mx(static_cast<size_t>(B)), zt(static_cast<size_t>(B));
  std::vector<double> sum(static_cast<size_t>(B)), loss(rows.size());
  const float inv_cap = softcap > 0 ? 1.0f / softcap : 0.0f;
  const int iV = static_cast<int>(V), iC = static_cast<int>(C);
  auto& pool = ThreadPool::global();

  for (size_t r0 = 0; r0 < rows.size(); r0 += B) {
    const int64_t nb = std::min<int64_t>(B, static_cast<int64_t>(rows.size() - r0));
    for (int64_t i = 0; i < nb; ++i) std::copy_n(hidden + rows[r0 + i] * C, C, sc.h.data() + i * C);
    if (bf16) to_bf16(sc.hb.data(), sc.h.data(), nb * C);
    std::fill(mx.begin(), mx.end(), -HUGE_VALF);
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t v0 = 0; v0 < V; v0 += VC) {  // logits[:, v0:v1] = h · E[v0:v1]ᵀ, then its part of the log-sum-exp
      const int64_t v1 = std::min(V, v0 + VC);
      if (bf16)
        gemm_bf16(logits + v0, V, sc.hb.data(), C, bf16_rows(v0, v1), C, nb, v1 - v0, C, /*trans_b=*/true, false);
      else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nb), static_cast<int>(v1 - v0), iC,
                    1.0f, sc.h.data(), iC, embed_rows(v0, v1), iC, 0.0f, logits + v0, iV);
      pool.parallel_for(nb, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          float* z = logits + i * V + v0;
          HWY_DYNAMIC_DISPATCH(RowStats)(z, v1 - v0, softcap, &mx[i], &sum[i]);
          const int64_t tgt = targets[rows[r0 + i]];
          if (tgt >= v0 && tgt < v1) zt[i] = z[tgt - v0];
        }
      });
    }
    for (int64_t i = 0; i < nb; ++i) loss[r0 + i] = std::log(sum[i]) + mx[i] - zt[i];
    if (!dhidden) continue;
    for (int64_t v0 = 0; v0 < V; v0 += VC) {  // dh += dlogits[:, v0:v1] · E[v0:v1]
      const int64_t v1 = std::min(V, v0 + VC);
      pool.parallel_for(nb, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          float* z = logits + i * V + v0;
          const int64_t tgt = targets[rows[r0 + i]];
          const float a = static_cast<float>(grad_scale / sum[i]);
          float g_tgt = 0;
          if (tgt >= v0 && tgt < v1) {  // softmax - onehot at the target, before any rounding
            const float r = z[tgt - v0] * inv_cap;
            g_tgt = (a * std::exp(z[tgt - v0] - mx[i]) - grad_scale) * (softcap > 0 ? 1.0f - r * r : 1.0f);
          }
          uint16_t* out = bf16 ? sc.gb.data() + i * VC : nullptr;
          HWY_DYNAMIC_DISPATCH(GradRow)(z, out, v1 - v0, mx[i], a, inv_cap);
          if (tgt >= v0 && tgt < v1) {
            if (out)
              out[tgt - v0] = fp32_to_bf16(g_tgt);
            else
              z[tgt - v0] = g_tgt;
          }
        }
      });
      if (bf16)
        gemm_bf16(sc.dh.data(), C, sc.gb.data(), VC, bf16_rows(v0, v1), C, nb, C, v1 - v0, /*trans_b=*/false, v0 > 0);
      else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(nb), iC, static_cast<int>(v1 - v0),
                    1.0f, logits + v0, iV, embed_rows(v0, v1), iC, v0 == 0 ? 0.0f : 1.0f, sc.dh.data(), iC);
    }
    for (int64_t i = 0; i < nb; ++i) std::copy_n(sc.dh.data() + i * C, C, dhidden + rows[r0 + i] * C);
  }
  double total = 0;
  for (double l : loss) total += l;
  return total;
}

}  // namespace

double lm_head_ce_forward_backward(float* dhidden, const float* hidden, const float* embed, const int32_t* targets,
                                   int64_t N, int64_t C, int64_t V, float softcap, float grad_scale, int64_t* count) {
  return fused(
      dhidden, hidden, [&](int64_t v0, int64_t) { return embed + v0 * C; }, EmbedRowsBf16{}, V, targets, N, C, V,
      softcap, grad_scale, count);
}

double lm_head_ce_forward_backward_bf16(float* dhidden, const float* hidden, const uint16_t* embed,
                                        const int32_t* targets, int64_t N, int64_t C, int64_t V, float softcap,
                                        float grad_scale, int64_t* count) {
  std::vector<float> chunk(static_cast<size_t>(std::min(V, kVocabChunk) * C));
  auto rows = [&](int64_t v0, int64_t v1) {
    const int64_t n = (v1 - v0) * C;
    ThreadPool::global().parallel_for((n + 16383) / 16384, [&](int64_t b, int64_t e) {
      const int64_t i0 = b * 16384, i1 = std::min(n, e * 16384);
      HWY_DYNAMIC_DISPATCH(Bf16ToF32)(embed + v0 * C + i0, chunk.data() + i0, i1 - i0);
    });
    return static_cast<const float*>(chunk.data());
  };
  return fused(dhidden, hidden, rows, EmbedRowsBf16{}, kVocabChunk, targets, N, C, V, softcap, grad_scale, count);
}

double lm_head_ce_forward_backward(float* dhidden, const float* hidden, const WeightMatrix& embed,
                                   const int32_t* targets, int64_t N, float softcap, float grad_scale, int64_t* count,
                                   bool bf16) {
  const int64_t C = embed.cols, V = embed.rows;
  bf16 = bf16 && bf16_gemm_available();
  if (bf16 && embed.type == GgmlType::BF16 && !embed.nf4) {  // read in place
    const auto* e = reinterpret_cast<const uint16_t*>(embed.data);
    return fused(dhidden, hidden, EmbedRows{}, [&](int64_t v0, int64_t) { return e + v0 * C; }, kVocabChunk, targets,
                 N, C, V, softcap, grad_scale, count);
  }
  if (embed.is_f32() && !bf16)
    return lm_head_ce_forward_backward(dhidden, hidden, reinterpret_cast<const float*>(embed.data), targets, N, C, V,
                                       softcap, grad_scale, count);
  if (embed.type == GgmlType::BF16 && !embed.nf4 && !bf16)
    return lm_head_ce_forward_backward_bf16(dhidden, hidden, reinterpret_cast<const uint16_t*>(embed.data), targets,
                                            N, C, V, softcap, grad_scale, count);
  // Chunks of rows dequantised to fp32 (fp32 rows used in place), and rounded to bf16 for the bf16 path.
  const int64_t VC = std::min(V, kVocabChunk);
  std::vector<float> chunk(embed.is_f32() ? 0 : static_cast<size_t>(VC * C));
  std::vector<uint16_t> chunk_bf16(bf16 ? static_cast<size_t>(VC * C) : 0);
  auto rows = [&](int64_t v0, int64_t v1) -> const float* {
    if (embed.is_f32()) return reinterpret_cast<const float*>(embed.data) + v0 * C;
    ThreadPool::global().parallel_for(v1 - v0, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) weight_row(chunk.data() + r * C, embed, v0 + r);
    });
    return chunk.data();
  };
  if (!bf16) return fused(dhidden, hidden, rows, EmbedRowsBf16{}, kVocabChunk, targets, N, C, V, softcap, grad_scale, count);
  auto rows_bf16 = [&](int64_t v0, int64_t v1) -> const uint16_t* {
    to_bf16(chunk_bf16.data(), rows(v0, v1), (v1 - v0) * C);
    return chunk_bf16.data();
  };
  return fused(dhidden, hidden, EmbedRows{}, rows_bf16, kVocabChunk, targets, N, C, V, softcap, grad_scale, count);
}

namespace ref {

double lm_head_ce_forward_backward(float* dhidden, const float* hidden, const float* embed, const int32_t* targets,
                                   int64_t N, int64_t C, int64_t V, float softcap, float grad_scale, int64_t* count) {
  const std::vector<int64_t> rows = active_rows(targets, N, V);
  if (count) *count = static_cast<int64_t>(rows.size());
  if (dhidden) std::fill(dhidden, dhidden + N * C, 0.0f);
  std::vector<double> z(V), raw(V), dh(C);
  double total = 0;
  for (int64_t i : rows) {
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < V; ++j) {
      double acc = 0;
      for (int64_t c = 0; c < C; ++c) acc += static_cast<double>(hidden[i * C + c]) * embed[j * C + c];
      raw[j] = acc;
      z[j] = softcap > 0 ? softcap * std::tanh(acc / softcap) : acc;
      mx = std::max(mx, z[j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < V; ++j) sum += std::exp(z[j] - mx);
    const int64_t tgt = targets[i];
    total += std::log(sum) + mx - z[tgt];
    if (!dhidden) continue;
    std::fill(dh.begin(), dh.end(), 0.0);
    for (int64_t j = 0; j < V; ++j) {
      double g = std::exp(z[j] - mx) / sum - (j == tgt ? 1.0 : 0.0);
      if (softcap > 0) {
        const double th = std::tanh(raw[j] / softcap);
        g *= 1.0 - th * th;
      }
      for (int64_t c = 0; c < C; ++c) dh[c] += g * embed[j * C + c];
    }
    for (int64_t c = 0; c < C; ++c) dhidden[i * C + c] = static_cast<float>(grad_scale * dh[c]);
  }
  return total;
}

}  // namespace ref

}  // namespace scitune::ops
#endif  // HWY_ONCE
