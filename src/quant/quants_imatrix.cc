// Importance-weighted quantizers, bit-exact with ggml's quantize_row_<type>_impl given quant_weights. Each
// search below, and each shared one of quants_fit.h, performs ggml's fp32 operations in ggml's order and with
// ggml's integer types (the uint8_t wrap-around of make_qp_quants included); compiled with -ffp-contract=off
// like every file in src/quant/.
//
// Legend: n values per row; blocks of 32 (Q4_0 .. Q5_1) or super-blocks of 256 = 8 x 32 (Q4_K, Q5_K) or
// 16 x 16 (Q6_K); w[i] the weight of value i in a block's least-squares fit.
#include "quant/quants_imatrix.h"

#include <cmath>
#include <cstring>
#include <string>

#include "quant/quants.h"
#include "quant/quants_fit.h"
#include "quant/quants_internal.h"
#include "quant/quants_simd.h"
#include "util/half.h"

namespace scitune {
namespace quant::ref {
namespace {

// Non-negative x ~ scale * L (L in 0..nmax): ggml's make_qp_quants, used for the 6-bit sub-block scales and
// mins of Q4_K/Q5_K. L is uint8_t as in ggml: a negative level wraps, and later comparisons see the wrapped
// value, exactly as ggml's do.
float make_qp_quants_w(int n, int nmax, const float* x, uint8_t* L, const float* w) {
  float max = 0;
  for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i];  // ggml's MAX()
  if (max < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / max;
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(nearest_int(iscale * x[i]));
  const float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * static_cast<float>(L[i]);
    best_mse += w[i] * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0) continue;
    const float iscale_is = (0.1f * static_cast<float>(is) + static_cast<float>(nmax)) / max;
    const float scale_is = 1 / iscale_is;
    float mse = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale_is * x[i]);
      l = l < nmax ? l : nmax;
      const float diff = x[i] - scale_is * static_cast<float>(l);
      mse += w[i] * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_is;
    }
  }
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = l < nmax ? l : nmax;
    L[i] = static_cast<uint8_t>(l);
    const auto fl = static_cast<float>(l);
    sumlx += w[i] * x[i] * fl;
    suml2 += w[i] * fl * fl;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const auto fL = static_cast<float>(L[i]);
      float slx = sumlx - w[i] * x[i] * fL;
      float sl2 = suml2 - w[i] * fL * fL;
      if (slx > 0 && sl2 > 0) {
        int new_l = nearest_int(x[i] * sl2 / slx);
        new_l = new_l < nmax ? new_l : nmax;
        if (new_l != static_cast<int>(L[i])) {
          const auto fn = static_cast<float>(new_l);
          slx += w[i] * x[i] * fn;
          sl2 += w[i] * fn * fn;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<uint8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// sum(x^2) / n over the whole row: the row's mean square, which ggml adds to x^2 in the legacy types' weights.
float row_sigma2(const float* x, int64_t n) {
  float sum_x2 = 0;
  for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / static_cast<float>(n);
}

// Legacy-type weights of one 32-value block: importance * sqrt(sigma2 + x^2).
void block_weights(const float* xb, const float* qw, float sigma2, float* weight) {
  for (int j = 0; j < kQK; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

// The four legacy types share one row loop: block weights, then the symmetric fit (Q4_0, Q5_0: make_qx_quants)
// or the asymmetric one (Q4_1, Q5_1: make_qkx3_quants), then the levels packed as quantize_row_q*_ref packs them.
template <typename Block, int kNmax>
void quantize_row_legacy_w(const float* x, Block* y, int64_t n, const float* importance) {
  constexpr bool kHasMin = requires(Block b) { b.m; };
  constexpr bool kFiveBit = requires(Block b) { b.qh; };
  float weight[kQK];
  uint8_t L[kQK];
  const float sigma2 = row_sigma2(x, n);
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float* xb = x + kQK * ib;
    block_weights(xb, importance + kQK * ib, sigma2, weight);
    if constexpr (kHasMin) {
      uint8_t Laux[kQK];
      float min;
      const float d = make_qkx_quants(kQK, kNmax, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36);
      y[ib].d = fp32_to_fp16(d);
      y[ib].m = fp32_to_fp16(-min);
    } else {
      int8_t Ls[kQK];  // 0..2*kNmax-1, never negative
      y[ib].d = fp32_to_fp16(make_qx_quants(kQK, kNmax, xb, Ls, weight));
      for (int j = 0; j < kQK; ++j) L[j] = static_cast<uint8_t>(Ls[j]);
    }
    if constexpr (kFiveBit) {
      pack_q5(L, y[ib].qs, y[ib].qh);
    } else {
      pack_q4(L, y[ib].qs);
    }
  }
}

// Weighted search of a Q4_K/Q5_K super-block: per 32-value sub-block (scale, min) fits weighted by importance *
// sqrt(sigma2 + x^2), sigma2 = 2 * mean square of the super-block; then the eight scales and eight mins are
// quantised to 6 bits by make_qp_quants weighted by each sub-block's total weight. Q5_K clamps the 6-bit levels
// to 63, Q4_K does not (as in ggml).
void fit_kx_block_w(const float* x, const float* qw_block, int nmax, bool clamp63, KxBlockFit* fit) {
  uint8_t Laux[32];
  float weights[32], sw[8], mins[8], scales[8];
  float sum_x2 = 0;
  for (int l = 0; l < kQK_K; ++l) sum_x2 += x[l] * x[l];
  const float sigma2 = 2 * sum_x2 / kQK_K;
  for (int j = 0; j < 8; ++j) {
    const float* qw = qw_block + 32 * j;
    for (int l = 0; l < 32; ++l) weights[l] = qw[l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
    float sumw = 0;
    for (int l = 0; l < 32; ++l) sumw += weights[l];
    sw[j] = sumw;
    scales[j] = make_qkx_quants(32, nmax, x + 32 * j, weights, fit->L + 32 * j, &mins[j], Laux, -0.9f, 0.05f, 36);
  }
  fit->d = make_qp_quants_w(8, 63, scales, fit->ls, sw);
  fit->dmin = make_qp_quants_w(8, 63, mins, fit->lm, sw);
  if (clamp63) {
    for (int j = 0; j < 8; ++j) {
      fit->ls[j] = fit->ls[j] < 63 ? fit->ls[j] : 63;
      fit->lm[j] = fit->lm[j] < 63 ? fit->lm[j] : 63;
    }
  }
}

}  // namespace

void quantize_row_q4_0_weighted(const float* x, BlockQ4_0* y, int64_t n, const float* importance) {
  quantize_row_legacy_w<BlockQ4_0, 8>(x, y, n, importance);
}

void quantize_row_q5_0_weighted(const float* x, BlockQ5_0* y, int64_t n, const float* importance) {
  quantize_row_legacy_w<BlockQ5_0, 16>(x, y, n, importance);
}

void quantize_row_q4_1_weighted(const float* x, BlockQ4_1* y, int64_t n, const float* importance) {
  quantize_row_legacy_w<BlockQ4_1, 15>(x, y, n, importance);
}

void quantize_row_q5_1_weighted(const float* x, BlockQ5_1* y, int64_t n, const float* importance) {
  quantize_row_legacy_w<BlockQ5_1, 31>(x, y, n, importance);
}

void quantize_row_q4_K_weighted(const float* x, BlockQ4_K* y, int64_t n, const float* importance) {
  KxBlockFit fit;
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    fit_kx_block_w(x, importance + kQK_K * i, 15, false, &fit);
    store_q4_K_block(x, &fit, &y[i]);
  }
}

void quantize_row_q5_K_weighted(const float* x, BlockQ5_K* y, int64_t n, const float* importance) {
  KxBlockFit fit;
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    fit_kx_block_w(x, importance + kQK_K * i, 31, true, &fit);
    store_q5_K_block(x, &fit, &y[i]);
  }
}

// Unlike the other types, ggml weights Q6_K's 16-value fits by the raw importance (no sqrt(sigma2 + x^2)).
void quantize_row_q6_K_weighted(const float* x, BlockQ6_K* y, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) quantize_q6_K_block(x, importance + kQK_K * i, &y[i]);
}

}  // namespace quant::ref

bool quant_uses_importance(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

void quantize_row_weighted(GgmlType t, const float* x, void* dst, int64_t n, const float* importance) {
  if (!importance || !quant_uses_importance(t)) return quantize_row(t, x, dst, n);
  quant::check_row(t, n);
  const int64_t bad = quant::simd::first_non_finite(x, n);
  if (bad >= 0)
    fail("quantize to " + std::string(ggml_info(t).name) + ": value " + std::to_string(bad) + " of the row is " +
         (x[bad] != x[bad] ? "NaN" : "infinite") + "; block formats need finite input");
  using namespace quant;
  switch (t) {
    case GgmlType::Q4_0:
      return ref::quantize_row_q4_0_weighted(x, static_cast<BlockQ4_0*>(dst), n, importance);
    case GgmlType::Q4_1:
      return ref::quantize_row_q4_1_weighted(x, static_cast<BlockQ4_1*>(dst), n, importance);
    case GgmlType::Q5_0:
      return ref::quantize_row_q5_0_weighted(x, static_cast<BlockQ5_0*>(dst), n, importance);
    case GgmlType::Q5_1:
      return ref::quantize_row_q5_1_weighted(x, static_cast<BlockQ5_1*>(dst), n, importance);
    case GgmlType::Q4_K:
      return ref::quantize_row_q4_K_weighted(x, static_cast<BlockQ4_K*>(dst), n, importance);
    case GgmlType::Q5_K:
      return ref::quantize_row_q5_K_weighted(x, static_cast<BlockQ5_K*>(dst), n, importance);
    case GgmlType::Q6_K:
      return ref::quantize_row_q6_K_weighted(x, static_cast<BlockQ6_K*>(dst), n, importance);
    default:
      break;
  }
  SCITUNE_CHECK(false, "quantize_row_weighted: unhandled type " + std::string(ggml_info(t).name));
}

}  // namespace scitune
