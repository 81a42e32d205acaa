// Scalar reference quantizers for F16, BF16 and the 32-value block formats, written to perform the same fp32
// operations in the same order as ggml's quantize_row_*_ref / dequantize_row_* (ggml-quants.c). Compiled with
// -ffp-contract=off (CMakeLists.txt) so that no multiply-add is fused behind our back.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "quant/quants.h"
#include "quant/quants_fit.h"
#include "quant/quants_internal.h"
#include "util/half.h"

namespace scitune::quant::ref {
namespace {

void min_max(const float* x, int n, float* mn, float* mx) {
  *mn = FLT_MAX;
  *mx = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *mn) *mn = x[j];
    if (x[j] > *mx) *mx = x[j];
  }
}

// The 32 five-bit values of a Q5 block: low nibbles in qs, fifth bits in qh (bit j = value j).
inline int q5_value(const uint8_t* qs, uint32_t qh, int j) {
  const int lo = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
  return lo | static_cast<int>(((qh >> j) & 1u) << 4);
}

}  // namespace

void quantize_row_f16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}
void dequantize_row_f16(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}
void quantize_row_bf16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}
void dequantize_row_bf16(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const SignedMax m = signed_abs_max(x, kQK);
    const float d = m.max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint8_t L[kQK];
    // ggml: MIN(15, (int8_t)(x * id + 8.5f)), truncation toward zero.
    for (int j = 0; j < kQK; ++j)
      L[j] = static_cast<uint8_t>(std::min<int>(15, static_cast<int8_t>(trunc_low_byte(x[j] * id + 8.5f))));
    pack_q4(L, y[i].qs);
  }
}

void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float mn, mx;
    min_max(x, kQK, &mn, &mx);
    const float d = (mx - mn) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mn);
    uint8_t L[kQK];
    for (int j = 0; j < kQK; ++j)
      L[j] = static_cast<uint8_t>(std::min<int>(15, static_cast<int8_t>(trunc_low_byte((x[j] - mn) * id + 0.5f))));
    pack_q4(L, y[i].qs);
  }
}

void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const SignedMax m = signed_abs_max(x, kQK);
    const float d = m.max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint8_t L[kQK];
    for (int j = 0; j < kQK; ++j)
      L[j] = static_cast<uint8_t>(std::min<int>(31, static_cast<int8_t>(trunc_low_byte(x[j] * id + 16.5f))));
    pack_q5(L, y[i].qs, y[i].qh);
  }
}

void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float mn, mx;
    min_max(x, kQK, &mn, &mx);
    const float d = (mx - mn) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mn);
    uint8_t L[kQK];
    // ggml: (uint8_t)(x + 0.5f), no clamp.
    for (int j = 0; j < kQK; ++j) L[j] = trunc_low_byte((x[j] - mn) * id + 0.5f);
    pack_q5(L, y[i].qs, y[i].qh);
  }
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);  // ggml's MAX()
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = static_cast<int8_t>(trunc_low_byte(std::roundf(x[j] * id)));
  }
}

void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);  // ggml's MAX()
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      y[i].qs[j] = static_cast<int8_t>(trunc_low_byte(std::roundf(x[j] * id)));
      sum += y[i].qs[j];
    }
    y[i].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + 16] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d), m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(x[i].qs[j] & 0x0F) * d + m;
      y[j + 16] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(q5_value(x[i].qs, qh, j) - 16) * d;
  }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d), m = fp16_to_fp32(x[i].m);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(q5_value(x[i].qs, qh, j)) * d + m;
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

// ggml has no dequantize_row_q8_1; this is the obvious d * q.
void dequantize_row_q8_1(const BlockQ8_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

// ---- dispatch by type (scalar) ----

void quantize_row(GgmlType t, const float* x, void* dst, int64_t n) {
  check_row(t, n);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(dst, x, static_cast<size_t>(n) * 4);
      return;
    case GgmlType::F16:
      return quantize_row_f16(x, static_cast<uint16_t*>(dst), n);
    case GgmlType::BF16:
      return quantize_row_bf16(x, static_cast<uint16_t*>(dst), n);
    case GgmlType::Q4_0:
      return quantize_row_q4_0(x, static_cast<BlockQ4_0*>(dst), n);
    case GgmlType::Q4_1:
      return quantize_row_q4_1(x, static_cast<BlockQ4_1*>(dst), n);
    case GgmlType::Q5_0:
      return quantize_row_q5_0(x, static_cast<BlockQ5_0*>(dst), n);
    case GgmlType::Q5_1:
      return quantize_row_q5_1(x, static_cast<BlockQ5_1*>(dst), n);
    case GgmlType::Q8_0:
      return quantize_row_q8_0(x, static_cast<BlockQ8_0*>(dst), n);
    case GgmlType::Q8_1:
      return quantize_row_q8_1(x, static_cast<BlockQ8_1*>(dst), n);
    case GgmlType::Q4_K:
      return quantize_row_q4_K(x, static_cast<BlockQ4_K*>(dst), n);
    case GgmlType::Q5_K:
      return quantize_row_q5_K(x, static_cast<BlockQ5_K*>(dst), n);
    case GgmlType::Q6_K:
      return quantize_row_q6_K(x, static_cast<BlockQ6_K*>(dst), n);
    case GgmlType::Q8_K:
      return quantize_row_q8_K(x, static_cast<BlockQ8_K*>(dst), n);
    default:
      break;
  }
  SCITUNE_CHECK(false, std::string("quantize_row: unsupported type ") + std::string(ggml_info(t).name));
}

void dequantize_row(GgmlType t, const void* src, float* y, int64_t n) {
  check_row(t, n);
  switch (t) {
    case GgmlType::F32:
      std::memcpy(y, src, static_cast<size_t>(n) * 4);
      return;
    case GgmlType::F16:
      return dequantize_row_f16(static_cast<const uint16_t*>(src), y, n);
    case GgmlType::BF16:
      return dequantize_row_bf16(static_cast<const uint16_t*>(src), y, n);
    case GgmlType::Q4_0:
      return dequantize_row_q4_0(static_cast<const BlockQ4_0*>(src), y, n);
    case GgmlType::Q4_1:
      return dequantize_row_q4_1(static_cast<const BlockQ4_1*>(src), y, n);
    case GgmlType::Q5_0:
      return dequantize_row_q5_0(static_cast<const BlockQ5_0*>(src), y, n);
    case GgmlType::Q5_1:
      return dequantize_row_q5_1(static_cast<const BlockQ5_1*>(src), y, n);
    case GgmlType::Q8_0:
      return dequantize_row_q8_0(static_cast<const BlockQ8_0*>(src), y, n);
    case GgmlType::Q8_1:
      return dequantize_row_q8_1(static_cast<const BlockQ8_1*>(src), y, n);
    case GgmlType::Q4_K:
      return dequantize_row_q4_K(static_cast<const BlockQ4_K*>(src), y, n);
    case GgmlType::Q5_K:
      return dequantize_row_q5_K(static_cast<const BlockQ5_K*>(src), y, n);
    case GgmlType::Q6_K:
      return dequantize_row_q6_K(static_cast<const BlockQ6_K*>(src), y, n);
    case GgmlType::Q8_K:
      return dequantize_row_q8_K(static_cast<const BlockQ8_K*>(src), y, n);
    default:
      break;
  }
  SCITUNE_CHECK(false, std::string("dequantize_row: unsupported type ") + std::string(ggml_info(t).name));
}

}  // namespace scitune::quant::ref
