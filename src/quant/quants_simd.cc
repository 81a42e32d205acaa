// Highway kernels: dequantisation of every supported type, quantisation of the activation formats (Q8_0,
// Q8_1, Q8_K) and the non-finite scan. Bit-exact with quant::ref: every value goes through the same fp32
// operations (int -> float conversion, one multiply, then one add/sub where ggml has one); no MulAdd, and the
// file is compiled with -ffp-contract=off so GCC does not fuse the intrinsics either.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "quant/quants_simd.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
//
#include <hwy/highway.h>

#include <cmath>
#include <cstring>

#include "quant/quants.h"
#include "quant/quants_internal.h"
#include "quant/quants_simd.h"
#include "util/half.h"

#ifndef SCITUNE_QUANTS_SIMD_ONCE
#define SCITUNE_QUANTS_SIMD_ONCE
namespace scitune::quant::simd::detail {
// Bit j set in entry j: selects the fifth bit of value j from a Q5 block's 32-bit qh.
alignas(64) inline constexpr uint32_t kBit32[32] = {
    1u << 0,  1u << 1,  1u << 2,  1u << 3,  1u << 4,  1u << 5,  1u << 6,  1u << 7,  1u << 8,  1u << 9,  1u << 10,
    1u << 11, 1u << 12, 1u << 13, 1u << 14, 1u << 15, 1u << 16, 1u << 17, 1u << 18, 1u << 19, 1u << 20, 1u << 21,
    1u << 22, 1u << 23, 1u << 24, 1u << 25, 1u << 26, 1u << 27, 1u << 28, 1u << 29, 1u << 30, 1u << 31};
}  // namespace scitune::quant::simd::detail
#endif

HWY_BEFORE_NAMESPACE();
namespace scitune::quant::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
// Helpers live in a file-specific namespace: both SIMD files are compiled per target into the same
// scitune::quant::simd::N_<TARGET> namespace, and equal names would clash across translation units.
namespace deq {

#if HWY_TARGET != HWY_SCALAR
using DF = hn::ScalableTag<float>;  // 4, 8 or 16 lanes; every loop below steps through <= 16 values
using DI = hn::RebindToSigned<DF>;
using DU = hn::RebindToUnsigned<DF>;
using DU8 = hn::Rebind<uint8_t, DF>;
using DI8 = hn::Rebind<int8_t, DF>;
using DU16 = hn::Rebind<uint16_t, DF>;

HWY_INLINE hn::Vec<DI> load_u8(const uint8_t* p) { return hn::PromoteTo(DI(), hn::LoadU(DU8(), p)); }
HWY_INLINE hn::Vec<DI> load_i8(const int8_t* p) { return hn::PromoteTo(DI(), hn::LoadU(DI8(), p)); }
HWY_INLINE hn::Vec<DF> to_f(hn::Vec<DI> v) { return hn::ConvertTo(DF(), v); }

// fp16 -> fp32 with the same bit rules as util/half.h (Highway's SSE emulation mishandles Inf/NaN, and
// F16C would quiet signalling NaNs): normal, subnormal (man * 2^-24, exact) and Inf/NaN cases.
HWY_INLINE hn::Vec<DF> half_to_float(const uint16_t* p) {
  const DF df;
  const DU du;
  const auto h = hn::PromoteTo(du, hn::LoadU(DU16(), p));
  const auto sign = hn::ShiftLeft<16>(hn::And(h, hn::Set(du, 0x8000u)));
  const auto exp = hn::And(hn::ShiftRight<10>(h), hn::Set(du, 0x1Fu));
  const auto man = hn::And(h, hn::Set(du, 0x3FFu));
  const auto normal = hn::Or(hn::ShiftLeft<23>(hn::Add(exp, hn::Set(du, 112u))), hn::ShiftLeft<13>(man));
  const auto infnan = hn::Or(hn::Set(du, 0x7F800000u), hn::ShiftLeft<13>(man));
  const auto sub = hn::BitCast(du, hn::Mul(hn::ConvertTo(df, hn::BitCast(DI(), man)), hn::Set(df, 1.0f / 16777216.0f)));
  const auto bits =
      hn::IfThenElse(hn::Eq(exp, hn::Zero(du)), sub, hn::IfThenElse(hn::Eq(exp, hn::Set(du, 31u)), infnan, normal));
  return hn::BitCast(df, hn::Or(bits, sign));
}

// Q5 fifth bits of values j0 .. j0+N-1 as 0 or 16.
HWY_INLINE hn::Vec<DI> q5_high(uint32_t qh, int j0) {
  const DU du;
  const auto set = hn::Ne(hn::And(hn::Set(du, qh), hn::LoadU(du, detail::kBit32 + j0)), hn::Zero(du));
  return hn::BitCast(DI(), hn::IfThenElseZero(set, hn::Set(du, 16u)));
}

void dequant_legacy(GgmlType t, const uint8_t* src, float* y, int64_t nb) {
  const DF df;
  const DI di;
  const int N = static_cast<int>(hn::Lanes(df));
  const auto k15 = hn::Set(di, 15);
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    switch (t) {
      case GgmlType::Q4_0: {
        const auto* b = reinterpret_cast<const BlockQ4_0*>(src) + i;
        const auto vd = hn::Set(df, fp16_to_fp32(b->d));
        for (int l = 0; l < 16; l += N) {
          const auto v = load_u8(b->qs + l);
          hn::StoreU(hn::Mul(to_f(hn::Sub(hn::And(v, k15), hn::Set(di, 8))), vd), df, y + l);
          hn::StoreU(hn::Mul(to_f(hn::Sub(hn::ShiftRight<4>(v), hn::Set(di, 8))), vd), df, y + 16 + l);
        }
        break;
      }
      case GgmlType::Q4_1: {
        const auto* b = reinterpret_cast<const BlockQ4_1*>(src) + i;
        const auto vd = hn::Set(df, fp16_to_fp32(b->d)), vm = hn::Set(df, fp16_to_fp32(b->m));
        for (int l = 0; l < 16; l += N) {
          const auto v = load_u8(b->qs + l);
          hn::StoreU(hn::Add(hn::Mul(to_f(hn::And(v, k15)), vd), vm), df, y + l);
          hn::StoreU(hn::Add(hn::Mul(to_f(hn::ShiftRight<4>(v)), vd), vm), df, y + 16 + l);
        }
        break;
      }
      case GgmlType::Q5_0: {
        const auto* b = reinterpret_cast<const BlockQ5_0*>(src) + i;
        const auto vd = hn::Set(df, fp16_to_fp32(b->d));
        uint32_t qh;
        std::memcpy(&qh, b->qh, 4);
        for (int l = 0; l < 16; l += N) {
          const auto v = load_u8(b->qs + l);
          const auto lo = hn::Sub(hn::Or(hn::And(v, k15), q5_high(qh, l)), hn::Set(di, 16));
          const auto hi = hn::Sub(hn::Or(hn::ShiftRight<4>(v), q5_high(qh, 16 + l)), hn::Set(di, 16));
          hn::StoreU(hn::Mul(to_f(lo), vd), df, y + l);
          hn::StoreU(hn::Mul(to_f(hi), vd), df, y + 16 + l);
        }
        break;
      }
      case GgmlType::Q5_1: {
        const auto* b = reinterpret_cast<const BlockQ5_1*>(src) + i;
        const auto vd = hn::Set(df, fp16_to_fp32(b->d)), vm = hn::Set(df, fp16_to_fp32(b->m));
        uint32_t qh;
        std::memcpy(&qh, b->qh, 4);
        for (int l = 0; l < 16; l += N) {
          const auto v = load_u8(b->qs + l);
          const auto lo = hn::Or(hn::And(v, k15), q5_high(qh, l));
          const auto hi = hn::Or(hn::ShiftRight<4>(v), q5_high(qh, 16 + l));
          hn::StoreU(hn::Add(hn::Mul(to_f(lo), vd), vm), df, y + l);
          hn::StoreU(hn::Add(hn::Mul(to_f(hi), vd), vm), df, y + 16 + l);
        }
        break;
      }
      case GgmlType::Q8_0:
      case GgmlType::Q8_1: {
        const bool q8_0 = t == GgmlType::Q8_0;
        const int8_t* qs =
            q8_0 ? reinterpret_cast<const BlockQ8_0*>(src)[i].qs : reinterpret_cast<const BlockQ8_1*>(src)[i].qs;
        const uint16_t d =
            q8_0 ? reinterpret_cast<const BlockQ8_0*>(src)[i].d : reinterpret_cast<const BlockQ8_1*>(src)[i].d;
        const auto vd = hn::Set(df, fp16_to_fp32(d));
        for (int l = 0; l < kQK; l += N) hn::StoreU(hn::Mul(to_f(load_i8(qs + l)), vd), df, y + l);
        break;
      }
      default:
        SCITUNE_CHECK(false, "dequant_legacy: not a 32-value block type");
    }
  }
}

void dequant_kquant(GgmlType t, const uint8_t* src, float* y, int64_t nb) {
  const DF df;
  const DI di;
  const int N = static_cast<int>(hn::Lanes(df));
  const auto k15 = hn::Set(di, 15), k3 = hn::Set(di, 3), k32 = hn::Set(di, 32);
  for (int64_t i = 0; i < nb; ++i, y += kQK_K) {
    if (t == GgmlType::Q4_K || t == GgmlType::Q5_K) {
      const bool q5 = t == GgmlType::Q5_K;
      const auto* b4 = reinterpret_cast<const BlockQ4_K*>(src) + i;
      const auto* b5 = reinterpret_cast<const BlockQ5_K*>(src) + i;
      const uint8_t* scales = q5 ? b5->scales : b4->scales;
      const uint8_t* qs = q5 ? b5->qs : b4->qs;
      const float d = fp16_to_fp32(q5 ? b5->d : b4->d), dmin = fp16_to_fp32(q5 ? b5->dmin : b4->dmin);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        k_scale_min(j, scales, &sc, &m);
        const auto vd = hn::Set(df, d * static_cast<float>(sc)), vm = hn::Set(df, dmin * static_cast<float>(m));
        const uint8_t* q = qs + 32 * (j / 2);
        for (int l = 0; l < 32; l += N) {
          const auto v = load_u8(q + l);
          auto lo = (j & 1) ? hn::ShiftRight<4>(v) : hn::And(v, k15);
          if (q5) {
            const auto h = hn::And(hn::ShiftRightSame(load_u8(b5->qh + l), j), hn::Set(di, 1));
            lo = hn::Add(lo, hn::ShiftLeft<4>(h));
          }
          hn::StoreU(hn::Sub(hn::Mul(vd, to_f(lo)), vm), df, y + 32 * j + l);
        }
      }
    } else if (t == GgmlType::Q6_K) {
      const auto* b = reinterpret_cast<const BlockQ6_K*>(src) + i;
      const float d = fp16_to_fp32(b->d);
      for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = b->ql + 64 * h;
        const uint8_t* qh = b->qh + 32 * h;
        const int8_t* sc = b->scales + 8 * h;
        float* yh = y + 128 * h;
        for (int l = 0; l < 32; l += N) {
          const int is = l / 16;
          const auto l0 = load_u8(ql + l), l32 = load_u8(ql + l + 32), vh = load_u8(qh + l);
          const auto q1 = hn::Sub(hn::Or(hn::And(l0, k15), hn::ShiftLeft<4>(hn::And(vh, k3))), k32);
          const auto q2 = hn::Sub(hn::Or(hn::And(l32, k15), hn::ShiftLeft<4>(hn::And(hn::ShiftRight<2>(vh), k3))), k32);
          const auto q3 =
              hn::Sub(hn::Or(hn::ShiftRight<4>(l0), hn::ShiftLeft<4>(hn::And(hn::ShiftRight<4>(vh), k3))), k32);
          const auto q4 = hn::Sub(hn::Or(hn::ShiftRight<4>(l32), hn::ShiftLeft<4>(hn::ShiftRight<6>(vh))), k32);
          hn::StoreU(hn::Mul(hn::Set(df, d * static_cast<float>(sc[is])), to_f(q1)), df, yh + l);
          hn::StoreU(hn::Mul(hn::Set(df, d * static_cast<float>(sc[is + 2])), to_f(q2)), df, yh + 32 + l);
          hn::StoreU(hn::Mul(hn::Set(df, d * static_cast<float>(sc[is + 4])), to_f(q3)), df, yh + 64 + l);
          hn::StoreU(hn::Mul(hn::Set(df, d * static_cast<float>(sc[is + 6])), to_f(q4)), df, yh + 96 + l);
        }
      }
    } else {  // Q8_K
      const auto* b = reinterpret_cast<const BlockQ8_K*>(src) + i;
      const auto vd = hn::Set(df, b->d);
      for (int l = 0; l < kQK_K; l += N) hn::StoreU(hn::Mul(vd, to_f(load_i8(b->qs + l))), df, y + l);
    }
  }
}
#endif  // HWY_TARGET != HWY_SCALAR

}  // namespace deq

void DequantizeRow(GgmlType t, const void* src, float* y, int64_t n) {
  using namespace deq;  // NOLINT
#if HWY_TARGET == HWY_SCALAR
  ref::dequantize_row(t, src, y, n);
#else
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto* s = static_cast<const uint8_t*>(src);
  switch (t) {
    case GgmlType::F16:
    case GgmlType::BF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      int64_t i = 0;
      for (; i + N <= n; i += N) {
        const auto v = t == GgmlType::F16
                           ? half_to_float(h + i)
                           : hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(DU(), hn::LoadU(DU16(), h + i))));
        hn::StoreU(v, df, y + i);
      }
      for (; i < n; ++i) y[i] = t == GgmlType::F16 ? fp16_to_fp32(h[i]) : bf16_to_fp32(h[i]);
      return;
    }
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0:
    case GgmlType::Q8_1:
      return dequant_legacy(t, s, y, n / kQK);
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
    case GgmlType::Q8_K:
      return dequant_kquant(t, s, y, n / kQK_K);
    default:
      return ref::dequantize_row(t, src, y, n);  // F32 (a copy)
  }
#endif
}

namespace deq {
#if HWY_TARGET != HWY_SCALAR
HWY_INLINE float abs_max(const float* x, int n) {
  const DF df;
  auto m = hn::Zero(df);
  for (int l = 0; l < n; l += static_cast<int>(hn::Lanes(df))) m = hn::Max(m, hn::Abs(hn::LoadU(df, x + l)));
  return hn::GetLane(hn::MaxOfLanes(df, m));
}

// roundf: to nearest, halfway cases away from zero. frac = v - trunc(v) is exact for |v| < 2^23.
HWY_INLINE hn::Vec<DI> round_away(hn::Vec<DF> v) {
  const DF df;
  const auto t = hn::Trunc(v);
  const auto up = hn::Ge(hn::Abs(hn::Sub(v, t)), hn::Set(df, 0.5f));
  return hn::ConvertTo(DI(), hn::IfThenElse(up, hn::Add(t, hn::CopySign(hn::Set(df, 1.0f), v)), t));
}

// One Q8_0/Q8_1 block; also returns the sum of the quants and the fp32 scale (for Q8_1's s). False if the
// scale degenerates (1/d overflows), in which case the caller uses the scalar reference.
HWY_INLINE bool quantize_q8_block(const float* x, uint16_t* d_out, int8_t* qs, int32_t* sum, float* d_f32) {
  const DF df;
  const DI di;
  const float amax = abs_max(x, kQK);
  const float d = amax / 127;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  if (!std::isfinite(id)) return false;
  *d_out = fp32_to_fp16(d);
  auto acc = hn::Zero(di);
  for (int l = 0; l < kQK; l += static_cast<int>(hn::Lanes(df))) {
    const auto q = round_away(hn::Mul(hn::LoadU(df, x + l), hn::Set(df, id)));
    acc = hn::Add(acc, q);
    hn::StoreU(hn::DemoteTo(DI8(), q), DI8(), qs + l);
  }
  *sum = hn::GetLane(hn::SumOfLanes(di, acc));
  *d_f32 = d;
  return true;
}

HWY_INLINE void quantize_q8_K_block(const float* x, BlockQ8_K* y) {
  const DF df;
  const DI di;
  const float amax = abs_max(x, kQK_K);
  if (amax == 0.0f) {
    std::memset(y, 0, sizeof(BlockQ8_K));
    return;
  }
  int first = 0;  // ggml keeps the first value whose |x| is the maximum
  while (std::fabs(x[first]) != amax) ++first;
  const float iscale = -127.f / x[first];
  if (!std::isfinite(iscale)) return ref::quantize_row_q8_K(x, y, kQK_K);
  const auto vs = hn::Set(df, iscale);
  for (int l = 0; l < kQK_K; l += static_cast<int>(hn::Lanes(df))) {
    // nearest_int rounds half to even, as Round does; |iscale * x| <= 127 keeps it in the exact range.
    const auto q = hn::Min(hn::ConvertTo(di, hn::Round(hn::Mul(vs, hn::LoadU(df, x + l)))), hn::Set(di, 127));
    hn::StoreU(hn::DemoteTo(DI8(), q), DI8(), y->qs + l);
  }
  for (int j = 0; j < kQK_K / 16; ++j) {
    int sum = 0;
    for (int ii = 0; ii < 16; ++ii) sum += y->qs[j * 16 + ii];
    y->bsums[j] = static_cast<int16_t>(sum);
  }
  y->d = 1 / iscale;
}
#endif
}  // namespace deq

void QuantizeRowQ8(GgmlType t, const float* x, void* dst, int64_t n) {
  using namespace deq;  // NOLINT
#if HWY_TARGET == HWY_SCALAR
  ref::quantize_row(t, x, dst, n);
#else
  switch (t) {
    case GgmlType::Q8_0: {
      auto* y = static_cast<BlockQ8_0*>(dst);
      for (int64_t i = 0; i < n / kQK; ++i) {
        int32_t sum;
        float d;
        if (!quantize_q8_block(x + i * kQK, &y[i].d, y[i].qs, &sum, &d))
          ref::quantize_row_q8_0(x + i * kQK, y + i, kQK);
      }
      return;
    }
    case GgmlType::Q8_1: {
      auto* y = static_cast<BlockQ8_1*>(dst);
      for (int64_t i = 0; i < n / kQK; ++i) {
        int32_t sum;
        float d;
        if (!quantize_q8_block(x + i * kQK, &y[i].d, y[i].qs, &sum, &d)) {
          ref::quantize_row_q8_1(x + i * kQK, y + i, kQK);
          continue;
        }
        y[i].s = fp32_to_fp16(static_cast<float>(sum) * d);
      }
      return;
    }
    case GgmlType::Q8_K: {
      auto* y = static_cast<BlockQ8_K*>(dst);
      for (int64_t i = 0; i < n / kQK_K; ++i) quantize_q8_K_block(x + i * kQK_K, y + i);
      return;
    }
    default:
      SCITUNE_CHECK(false, "quantize_row_q8: not an activation type");
  }
#endif
}

int64_t FirstNonFinite(const float* x, int64_t n) {
  using namespace deq;  // NOLINT
  int64_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  const DF df;
  const DU du;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto exp_mask = hn::Set(du, 0x7F800000u);
  for (; i + N <= n; i += N) {
    const auto bits = hn::BitCast(du, hn::LoadU(df, x + i));
    if (!hn::AllFalse(du, hn::Eq(hn::And(bits, exp_mask), exp_mask))) break;
  }
#endif
  for (; i < n; ++i)
    if (!std::isfinite(x[i])) return i;
  return -1;
}

}  // namespace HWY_NAMESPACE
}  // namespace scitune::quant::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace scitune::quant::simd {

HWY_EXPORT(DequantizeRow);
HWY_EXPORT(QuantizeRowQ8);
HWY_EXPORT(FirstNonFinite);

void dequantize_row(GgmlType t, const void* src, float* y, int64_t n) {
  HWY_DYNAMIC_DISPATCH(DequantizeRow)(t, src, y, n);
}
void quantize_row_q8(GgmlType t, const float* x, void* dst, int64_t n) {
  HWY_DYNAMIC_DISPATCH(QuantizeRowQ8)(t, x, dst, n);
}
int64_t first_non_finite(const float* x, int64_t n) { return HWY_DYNAMIC_DISPATCH(FirstNonFinite)(x, n); }

}  // namespace scitune::quant::simd
#endif
