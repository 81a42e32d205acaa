// Fused LM head + cross-entropy (lm_head_loss.h). The two GEMMs per block go to OpenBLAS, which threads them;
// the per-row softmax work is threaded over the block's rows with the global pool and vectorised with Highway
// (run-time dispatch; its Exp is within 1 ULP). This file is compiled once per Highway target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/lm_head_loss.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
//
#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cmath>
#include <cstdint>
#include <cstring>

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

// sum_j exp(z_j - mx): fp32 lanes within chunks of 1024 values, double across chunks. store: z_j <- exp(z_j - mx).
double RowExpSum(float* z, int64_t n, float mx, bool store) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto vmx = hn::Set(d, mx);
  double total = 0;
  for (int64_t j0 = 0; j0 < n; j0 += 1024) {
    const int64_t j1 = j0 + 1024 < n ? j0 + 1024 : n;
    auto acc = hn::Zero(d);
    int64_t j = j0;
    for (; j + L <= j1; j += L) {
      const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, z + j), vmx));
      if (store) hn::StoreU(e, d, z + j);
      acc = hn::Add(acc, e);
    }
    double part = hn::GetLane(hn::SumOfLanes(d, acc));
    for (; j < j1; ++j) {
      const float e = std::exp(z[j] - mx);
      if (store) z[j] = e;
      part += e;
    }
    total += part;
  }
  return total;
}

void RowScale(float* z, int64_t n, float a) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto va = hn::Set(d, a);
  int64_t j = 0;
  for (; j + L <= n; j += L) hn::StoreU(hn::Mul(hn::LoadU(d, z + j), va), d, z + j);
  for (; j < n; ++j) z[j] *= a;
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

#define SCITUNE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

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

SCITUNE_CLONES void softcap_row(float* z, int64_t V, float c) {
  const float inv = 1.0f / c;
  for (int64_t j = 0; j < V; ++j) z[j] = c * std::tanh(z[j] * inv);
}

HWY_EXPORT(RowMax);
HWY_EXPORT(RowExpSum);
HWY_EXPORT(RowScale);
HWY_EXPORT(Bf16ToF32);

// z holds the capped logits: z <- gs * exp(z - mx) / sum * (1 - (z/c)^2)
SCITUNE_CLONES void capped_grad_row(float* z, int64_t V, float mx, float a, float c) {
  const float inv = 1.0f / c;
  for (int64_t j = 0; j < V; ++j) {
    const float r = z[j] * inv;
    z[j] = a * std::exp(z[j] - mx) * (1.0f - r * r);
  }
}

// Rows [v0, v1) of the embedding as fp32 [v1 - v0, C], valid until the next call.
using EmbedRows = std::function<const float*(int64_t v0, int64_t v1)>;
// The same rows already in bf16 (a bf16 embedding, read in place by the bf16 path).
using EmbedRowsBf16 = std::function<const uint16_t*(int64_t v0, int64_t v1)>;

// The fused kernel over an embedding read in chunks of vchunk rows (all of V at once for fp32).
double fused(float* dhidden, const float* hidden, const EmbedRows& embed_rows, int64_t vchunk, const int32_t* targets,
             int64_t N, int64_t C, int64_t V, float softcap, float grad_scale, int64_t* count, bool bf16 = false,
             const EmbedRowsBf16& bf16_rows = {}) {
  const std::vector<int64_t> rows = active_rows(targets, N, V);
  if (count) *count = static_cast<int64_t>(rows.size());
  if (dhidden) std::fill(dhidden, dhidden + N * C, 0.0f);
  if (rows.empty()) return 0.0;

  const int64_t B = std::min<int64_t>(kLmHeadRows, static_cast<int64_t>(rows.size()));
  std::unique_ptr<float[]> logits(new float[B * V]);  // uninitialised: the GEMM writes every element
  std::vector<float> h(B * C), dh(dhidden ? B * C : 0);
  std::vector<uint16_t> hb(bf16 ? B * C : 0), eb(bf16 && !bf16_rows ? std::min(V, vchunk) * C : 0);
  auto bf16_chunk = [&](int64_t v0, int64_t v1) -> const uint16_t* {
    if (bf16_rows) return bf16_rows(v0, v1);
    to_bf16(eb.data(), embed_rows(v0, v1), (v1 - v0) * C);
    return eb.data();
  };
  std::unique_ptr<uint16_t[]> lb(bf16 && dhidden ? new uint16_t[B * V] : nullptr);
  std::vector<double> loss(rows.size());
  const bool capped = softcap > 0;
  const int iV = static_cast<int>(V), iC = static_cast<int>(C);

  for (size_t r0 = 0; r0 < rows.size(); r0 += B) {
    const int64_t nb = std::min<int64_t>(B, static_cast<int64_t>(rows.size() - r0));
    for (int64_t i = 0; i < nb; ++i) std::copy_n(hidden + rows[r0 + i] * C, C, h.data() + i * C);
    if (bf16) to_bf16(hb.data(), h.data(), nb * C);
    for (int64_t v0 = 0; v0 < V; v0 += vchunk) {  // logits[:, v0:v1] = h · E[v0:v1]ᵀ
      const int64_t v1 = std::min(V, v0 + vchunk);
      if (bf16) {
        gemm_bf16(logits.get() + v0, V, hb.data(), C, bf16_chunk(v0, v1), C, nb, v1 - v0, C, /*trans_b=*/true, false);
        continue;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nb), static_cast<int>(v1 - v0), iC, 1.0f,
                  h.data(), iC, embed_rows(v0, v1), iC, 0.0f, logits.get() + v0, iV);
    }
    ThreadPool::global().parallel_for(nb, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        float* z = logits.get() + i * V;
        const int64_t tgt = targets[rows[r0 + i]];
        if (capped) softcap_row(z, V, softcap);
        const float mx = HWY_DYNAMIC_DISPATCH(RowMax)(z, V);
        const float zt = z[tgt];
        // Without a cap the softmax numerators are kept for the gradient; with one, z is still needed for the
        // cap's derivative, so the exponentials are recomputed instead.
        const bool store = dhidden && !capped;
        const double sum = HWY_DYNAMIC_DISPATCH(RowExpSum)(z, V, mx, store);
        loss[r0 + i] = std::log(sum) + mx - zt;
        if (!dhidden) continue;
        const float a = static_cast<float>(grad_scale / sum);
        if (capped) {
          capped_grad_row(z, V, mx, a, softcap);
          const float r = zt / softcap;
          z[tgt] -= grad_scale * (1.0f - r * r);
        } else {
          HWY_DYNAMIC_DISPATCH(RowScale)(z, V, a);
          z[tgt] -= grad_scale;
        }
      }
    });
    if (!dhidden) continue;
    if (bf16) to_bf16(lb.get(), logits.get(), nb * V);
    for (int64_t v0 = 0; v0 < V; v0 += vchunk) {  // dh += dlogits[:, v0:v1] · E[v0:v1]
      const int64_t v1 = std::min(V, v0 + vchunk);
      if (bf16) {
        gemm_bf16(dh.data(), C, lb.get() + v0, V, bf16_chunk(v0, v1), C, nb, C, v1 - v0, /*trans_b=*/false, v0 > 0);
        continue;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(nb), iC, static_cast<int>(v1 - v0), 1.0f,
                  logits.get() + v0, iV, embed_rows(v0, v1), iC, v0 == 0 ? 0.0f : 1.0f, dh.data(), iC);
    }
    for (int64_t i = 0; i < nb; ++i) std::copy_n(dh.data() + i * C, C, dhidden + rows[r0 + i] * C);
  }
  double total = 0;
  for (double l : loss) total += l;
  return total;
}

}  // namespace

double lm_head_ce_forward_backward(float* dhidden, const float* hidden, const float* embed, const int32_t* targets,
                                   int64_t N, int64_t C, int64_t V, float softcap, float grad_scale, int64_t* count) {
  return fused(
      dhidden, hidden, [&](int64_t v0, int64_t) { return embed + v0 * C; }, V, targets, N, C, V, softcap, grad_scale,
      count);
}

double lm_head_ce_forward_backward_bf16(float* dhidden, const float* hidden, const uint16_t* embed,
                                        const int32_t* targets, int64_t N, int64_t C, int64_t V, float softcap,
                                        float grad_scale, int64_t* count) {
  // Chunks of ~8 MiB in fp32: big enough for an efficient GEMM, small enough to stay in the last-level cache
  // between the conversion and the GEMM that reads it.
  const int64_t vchunk = std::max<int64_t>(256, (int64_t{2} << 20) / std::max<int64_t>(C, 1));
  std::vector<float> chunk(std::min(V, vchunk) * C);
  auto rows = [&](int64_t v0, int64_t v1) {
    const int64_t n = (v1 - v0) * C;
    ThreadPool::global().parallel_for((n + 16383) / 16384, [&](int64_t b, int64_t e) {
      const int64_t i0 = b * 16384, i1 = std::min(n, e * 16384);
      HWY_DYNAMIC_DISPATCH(Bf16ToF32)(embed + v0 * C + i0, chunk.data() + i0, i1 - i0);
    });
    return static_cast<const float*>(chunk.data());
  };
  return fused(dhidden, hidden, rows, vchunk, targets, N, C, V, softcap, grad_scale, count);
}

double lm_head_ce_forward_backward(float* dhidden, const float* hidden, const WeightMatrix& embed,
                                   const int32_t* targets, int64_t N, float softcap, float grad_scale, int64_t* count,
                                   bool bf16) {
  const int64_t C = embed.cols, V = embed.rows;
  bf16 = bf16 && bf16_gemm_available();
  if (bf16 && embed.type == GgmlType::BF16) {  // read in place, the whole vocabulary as one chunk
    const auto* e = reinterpret_cast<const uint16_t*>(embed.data);
    return fused(dhidden, hidden, EmbedRows{}, V, targets, N, C, V, softcap, grad_scale, count, /*bf16=*/true,
                 [&](int64_t v0, int64_t) { return e + v0 * C; });
  }
  if (bf16) {  // chunks of rows widened to fp32 then rounded to bf16 for the GEMMs
    const int64_t vchunk = std::max<int64_t>(256, (int64_t{2} << 20) / std::max<int64_t>(C, 1));
    std::vector<float> chunk(std::min(V, vchunk) * C);
    auto rows = [&](int64_t v0, int64_t v1) -> const float* {
      if (embed.is_f32()) return reinterpret_cast<const float*>(embed.data) + v0 * C;
      ThreadPool::global().parallel_for(v1 - v0, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) weight_row(chunk.data() + r * C, embed, v0 + r);
      });
      return chunk.data();
    };
    return fused(dhidden, hidden, rows, vchunk, targets, N, C, V, softcap, grad_scale, count, /*bf16=*/true);
  }
  if (embed.is_f32())
    return lm_head_ce_forward_backward(dhidden, hidden, reinterpret_cast<const float*>(embed.data), targets, N, C, V,
                                       softcap, grad_scale, count);
  if (embed.type == GgmlType::BF16)
    return lm_head_ce_forward_backward_bf16(dhidden, hidden, reinterpret_cast<const uint16_t*>(embed.data), targets,
                                            N, C, V, softcap, grad_scale, count);
  const int64_t vchunk = std::max<int64_t>(256, (int64_t{2} << 20) / std::max<int64_t>(C, 1));
  std::vector<float> chunk(std::min(V, vchunk) * C);
  auto rows = [&](int64_t v0, int64_t v1) {
    ThreadPool::global().parallel_for(v1 - v0, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) weight_row(chunk.data() + r * C, embed, v0 + r);
    });
    return static_cast<const float*>(chunk.data());
  };
  return fused(dhidden, hidden, rows, vchunk, targets, N, C, V, softcap, grad_scale, count);
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
