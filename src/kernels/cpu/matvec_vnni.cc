#include "kernels/cpu/matvec_vnni.h"

#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/thread_pool.h"
#include "quant/quant_blocks.h"
#include "quant/quants.h"
#include "util/error.h"
#include "util/half.h"

namespace scitune::ops {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::kQK_K;
using quant::BlockQ5_0;
using quant::BlockQ8_0;
using quant::kQK;

void ActivationQ8::quantize(const float* x, int64_t n_rows, int64_t n_cols) {
  SCITUNE_CHECK(n_cols % kQK == 0, "activation width is a multiple of 32");
  rows = n_rows;
  cols = n_cols;
  const int64_t nb = cols / kQK;
  qs.resize(static_cast<size_t>(rows * cols));
  d.resize(static_cast<size_t>(rows * nb));
  sum.resize(static_cast<size_t>(rows * nb));
  sum16.resize(static_cast<size_t>(rows * nb * 2));
  off8.resize(static_cast<size_t>(rows * nb));
  auto quantize_rows = [&](int64_t t0, int64_t t1) {
    thread_local std::vector<BlockQ8_0> blocks_tls;  // scratch: one quantised row
    std::vector<BlockQ8_0>& blocks = blocks_tls;
    blocks.resize(static_cast<size_t>(nb));
    for (int64_t t = t0; t < t1; ++t) {
      quantize_row(GgmlType::Q8_0, x + t * cols, blocks.data(), cols);  // ggml's rounding, as llama.cpp feeds
      for (int64_t b = 0; b < nb; ++b) {
        const int8_t* q = blocks[b].qs;
        std::memcpy(qs.data() + t * cols + b * kQK, q, kQK);
        int32_t lo = 0, hi = 0;
        for (int j = 0; j < 16; ++j) {
          lo += q[j];
          hi += q[16 + j];
        }
        const float db = fp16_to_fp32(blocks[b].d);
        d[t * nb + b] = db;
        sum[t * nb + b] = lo + hi;
        sum16[(t * nb + b) * 2] = lo;
        sum16[(t * nb + b) * 2 + 1] = hi;
        off8[t * nb + b] = 8.0f * static_cast<float>(lo + hi) * db;
      }
    }
  };
  // A prompt's rows (hundreds) are split over the threads; a decoding step's few rows are not worth a job.
  if (rows >= 8)
    ThreadPool::global().parallel_for(rows, quantize_rows);
  else
    quantize_rows(0, rows);
}

namespace {

// Exact int32 dot of 32 unsigned weight bytes (0..255) with 32 signed activations: 8 partial lanes.
SCITUNE_VNNI inline __m256i dot_u8_s8(__m256i w, __m256i a) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, a); }

SCITUNE_VNNI inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

SCITUNE_VNNI inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Q8_0: signed weights; VNNI wants unsigned x signed, so feed |w| and sign(a, w).
SCITUNE_VNNI float row_q8_0(const BlockQ8_0* w, const int8_t* a, const float* ad, int64_t nb) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b + 1].qs));
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + b * kQK));
    const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + (b + 1) * kQK));
    const __m256i s0 = dot_u8_s8(_mm256_abs_epi8(w0), _mm256_sign_epi8(a0, w0));
    const __m256i s1 = dot_u8_s8(_mm256_abs_epi8(w1), _mm256_sign_epi8(a1, w1));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].d) * ad[b]), _mm256_cvtepi32_ps(s0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b + 1].d) * ad[b + 1]), _mm256_cvtepi32_ps(s1), acc1);
  }
  for (; b < nb; ++b) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs));
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + b * kQK));
    const __m256i s0 = dot_u8_s8(_mm256_abs_epi8(w0), _mm256_sign_epi8(a0, w0));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].d) * ad[b]), _mm256_cvtepi32_ps(s0), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

// The 32 nibbles of a Q4_0/Q5_0 block as bytes 0..15: low nibbles are values 0..15, high nibbles 16..31.
SCITUNE_VNNI inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i lo = _mm_and_si128(x, _mm_set1_epi8(0x0F));
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), _mm_set1_epi8(0x0F));
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

// Q4_0: value = nibble - 8, so dot = d_w·d_a·sum(nibble·a) - d_w·(8·d_a·sum(a)): the integer part in vector lanes,
// the offset as a float sum over blocks (ActivationQ8::off8 = 8·d_a·sum(a)). Two accumulator chains
// (even and odd blocks). Rows go one after the other: they are contiguous, so the weights stream through memory
// in order (interleaving four rows, to share the activation loads, ran at half the speed). Q4_0 decoding stalls
// on its weight loads more than the other types: a software prefetch half a KiB ahead helps the hardware's
// (1B Q4_0 decode 35 -> 37-38 tok/s here).
constexpr int kPrefetchBytes = 512;
SCITUNE_VNNI float row_q4_0(const BlockQ4_0* w, const int8_t* a, const float* ad, const float* off8, int64_t nb) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float off0 = 0, off1 = 0;
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    _mm_prefetch(reinterpret_cast<const char*>(w + b) + kPrefetchBytes, _MM_HINT_T0);
    const float d0 = half_to_float(w[b].d), d1 = half_to_float(w[b + 1].d);
    const __m256i s0 = dot_u8_s8(unpack_nibbles(w[b].qs), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + b * kQK)));
    const __m256i s1 =
        dot_u8_s8(unpack_nibbles(w[b + 1].qs), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + (b + 1) * kQK)));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * ad[b]), _mm256_cvtepi32_ps(s0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * ad[b + 1]), _mm256_cvtepi32_ps(s1), acc1);
    off0 += d0 * off8[b];
    off1 += d1 * off8[b + 1];
  }
  for (; b < nb; ++b) {
    const float d0 = half_to_float(w[b].d);
    const __m256i s0 = dot_u8_s8(unpack_nibbles(w[b].qs), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + b * kQK)));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * ad[b]), _mm256_cvtepi32_ps(s0), acc0);
    off0 += d0 * off8[b];
  }
  return hsum(_mm256_add_ps(acc0, acc1)) - (off0 + off1);
}

// Q5_0: value = (nibble | fifth bit << 4) - 16.
SCITUNE_VNNI float row_q5_0(const BlockQ5_0* w, const int8_t* a, const float* ad, const int32_t* as, int64_t nb) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + b * kQK));
    uint32_t qh;
    __builtin_memcpy(&qh, w[b].qh, 4);
    const __m256i hb = _mm256_and_si256(_mm256_movm_epi8(qh), _mm256_set1_epi8(0x10));
    __m256i s = dot_u8_s8(_mm256_or_si256(unpack_nibbles(w[b].qs), hb), a0);
    s = _mm256_sub_epi32(s, _mm256_setr_epi32(16 * as[b], 0, 0, 0, 0, 0, 0, 0));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].d) * ad[b]), _mm256_cvtepi32_ps(s), acc);
  }
  return hsum(acc);
}

// Q4_K: per 32-value sub-block j, value = d*sc[j]*nibble - dmin*m[j] (6-bit sc/m packed in 12 bytes).
// With per-32 activation scales: sum_j da[j] * (d*sc[j]*isum_j - dmin*m[j]*asum_j).
inline void q4k_scale_min(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

SCITUNE_VNNI float row_q4_K(const BlockQ4_K* w, const int8_t* a, const float* ad, const int32_t* as, int64_t nsb) {
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  for (int64_t b = 0; b < nsb; ++b) {
    const float d = half_to_float(w[b].d), dmin = half_to_float(w[b].dmin);
    const int8_t* ab = a + b * kQK_K;
    for (int j = 0; j < 4; ++j) {  // 64 values: low nibbles, then high nibbles of 32 bytes
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs + 32 * j));
      const __m256i lo = _mm256_and_si256(x, _mm256_set1_epi8(0x0F));
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), _mm256_set1_epi8(0x0F));
      const __m256i s0 = dot_u8_s8(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab + 64 * j)));
      const __m256i s1 = dot_u8_s8(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab + 64 * j + 32)));
      int sc0, m0, sc1, m1;
      q4k_scale_min(2 * j, w[b].scales, &sc0, &m0);
      q4k_scale_min(2 * j + 1, w[b].scales, &sc1, &m1);
      const int64_t k0 = b * 8 + 2 * j, k1 = k0 + 1;  // activation block index
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc0 * ad[k0]), _mm256_cvtepi32_ps(s0), acc);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc1 * ad[k1]), _mm256_cvtepi32_ps(s1), acc);
      mins += dmin * (m0 * ad[k0] * as[k0] + m1 * ad[k1] * as[k1]);
    }
  }
  return hsum(acc) - mins;
}

// Q6_K: value = (4 low bits from ql | 2 high bits from qh << 4) - 32, one int8 scale per 16 values.
// Per 32 values the dot needs two scales: VNNI lanes 0-3 cover values 0-15 and lanes 4-7 values 16-31.
SCITUNE_VNNI float row_q6_K(const BlockQ6_K* w, const int8_t* a, const float* ad, const int32_t* as16,
                            int64_t nsb) {
  __m256 acc = _mm256_setzero_ps();
  float offset = 0;
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
  for (int64_t b = 0; b < nsb; ++b) {
    const float d = half_to_float(w[b].d);
    for (int n = 0; n < 2; ++n) {  // 128 values
      const uint8_t* ql = w[b].ql + 64 * n;
      const uint8_t* qh = w[b].qh + 32 * n;
      const int8_t* sc = w[b].scales + 8 * n;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4)),
          _mm256_or_si256(_mm256_and_si256(l1, m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4)),
      };
      for (int i = 0; i < 4; ++i) {  // values 32i..32i+31 of this half, scales sc[2i], sc[2i+1]
        const int64_t k = b * 8 + 4 * n + i;
        const __m256i s = dot_u8_s8(q[i], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + k * kQK)));
        const float f0 = d * sc[2 * i] * ad[k], f1 = d * sc[2 * i + 1] * ad[k];
        acc = _mm256_fmadd_ps(_mm256_setr_ps(f0, f0, f0, f0, f1, f1, f1, f1), _mm256_cvtepi32_ps(s), acc);
        offset += 32.0f * (f0 * as16[2 * k] + f1 * as16[2 * k + 1]);
      }
    }
  }
  return hsum(acc) - offset;
}

// (Every AVX-512 CPU has F16C; clang's __builtin_cpu_supports cannot name it.)
bool cpu_has_vnni() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
                         __builtin_cpu_supports("fma");
  return ok;
}

}  // namespace

bool vnni_matvec_available(GgmlType t) {
  if (!cpu_has_vnni()) return false;
  return t == GgmlType::Q8_0 || t == GgmlType::Q4_0 || t == GgmlType::Q5_0 || t == GgmlType::Q4_K ||
         t == GgmlType::Q6_K;
}

namespace {

// The row loop for one weight type, compiled with the row kernel inlined (a switch per row cost ~5% of decoding).
template <GgmlType kType>
SCITUNE_VNNI void matvec_rows(float* y, const ActivationQ8& a, const WeightMatrix& w, int64_t r0, int64_t r1,
                              bool accumulate) {
  const int64_t nb = w.cols / kQK, N = w.rows;
  const size_t row_bytes = w.row_bytes();
  // Weight row outer, activation rows inner: a row is read from memory once and stays in L1 for every
  // activation row (short generation prompts take this path too).
  const uint8_t* wr = w.data + static_cast<size_t>(r0) * row_bytes;
  for (int64_t r = r0; r < r1; ++r, wr += row_bytes) {
    for (int64_t t = 0; t < a.rows; ++t) {
      const int8_t* aq = a.qs.data() + t * a.cols;
      const float* ad = a.d.data() + t * nb;
      const int32_t* as = a.sum.data() + t * nb;
      const int32_t* as16 = a.sum16.data() + t * nb * 2;
      const float* off8 = a.off8.data() + t * nb;
      float v;
      if constexpr (kType == GgmlType::Q8_0)
        v = row_q8_0(reinterpret_cast<const BlockQ8_0*>(wr), aq, ad, nb);
      else if constexpr (kType == GgmlType::Q4_0)
        v = row_q4_0(reinterpret_cast<const BlockQ4_0*>(wr), aq, ad, off8, nb);
      else if constexpr (kType == GgmlType::Q5_0)
        v = row_q5_0(reinterpret_cast<const BlockQ5_0*>(wr), aq, ad, as, nb);
      else if constexpr (kType == GgmlType::Q4_K)
        v = row_q4_K(reinterpret_cast<const BlockQ4_K*>(wr), aq, ad, as, nb / 8);
      else
        v = row_q6_K(reinterpret_cast<const BlockQ6_K*>(wr), aq, ad, as16, nb / 8);
      float& out = y[t * N + r];
      out = accumulate ? out + v : v;
    }
  }
}

}  // namespace

void vnni_matvec(float* y, const ActivationQ8& a, const WeightMatrix& w, int64_t r0, int64_t r1, bool accumulate) {
  SCITUNE_CHECK(a.cols == w.cols && vnni_matvec_available(w.type), "vnni_matvec preconditions");
  switch (w.type) {
    case GgmlType::Q8_0: return matvec_rows<GgmlType::Q8_0>(y, a, w, r0, r1, accumulate);
    case GgmlType::Q4_0: return matvec_rows<GgmlType::Q4_0>(y, a, w, r0, r1, accumulate);
    case GgmlType::Q5_0: return matvec_rows<GgmlType::Q5_0>(y, a, w, r0, r1, accumulate);
    case GgmlType::Q4_K: return matvec_rows<GgmlType::Q4_K>(y, a, w, r0, r1, accumulate);
    default: return matvec_rows<GgmlType::Q6_K>(y, a, w, r0, r1, accumulate);
  }
}

}  // namespace scitune::ops
