// Scalar reference dot products of a quantised weight row with a quantised activation row (the pairs ggml's
// CPU backend uses). Per block the integer sum is exact (int32); the float combination per block and the
// block order are fixed here, and the SIMD versions reproduce them exactly (see quants_dot_simd.cc).
#include <cstring>

#include "quant/quants.h"
#include "quant/quants_internal.h"
#include "util/half.h"

namespace scitune::quant::ref {
namespace {

// Five-bit value j (0..31) of a Q5 block, without the -16 offset.
inline int q5_raw(const uint8_t* qs, const uint8_t* qh_bytes, int j) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const int lo = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
  return lo | static_cast<int>(((qh >> j) & 1u) << 4);
}

}  // namespace

float vec_dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < kQK; ++j) isum += w[i].qs[j] * a[i].qs[j];
    sum += static_cast<float>(isum) * (fp16_to_fp32(w[i].d) * fp16_to_fp32(a[i].d));
  }
  return sum;
}

float vec_dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      isum += ((w[i].qs[j] & 0x0F) - 8) * a[i].qs[j];
      isum += ((w[i].qs[j] >> 4) - 8) * a[i].qs[j + 16];
    }
    sum += static_cast<float>(isum) * (fp16_to_fp32(w[i].d) * fp16_to_fp32(a[i].d));
  }
  return sum;
}

float vec_dot_q5_0_q8_0(const BlockQ5_0* w, const BlockQ8_0* a, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < kQK; ++j) isum += (q5_raw(w[i].qs, w[i].qh, j) - 16) * a[i].qs[j];
    sum += static_cast<float>(isum) * (fp16_to_fp32(w[i].d) * fp16_to_fp32(a[i].d));
  }
  return sum;
}

float vec_dot_q4_1_q8_1(const BlockQ4_1* w, const BlockQ8_1* a, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      isum += (w[i].qs[j] & 0x0F) * a[i].qs[j];
      isum += (w[i].qs[j] >> 4) * a[i].qs[j + 16];
    }
    sum += (fp16_to_fp32(w[i].d) * fp16_to_fp32(a[i].d)) * static_cast<float>(isum) +
           fp16_to_fp32(w[i].m) * fp16_to_fp32(a[i].s);
  }
  return sum;
}

float vec_dot_q5_1_q8_1(const BlockQ5_1* w, const BlockQ8_1* a, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < kQK; ++j) isum += q5_raw(w[i].qs, w[i].qh, j) * a[i].qs[j];
    sum += (fp16_to_fp32(w[i].d) * fp16_to_fp32(a[i].d)) * static_cast<float>(isum) +
           fp16_to_fp32(w[i].m) * fp16_to_fp32(a[i].s);
  }
  return sum;
}

float vec_dot_q4_K_q8_K(const BlockQ4_K* w, const BlockQ8_K* a, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      k_scale_min(j, w[i].scales, &sc, &m);
      const uint8_t* q = w[i].qs + 32 * (j / 2);
      const int8_t* q8 = a[i].qs + 32 * j;
      int32_t s = 0;
      for (int l = 0; l < 32; ++l) s += ((j & 1) ? (q[l] >> 4) : (q[l] & 0xF)) * q8[l];
      isum += static_cast<int32_t>(sc) * s;
    }
    const int32_t msum = k_min_sum(w[i].scales, a[i].bsums);
    const float d = fp16_to_fp32(w[i].d) * a[i].d, dmin = fp16_to_fp32(w[i].dmin) * a[i].d;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(msum);
  }
  return sum;
}

float vec_dot_q5_K_q8_K(const BlockQ5_K* w, const BlockQ8_K* a, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      k_scale_min(j, w[i].scales, &sc, &m);
      const uint8_t* q = w[i].qs + 32 * (j / 2);
      const int8_t* q8 = a[i].qs + 32 * j;
      int32_t s = 0;
      for (int l = 0; l < 32; ++l) {
        const int lo = (j & 1) ? (q[l] >> 4) : (q[l] & 0xF);
        s += (lo + (((w[i].qh[l] >> j) & 1) << 4)) * q8[l];
      }
      isum += static_cast<int32_t>(sc) * s;
    }
    const int32_t msum = k_min_sum(w[i].scales, a[i].bsums);
    const float d = fp16_to_fp32(w[i].d) * a[i].d, dmin = fp16_to_fp32(w[i].dmin) * a[i].d;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(msum);
  }
  return sum;
}

float vec_dot_q6_K_q8_K(const BlockQ6_K* w, const BlockQ8_K* a, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int32_t isum = 0;
    for (int e = 0; e < kQK_K; ++e) {
      // Element e: half h = e/128, quarter c = (e%128)/32, lane l = e%32 (spec 5.4 Q6_K).
      const int h = e / 128, c = (e % 128) / 32, l = e % 32;
      const uint8_t ql = w[i].ql[64 * h + l + 32 * (c & 1)];
      const uint8_t qh = w[i].qh[32 * h + l];
      const int v = ((c < 2 ? (ql & 0xF) : (ql >> 4)) | (((qh >> (2 * c)) & 3) << 4)) - 32;
      isum += w[i].scales[e / 16] * v * a[i].qs[e];
    }
    sum += (fp16_to_fp32(w[i].d) * a[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float vec_dot_f16_f32(const uint16_t* w, const float* a, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(w[i])) * static_cast<double>(a[i]);
  return static_cast<float>(sum);
}

float vec_dot_bf16_f32(const uint16_t* w, const float* a, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_fp32(w[i])) * static_cast<double>(a[i]);
  return static_cast<float>(sum);
}

float vec_dot(GgmlType wt, const void* w, const void* act, int64_t n) {
  check_row(wt, n);
  switch (wt) {
    case GgmlType::Q8_0:
      return vec_dot_q8_0_q8_0(static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(act), n);
    case GgmlType::Q4_0:
      return vec_dot_q4_0_q8_0(static_cast<const BlockQ4_0*>(w), static_cast<const BlockQ8_0*>(act), n);
    case GgmlType::Q5_0:
      return vec_dot_q5_0_q8_0(static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(act), n);
    case GgmlType::Q4_1:
      return vec_dot_q4_1_q8_1(static_cast<const BlockQ4_1*>(w), static_cast<const BlockQ8_1*>(act), n);
    case GgmlType::Q5_1:
      return vec_dot_q5_1_q8_1(static_cast<const BlockQ5_1*>(w), static_cast<const BlockQ8_1*>(act), n);
    case GgmlType::Q4_K:
      return vec_dot_q4_K_q8_K(static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(act), n);
    case GgmlType::Q5_K:
      return vec_dot_q5_K_q8_K(static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(act), n);
    case GgmlType::Q6_K:
      return vec_dot_q6_K_q8_K(static_cast<const BlockQ6_K*>(w), static_cast<const BlockQ8_K*>(act), n);
    case GgmlType::F16:
      return vec_dot_f16_f32(static_cast<const uint16_t*>(w), static_cast<const float*>(act), n);
    case GgmlType::BF16:
      return vec_dot_bf16_f32(static_cast<const uint16_t*>(w), static_cast<const float*>(act), n);
    default:
      break;
  }
  SCITUNE_CHECK(false, std::string("vec_dot: no dot product for weight type ") + std::string(ggml_info(wt).name));
  return 0.0f;
}

}  // namespace scitune::quant::ref
