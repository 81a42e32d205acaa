// Byte layouts of the ggml quantisation blocks (spec section 5), identical to ggml's block_* structs so that
// GGUF tensor data can be read in place. All fields little-endian; fp16 fields are raw IEEE half bits.
#pragma once
#include <cstdint>

#include "quant/ggml_type.h"

namespace scitune::quant {

inline constexpr int kQK = 32;     // values per legacy block (Q4_0 .. Q8_1)
inline constexpr int kQK_K = 256;  // values per K-quant super-block
inline constexpr int kKScaleSize = 12;

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];  // byte j: low nibble = value j, high nibble = value j+16
};
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[kQK / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // bit j = 5th bit of value j
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
struct BlockQ8_1 {
  uint16_t d;  // scale
  uint16_t s;  // d * sum(qs), lets q4_1/q5_1 dots add the min term without touching qs
  int8_t qs[kQK];
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleSize];  // 8 six-bit scales + 8 six-bit mins
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];  // sum of each 16 qs, used for the K-quant min terms
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(ggml_info(GgmlType::Q4_K).type_size == sizeof(BlockQ4_K));
static_assert(ggml_info(GgmlType::Q8_K).type_size == sizeof(BlockQ8_K));

// Sub-block j (0..7) six-bit scale and min of a Q4_K/Q5_K block (spec 5.4).
inline void k_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Sum over the 8 sub-blocks of min_j * (sum of the activation quants of sub-block j), from Q8_K's bsums.
inline int32_t k_min_sum(const uint8_t* scales, const int16_t* bsums) {
  int32_t s = 0;
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k_scale_min(j, scales, &sc, &m);
    s += static_cast<int32_t>(m) * (bsums[2 * j] + bsums[2 * j + 1]);
  }
  return s;
}

}  // namespace scitune::quant
