#include "kernels/cpu/q4_0x16.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/matvec_vnni.h"
#include "quant/quant_blocks.h"
#include "util/error.h"

namespace scitune::ops {

using quant::BlockQ4_0;
using quant::kQK;

bool q4_0x16_available() { return vnni_matvec_available(GgmlType::Q4_0); }  // the same CPU features

bool q4_0x16_fits(int64_t rows, int64_t cols) { return rows > 0 && rows % kQ4x16Rows == 0 && cols % kQK == 0; }

void pack_q4_0x16(uint8_t* out, const uint8_t* q4_0_rows, int64_t rows, int64_t cols) {
  SCITUNE_CHECK(q4_0x16_fits(rows, cols), "pack_q4_0x16: rows % 16 == 0 and cols % 32 == 0");
  const int64_t nb = cols / kQK;
  const auto* src = reinterpret_cast<const BlockQ4_0*>(q4_0_rows);
  for (int64_t g = 0; g < rows / kQ4x16Rows; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* dst = out + (g * nb + b) * kQ4x16BlockBytes;
      for (int64_t i = 0; i < kQ4x16Rows; ++i) {
        const BlockQ4_0& blk = src[(g * kQ4x16Rows + i) * nb + b];
        std::memcpy(dst + 2 * i, &blk.d, 2);
        for (int j = 0; j < 4; ++j) std::memcpy(dst + 32 + 64 * j + 4 * i, blk.qs + 4 * j, 4);
      }
    }
  }
}

void unpack_q4_0x16(uint8_t* q4_0_rows, const uint8_t* packed, int64_t rows, int64_t cols) {
  SCITUNE_CHECK(q4_0x16_fits(rows, cols), "unpack_q4_0x16: rows % 16 == 0 and cols % 32 == 0");
  const int64_t nb = cols / kQK;
  auto* dst = reinterpret_cast<BlockQ4_0*>(q4_0_rows);
  for (int64_t g = 0; g < rows / kQ4x16Rows; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* src = packed + (g * nb + b) * kQ4x16BlockBytes;
      for (int64_t i = 0; i < kQ4x16Rows; ++i) {
        BlockQ4_0& blk = dst[(g * kQ4x16Rows + i) * nb + b];
        std::memcpy(&blk.d, src + 2 * i, 2);
        for (int j = 0; j < 4; ++j) std::memcpy(blk.qs + 4 * j, src + 32 + 64 * j + 4 * i, 4);
      }
    }
  }
}

namespace {

inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// One group (16 weight rows) against kT activation rows starting at t0. Per block: the 16 rows' nibbles are
// unpacked once into 8 registers and reused by every activation row; each activation row's block sum starts at
// -8·sum(a) (Q4_0's value = nibble - 8) and gets 8 vpdpbusd; then one scale multiply-add per block in fp32.
template <int kT>
SCITUNE_VNNI void group_tile(float* y, int64_t ldy, const ActivationQ8& a, int64_t t0, const uint8_t* group,
                                int64_t nb, bool accumulate) {
  const int64_t K = a.cols;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512 acc[kT];
  for (int t = 0; t < kT; ++t) acc[t] = _mm512_setzero_ps();
  const int8_t* aq = a.qs.data() + t0 * K;
  const float* ad = a.d.data() + t0 * nb;
  const int32_t* as = a.sum.data() + t0 * nb;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + b * kQ4x16BlockBytes;
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
    __m512i lo[4], hi[4];
    for (int j = 0; j < 4; ++j) {
      const __m512i x = _mm512_loadu_si512(blk + 32 + 64 * j);
      lo[j] = _mm512_and_si512(x, m4);
      hi[j] = _mm512_and_si512(_mm512_srli_epi16(x, 4), m4);
    }
    for (int t = 0; t < kT; ++t) {
      const int8_t* av = aq + t * K + b * kQK;
      __m512i s = _mm512_set1_epi32(-8 * as[t * nb + b]);
      for (int j = 0; j < 4; ++j) {
        s = _mm512_dpbusd_epi32(s, lo[j], _mm512_set1_epi32(load_i32(av + 4 * j)));
        s = _mm512_dpbusd_epi32(s, hi[j], _mm512_set1_epi32(load_i32(av + 16 + 4 * j)));
      }
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(ad[t * nb + b])), acc[t]);
    }
  }
  for (int t = 0; t < kT; ++t) {
    float* out = y + t * ldy;
    if (accumulate) acc[t] = _mm512_add_ps(acc[t], _mm512_loadu_ps(out));
    _mm512_storeu_ps(out, acc[t]);
  }
}

using TileFn = void (*)(float*, int64_t, const ActivationQ8&, int64_t, const uint8_t*, int64_t, bool);
constexpr TileFn kTiles[9] = {nullptr,          group_tile<1>, group_tile<2>, group_tile<3>, group_tile<4>,
                              group_tile<5>, group_tile<6>, group_tile<7>, group_tile<8>};

}  // namespace

void q4_0x16_matmul(float* y, int64_t ldy, const ActivationQ8& a, int64_t t0, int64_t t1, const uint8_t* packed,
                    int64_t cols, int64_t g0, int64_t g1, bool accumulate) {
  SCITUNE_CHECK(q4_0x16_available() && a.cols == cols && cols % kQK == 0 && t1 <= a.rows,
                "q4_0x16_matmul preconditions");
  const int64_t nb = cols / kQK;
  // Group outer, activation tiles inner: a group's weights (<= 62 KiB for a 6912-wide row) stay in L2 while every
  // activation row passes over them.
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* group = packed + g * nb * kQ4x16BlockBytes;
    for (int64_t t = t0; t < t1; t += 8) {
      const int64_t n = std::min<int64_t>(8, t1 - t);
      kTiles[n](y + t * ldy + g * kQ4x16Rows, ldy, a, t, group, nb, accumulate);
    }
  }
}

}  // namespace scitune::ops
