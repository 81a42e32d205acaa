// Scale searches and block writers shared by the reference quantizers (quants_ref.cc, quants_kquants_ref.cc:
// ggml's quantize_row_*_ref) and the importance-weighted ones (quants_imatrix.cc: quantize_row_*_impl with
// quant_weights). ggml runs both through the same searches and the same packing; only the weights and the way
// the sub-block scales are rounded differ, so those stay with the callers and the rest lives here once.
// Not part of the public API. The functions not defined here are in quants_kquants_ref.cc (compiled with
// -ffp-contract=off).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "quant/quant_blocks.h"

namespace scitune::quant::ref {

inline constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: a smaller max |x| quantises to zero

// max |x| over n values, and the signed value that has it (first one wins on ties, like ggml).
struct SignedMax {
  float amax = 0.0f;
  float max = 0.0f;
};
inline SignedMax signed_abs_max(const float* x, int n) {
  SignedMax r;
  for (int j = 0; j < n; ++j) {
    if (r.amax < std::fabs(x[j])) {
      r.amax = std::fabs(x[j]);
      r.max = x[j];
    }
  }
  return r;
}

// Symmetric x ~ scale * (L - nmax), L in 0..2*nmax-1: ggml's make_qx_quants with rmse_type 1. Starts at scale
// max/-nmax, tries 18 neighbours (nmax +- 0.1 k) and keeps the best weighted least-squares fit. qw weighs the
// fit; null means x^2, as ggml does without quant_weights.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, const float* qw);

// Asymmetric x ~ scale * L - neg_min (L in 0..nmax, neg_min >= 0) with squared error: ggml's make_qkx2_quants
// and make_qkx3_quants (use_mad false), which perform the same operations given weights. nstep+1 candidate
// scales (rmin + rdelta k + nmax) / (max - min), each refitted by weighted least squares for (scale, min); the
// lowest weighted error wins. Laux is n bytes of scratch.
float make_qkx_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* neg_min, uint8_t* Laux,
                      float rmin, float rdelta, int nstep);

// A Q4_K/Q5_K super-block after the per-sub-block search: the levels of the search, the eight 6-bit scale and
// min levels and the two super-scales they multiply. The searches differ between the reference and the
// weighted quantizers; what is stored from their result does not.
struct KxBlockFit {
  uint8_t L[kQK_K];  // levels 0..nmax of the 8 x 32 values, from the sub-block searches
  uint8_t ls[8];     // sub-block scale levels, 0..63 except where ggml lets Q4_K's weighted search wrap
  uint8_t lm[8];     // sub-block min levels, likewise
  float d = 0;       // super-scale of ls
  float dmin = 0;    // super-scale of lm
};

// Packs fit's 6-bit levels and fp16 super-scales, recomputes the levels against the rounded scales (fit->L is
// overwritten) and stores them: Q4_K with nmax 15, Q5_K with nmax 31.
void store_q4_K_block(const float* x, KxBlockFit* fit, BlockQ4_K* y);
void store_q5_K_block(const float* x, KxBlockFit* fit, BlockQ5_K* y);

// One Q6_K super-block: sixteen 16-value make_qx_quants fits (nmax 32) weighted by qw (null: x^2), the scales
// rounded to int8 against the largest, the levels recomputed against the rounded scales and packed.
void quantize_q6_K_block(const float* x, const float* qw, BlockQ6_K* y);

// Four-bit levels L[0..32) into a Q4 block: byte j holds value j (low nibble) and value j+16 (high nibble).
inline void pack_q4(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
}

// Five-bit levels L[0..32) into a Q5 block's low nibbles (as pack_q4) and high-bit word (bit j = value j).
inline void pack_q5(const uint8_t* L, uint8_t* qs, uint8_t* qh_out) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    const uint8_t xi0 = L[j], xi1 = L[j + 16];
    qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
    qh |= static_cast<uint32_t>((xi0 & 0x10u) >> 4) << j;
    qh |= static_cast<uint32_t>((xi1 & 0x10u) >> 4) << (j + kQK / 2);
  }
  std::memcpy(qh_out, &qh, 4);
}

}  // namespace scitune::quant::ref
