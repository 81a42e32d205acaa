// Highway dot products. Per block the int32 sum of weight x activation quants is computed with 16-bit
// multiply-adds (exact), reduced to a scalar, and combined with the block scales by the very same float
// expression quant::ref uses, in the same block order: the results are bit-identical to ref. Only
// F16/BF16 x F32 (float lanes with MulAdd vs ref's double accumulation) differ by rounding.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "quant/quants_dot_simd.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
//
#include <hwy/highway.h>

#include <cstring>

#include "quant/quants.h"
#include "quant/quants_internal.h"
#include "quant/quants_simd.h"
#include "util/half.h"

#ifndef SCITUNE_QUANTS_DOT_SIMD_ONCE
#define SCITUNE_QUANTS_DOT_SIMD_ONCE
namespace scitune::quant::simd::detail {
// Bit j of a 16-bit half of a Q5 block's qh, as int16 lanes (0x8000 wraps to INT16_MIN; only the bits matter).
alignas(32) inline constexpr int16_t kBit16[16] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, static_cast<int16_t>(-32768)};
}  // namespace scitune::quant::simd::detail
#endif

HWY_BEFORE_NAMESPACE();
namespace scitune::quant::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
// Helpers live in a file-specific namespace: both SIMD files are compiled per target into the same
// scitune::quant::simd::N_<TARGET> namespace, and equal names would clash across translation units.
namespace dot {

#if HWY_TARGET != HWY_SCALAR
using D16 = hn::CappedTag<int16_t, 16>;  // 8 or 16 lanes: half a 32-value block or all of it
using D8 = hn::Rebind<int8_t, D16>;
using DU8 = hn::Rebind<uint8_t, D16>;
using D32 = hn::Repartition<int32_t, D16>;
using V16 = hn::Vec<D16>;
using V32 = hn::Vec<D32>;

// int32 accumulator pair for ReorderWidenMulAccumulate (x86 only uses the first; other targets both).
// Plain variables, not a struct: implicit members of a struct are not compiled for the target, which
// breaks 256/512-bit members.
HWY_INLINE void madd(V16 x, V16 y, V32& a, V32& b) { a = hn::ReorderWidenMulAccumulate(D32(), x, y, a, b); }
HWY_INLINE int32_t acc_sum(V32 a, V32 b) { return hn::GetLane(hn::SumOfLanes(D32(), hn::Add(a, b))); }

HWY_INLINE V16 load_u8(const uint8_t* p) { return hn::PromoteTo(D16(), hn::LoadU(DU8(), p)); }
HWY_INLINE V16 load_i8(const int8_t* p) { return hn::PromoteTo(D16(), hn::LoadU(D8(), p)); }

// Fifth bits (as 0/16) of values j0..j0+N-1 taken from one 16-bit half of qh.
HWY_INLINE V16 q5_high(uint32_t qh16, int j0) {
  const D16 d;
  const auto bits = hn::And(hn::Set(d, static_cast<int16_t>(qh16 & 0xFFFF)), hn::LoadU(d, detail::kBit16 + j0));
  return hn::IfThenElseZero(hn::Ne(bits, hn::Zero(d)), hn::Set(d, 16));
}

// sum over one 32-value block of w * a where the weights are 4/5-bit with an offset (0 or -8/-16).
HWY_INLINE int32_t block_dot_nibbles(const uint8_t* qs, const uint8_t* qh_bytes, int offset, const int8_t* act) {
  const D16 d;
  const int N = static_cast<int>(hn::Lanes(d));
  uint32_t qh = 0;
  if (qh_bytes) std::memcpy(&qh, qh_bytes, 4);
  const auto k15 = hn::Set(d, 15), off = hn::Set(d, static_cast<int16_t>(offset));
  V32 acc_a = hn::Zero(D32()), acc_b = hn::Zero(D32());
  for (int l = 0; l < 16; l += N) {
    const auto v = load_u8(qs + l);
    auto lo = hn::And(v, k15), hi = hn::ShiftRight<4>(v);
    if (qh_bytes) {
      lo = hn::Or(lo, q5_high(qh, l));
      hi = hn::Or(hi, q5_high(qh >> 16, l));
    }
    madd(hn::Add(lo, off), load_i8(act + l), acc_a, acc_b);
    madd(hn::Add(hi, off), load_i8(act + 16 + l), acc_a, acc_b);
  }
  return acc_sum(acc_a, acc_b);
}

float dot_legacy(GgmlType wt, const void* w, const void* act, int64_t nb) {
  const D16 d;
  const int N = static_cast<int>(hn::Lanes(d));
  float sum = 0;
  for (int64_t i = 0; i < nb; ++i) {
    switch (wt) {
      case GgmlType::Q8_0: {
        const auto& x = static_cast<const BlockQ8_0*>(w)[i];
        const auto& y = static_cast<const BlockQ8_0*>(act)[i];
        V32 acc_a = hn::Zero(D32()), acc_b = hn::Zero(D32());
        for (int l = 0; l < kQK; l += N) madd(load_i8(x.qs + l), load_i8(y.qs + l), acc_a, acc_b);
        sum += static_cast<float>(acc_sum(acc_a, acc_b)) * (fp16_to_fp32(x.d) * fp16_to_fp32(y.d));
        break;
      }
      case GgmlType::Q4_0:
      case GgmlType::Q5_0: {
        const bool q5 = wt == GgmlType::Q5_0;
        const auto& y = static_cast<const BlockQ8_0*>(act)[i];
        const auto* x4 = static_cast<const BlockQ4_0*>(w) + i;
        const auto* x5 = static_cast<const BlockQ5_0*>(w) + i;
        const int32_t isum =
            q5 ? block_dot_nibbles(x5->qs, x5->qh, -16, y.qs) : block_dot_nibbles(x4->qs, nullptr, -8, y.qs);
        sum += static_cast<float>(isum) * (fp16_to_fp32(q5 ? x5->d : x4->d) * fp16_to_fp32(y.d));
        break;
      }
      case GgmlType::Q4_1:
      case GgmlType::Q5_1: {
        const bool q5 = wt == GgmlType::Q5_1;
        const auto& y = static_cast<const BlockQ8_1*>(act)[i];
        const auto* x4 = static_cast<const BlockQ4_1*>(w) + i;
        const auto* x5 = static_cast<const BlockQ5_1*>(w) + i;
        const int32_t isum =
            q5 ? block_dot_nibbles(x5->qs, x5->qh, 0, y.qs) : block_dot_nibbles(x4->qs, nullptr, 0, y.qs);
        const float xd = fp16_to_fp32(q5 ? x5->d : x4->d), xm = fp16_to_fp32(q5 ? x5->m : x4->m);
        sum += (xd * fp16_to_fp32(y.d)) * static_cast<float>(isum) + xm * fp16_to_fp32(y.s);
        break;
      }
      default:
        SCITUNE_CHECK(false, "dot_legacy: not a 32-value block type");
    }
  }
  return sum;
}

float dot_kquant(GgmlType wt, const void* w, const BlockQ8_K* a, int64_t nb) {
  const D16 d;
  const int N = static_cast<int>(hn::Lanes(d));
  const auto k15 = hn::Set(d, 15), k3 = hn::Set(d, 3), k1 = hn::Set(d, 1);
  float sum = 0;
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    V32 acc_a = hn::Zero(D32()), acc_b = hn::Zero(D32());
    if (wt == GgmlType::Q6_K) {
      const auto& x = static_cast<const BlockQ6_K*>(w)[i];
      for (int h = 0; h < 2; ++h)
        for (int c = 0; c < 4; ++c)
          for (int l = 0; l < 32; l += N) {
            const auto ql = load_u8(x.ql + 64 * h + 32 * (c & 1) + l);
            const auto qh = hn::And(hn::ShiftRightSame(load_u8(x.qh + 32 * h + l), 2 * c), k3);
            const auto v =
                hn::Sub(hn::Or(c < 2 ? hn::And(ql, k15) : hn::ShiftRight<4>(ql), hn::ShiftLeft<4>(qh)), hn::Set(d, 32));
            const int e = 128 * h + 32 * c + l;
            madd(hn::Mul(v, hn::Set(d, x.scales[e / 16])), load_i8(y.qs + e), acc_a, acc_b);
          }
      sum += (fp16_to_fp32(x.d) * y.d) * static_cast<float>(acc_sum(acc_a, acc_b));
      continue;
    }
    const bool q5 = wt == GgmlType::Q5_K;
    const auto* x4 = static_cast<const BlockQ4_K*>(w) + i;
    const auto* x5 = static_cast<const BlockQ5_K*>(w) + i;
    const uint8_t* scales = q5 ? x5->scales : x4->scales;
    const uint8_t* qs = q5 ? x5->qs : x4->qs;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      k_scale_min(j, scales, &sc, &m);
      const auto vsc = hn::Set(d, static_cast<int16_t>(sc));
      for (int l = 0; l < 32; l += N) {
        const auto v = load_u8(qs + 32 * (j / 2) + l);
        auto q = (j & 1) ? hn::ShiftRight<4>(v) : hn::And(v, k15);
        if (q5) q = hn::Add(q, hn::ShiftLeft<4>(hn::And(hn::ShiftRightSame(load_u8(x5->qh + l), j), k1)));
        madd(hn::Mul(q, vsc), load_i8(y.qs + 32 * j + l), acc_a, acc_b);
      }
    }
    const int32_t msum = k_min_sum(scales, y.bsums);
    const float dd = fp16_to_fp32(q5 ? x5->d : x4->d) * y.d, dmin = fp16_to_fp32(q5 ? x5->dmin : x4->dmin) * y.d;
    sum += dd * static_cast<float>(acc_sum(acc_a, acc_b)) - dmin * static_cast<float>(msum);
  }
  return sum;
}

// F16/BF16 weights x F32 activations: float lanes, two accumulators, scalar tail.
float dot_half(bool bf16, const uint16_t* w, const float* a, int64_t n) {
  using DF = hn::ScalableTag<float>;
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const hn::Rebind<uint16_t, DF> du16;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto widen = [&](const uint16_t* p) HWY_ATTR {
    const auto h = hn::PromoteTo(du, hn::LoadU(du16, p));
    if (bf16) return hn::BitCast(df, hn::ShiftLeft<16>(h));
    // fp16 -> fp32 by bits, as util/half.h does.
    const auto sign = hn::ShiftLeft<16>(hn::And(h, hn::Set(du, 0x8000u)));
    const auto exp = hn::And(hn::ShiftRight<10>(h), hn::Set(du, 0x1Fu));
    const auto man = hn::And(h, hn::Set(du, 0x3FFu));
    const auto normal = hn::Or(hn::ShiftLeft<23>(hn::Add(exp, hn::Set(du, 112u))), hn::ShiftLeft<13>(man));
    const auto infnan = hn::Or(hn::Set(du, 0x7F800000u), hn::ShiftLeft<13>(man));
    const auto sub = hn::BitCast(
        du, hn::Mul(hn::ConvertTo(df, hn::BitCast(hn::RebindToSigned<DF>(), man)), hn::Set(df, 1.0f / 16777216.0f)));
    const auto bits =
        hn::IfThenElse(hn::Eq(exp, hn::Zero(du)), sub, hn::IfThenElse(hn::Eq(exp, hn::Set(du, 31u)), infnan, normal));
    return hn::BitCast(df, hn::Or(bits, sign));
  };
  auto s0 = hn::Zero(df), s1 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    s0 = hn::MulAdd(widen(w + i), hn::LoadU(df, a + i), s0);
    s1 = hn::MulAdd(widen(w + i + N), hn::LoadU(df, a + i + N), s1);
  }
  for (; i + N <= n; i += N) s0 = hn::MulAdd(widen(w + i), hn::LoadU(df, a + i), s0);
  float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(s0, s1)));
  for (; i < n; ++i) sum += (bf16 ? bf16_to_fp32(w[i]) : fp16_to_fp32(w[i])) * a[i];
  return sum;
}
#endif  // HWY_TARGET != HWY_SCALAR

}  // namespace dot

float VecDot(GgmlType wt, const void* w, const void* act, int64_t n) {
  using namespace dot;  // NOLINT
#if HWY_TARGET == HWY_SCALAR
  return ref::vec_dot(wt, w, act, n);
#else
  switch (wt) {
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return dot_legacy(wt, w, act, n / kQK);
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return dot_kquant(wt, w, static_cast<const BlockQ8_K*>(act), n / kQK_K);
    case GgmlType::F16:
    case GgmlType::BF16:
      return dot_half(wt == GgmlType::BF16, static_cast<const uint16_t*>(w), static_cast<const float*>(act), n);
    default:
      return ref::vec_dot(wt, w, act, n);  // reports the unsupported type
  }
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace scitune::quant::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace scitune::quant::simd {
HWY_EXPORT(VecDot);
float vec_dot(GgmlType wt, const void* w, const void* act, int64_t n) {
  return HWY_DYNAMIC_DISPATCH(VecDot)(wt, w, act, n);
}
}  // namespace scitune::quant::simd
#endif
