// Importance-weighted quantizers, bit-exact with ggml's quantize_row_<type>_impl given quant_weights. Each
// search below performs ggml's fp32 operations in ggml's order and with ggml's integer types (the uint8_t
// wrap-around of make_qp_quants included); compiled with -ffp-contract=off like every file in src/quant/.
//
// Legend: n values per row; blocks of 32 (Q4_0 .. Q5_1) or super-blocks of 256 = 8 x 32 (Q4_K, Q5_K) or
// 16 x 16 (Q6_K); w[i] the weight of value i in a block's least-squares fit.
#include "quant/quants_imatrix.h"

#include <cmath>
#include <cstring>
#include <string>

#include "quant/quants.h"
#include "quant/quants_internal.h"
#include "quant/quants_simd.h"
#include "util/half.h"

namespace scitune {
namespace quant::ref {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS

inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Symmetric x ~ scale * (L - nmax), L in 0..2*nmax-1, weights w: ggml's make_qx_quants(rmse_type 1, qw = w).
// Starts at scale max/-nmax, tries 18 neighbours (nmax +- 0.1 k) and keeps the best weighted least-squares fit.
float make_qx_quants_w(int n, int nmax, const float* x, int8_t* L, const float* w) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l + nmax);
    const auto fl = static_cast<float>(l);
    sumlx += w[i] * x[i] * fl;
    suml2 += w[i] * fl * fl;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const auto fl = static_cast<float>(clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
      sumlx += w[i] * x[i] * fl;
      suml2 += w[i] * fl * fl;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i)
        L[i] = static_cast<int8_t>(nmax + clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Asymmetric x ~ scale * L - the_min (L in 0..nmax, the_min >= 0): ggml's make_qkx3_quants with weights and
// squared error. nstep+1 candidate scales (rmin + rdelta k + nmax) / (max - min), each refitted by weighted
// least squares for (scale, min); the lowest weighted error wins.
float make_qkx3_quants_w(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min, uint8_t* Laux,
                         float rmin, float rdelta, int nstep) {
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max <= min) {
    std::memset(L, 0, static_cast<size_t>(n));
    *the_min = -min;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_err = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax));
    float diff = scale * static_cast<float>(L[i]) + min - x[i];
    diff = diff * diff;
    best_err += w[i] * diff;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
      Laux[i] = static_cast<uint8_t>(l);
      const auto fl = static_cast<float>(l);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float err = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * static_cast<float>(Laux[i]) + this_min - x[i];
        diff = diff * diff;
        err += w[i] * diff;
      }
      if (err < best_err) {
        std::memcpy(L, Laux, static_cast<size_t>(n));
        best_err = err;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

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

// Five-bit levels L[0..32) into a Q5 block's low nibbles and high-bit word.
void pack_q5(const uint8_t* L, uint8_t* qs, uint8_t* qh_out) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    const uint8_t xi0 = L[j], xi1 = L[j + 16];
    qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
    qh |= static_cast<uint32_t>((xi0 & 0x10u) >> 4) << j;
    qh |= static_cast<uint32_t>((xi1 & 0x10u) >> 4) << (j + kQK / 2);
  }
  std::memcpy(qh_out, &qh, 4);
}

// Shared body of Q4_K/Q5_K: per 32-value sub-block (scale, min) fits weighted by importance *
// sqrt(sigma2 + x^2), sigma2 = 2 * mean square of the super-block; then the eight scales and eight mins are
// quantised to 6 bits by make_qp_quants weighted by each sub-block's total weight, and the final levels are
// recomputed against the rounded scales. Q5_K clamps the 6-bit levels to 63, Q4_K does not (as in ggml).
void quantize_kx_block_w(const float* x, const float* qw_block, int nmax, bool clamp63, uint16_t* d_out,
                         uint16_t* dmin_out, uint8_t* packed, uint8_t* L) {
  uint8_t Laux[32], Ls[8], Lm[8];
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
    scales[j] = make_qkx3_quants_w(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f, 0.05f, 36);
  }
  const float d_block = make_qp_quants_w(8, 63, scales, Ls, sw);
  const float m_block = make_qp_quants_w(8, 63, mins, Lm, sw);
  for (int j = 0; j < 8; ++j) {
    uint8_t ls = Ls[j], lm = Lm[j];
    if (clamp63) {
      ls = ls < 63 ? ls : 63;
      lm = lm < 63 ? lm : 63;
    }
    if (j < 4) {
      packed[j] = ls;
      packed[j + 4] = lm;
    } else {
      packed[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      packed[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      packed[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  *d_out = fp32_to_fp16(d_block);
  *dmin_out = fp32_to_fp16(m_block);
  const float d_all = fp16_to_fp32(*d_out), dmin_all = fp16_to_fp32(*dmin_out);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k_scale_min(j, packed, &sc, &m);
    const float d = d_all * static_cast<float>(sc);
    if (d == 0.0f) continue;  // keep the levels of the search
    const float dm = dmin_all * static_cast<float>(m);
    for (int ii = 0; ii < 32; ++ii)
      L[32 * j + ii] = static_cast<uint8_t>(clamp_int(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
  }
}

}  // namespace

void quantize_row_q4_0_weighted(const float* x, BlockQ4_0* y, int64_t n, const float* importance) {
  float weight[kQK];
  int8_t L[kQK];
  const float sigma2 = row_sigma2(x, n);
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float* xb = x + kQK * ib;
    block_weights(xb, importance + kQK * ib, sigma2, weight);
    y[ib].d = fp32_to_fp16(make_qx_quants_w(kQK, 8, xb, L, weight));
    for (int j = 0; j < kQK / 2; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
  }
}

void quantize_row_q5_0_weighted(const float* x, BlockQ5_0* y, int64_t n, const float* importance) {
  float weight[kQK];
  int8_t L[kQK];
  uint8_t U[kQK];
  const float sigma2 = row_sigma2(x, n);
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float* xb = x + kQK * ib;
    block_weights(xb, importance + kQK * ib, sigma2, weight);
    y[ib].d = fp32_to_fp16(make_qx_quants_w(kQK, 16, xb, L, weight));
    for (int j = 0; j < kQK; ++j) U[j] = static_cast<uint8_t>(L[j]);
    pack_q5(U, y[ib].qs, y[ib].qh);
  }
}

void quantize_row_q4_1_weighted(const float* x, BlockQ4_1* y, int64_t n, const float* importance) {
  float weight[kQK];
  uint8_t L[kQK], Laux[kQK];
  const float sigma2 = row_sigma2(x, n);
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float* xb = x + kQK * ib;
    block_weights(xb, importance + kQK * ib, sigma2, weight);
    float min;
    const float d = make_qkx3_quants_w(kQK, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36);
    y[ib].d = fp32_to_fp16(d);
    y[ib].m = fp32_to_fp16(-min);
    for (int j = 0; j < kQK / 2; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
  }
}

void quantize_row_q5_1_weighted(const float* x, BlockQ5_1* y, int64_t n, const float* importance) {
  float weight[kQK];
  uint8_t L[kQK], Laux[kQK];
  const float sigma2 = row_sigma2(x, n);
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float* xb = x + kQK * ib;
    block_weights(xb, importance + kQK * ib, sigma2, weight);
    float min;
    const float d = make_qkx3_quants_w(kQK, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36);
    y[ib].d = fp32_to_fp16(d);
    y[ib].m = fp32_to_fp16(-min);
    pack_q5(L, y[ib].qs, y[ib].qh);
  }
}

void quantize_row_q4_K_weighted(const float* x, BlockQ4_K* y, int64_t n, const float* importance) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    quantize_kx_block_w(x, importance + kQK_K * i, 15, false, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

void quantize_row_q5_K_weighted(const float* x, BlockQ5_K* y, int64_t n, const float* importance) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    quantize_kx_block_w(x, importance + kQK_K * i, 31, true, &y[i].d, &y[i].dmin, y[i].scales, L);
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    uint8_t* ql = y[i].qs;
    uint8_t m1 = 1, m2 = 2;
    for (int nb = 0; nb < kQK_K; nb += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[nb + j], l2 = L[nb + j + 32];
        if (l1 > 15) {
          l1 -= 16;
          y[i].qh[j] |= m1;
        }
        if (l2 > 15) {
          l2 -= 16;
          y[i].qh[j] |= m2;
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
  }
}

// Unlike the other types, ggml weights Q6_K's 16-value fits by the raw importance (no sqrt(sigma2 + x^2)).
void quantize_row_q6_K_weighted(const float* x, BlockQ6_K* y, int64_t n, const float* importance) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float scale = make_qx_quants_w(16, 32, x + 16 * ib, L + 16 * ib, importance + kQK_K * i + 16 * ib);
      scales[ib] = scale;
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(BlockQ6_K));
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const int s = nearest_int(iscale * scales[ib]);
      y[i].scales[ib] = static_cast<int8_t>(s < 127 ? s : 127);
    }
    const float d_all = fp16_to_fp32(y[i].d);
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = d_all * static_cast<float>(y[i].scales[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii)
        L[16 * j + ii] = static_cast<int8_t>(clamp_int(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
    }
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const auto q1 = static_cast<uint8_t>(L[j + l + 0] & 0xF);
        const auto q2 = static_cast<uint8_t>(L[j + l + 32] & 0xF);
        const auto q3 = static_cast<uint8_t>(L[j + l + 64] & 0xF);
        const auto q4 = static_cast<uint8_t>(L[j + l + 96] & 0xF);
        ql[l] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                     ((L[j + l + 96] >> 4) << 6));
      }
    }
  }
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
