// GeGLU-tanh forward and backward vectorised with Highway (run-time dispatch). std::tanh does not vectorise and
// was ~8% of a training step; Highway's Tanh is a few ULP from the correctly rounded value. Compiled once per
// Highway target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/geglu_hwy.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
//
#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cmath>
#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace scitune::ops {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr float kAlpha = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kBeta = 0.044715f;

// out = 0.5 g (1 + tanh(alpha (g + beta g^3))) * up over [b, e).
void GegluRange(float* out, const float* gate, const float* up, int64_t b, int64_t e) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto a = hn::Set(d, kAlpha), bt = hn::Set(d, kBeta), half = hn::Set(d, 0.5f), one = hn::Set(d, 1.0f);
  int64_t i = b;
  for (; i + L <= e; i += L) {
    const auto g = hn::LoadU(d, gate + i);
    const auto th = hn::Tanh(d, hn::Mul(a, hn::MulAdd(hn::Mul(bt, hn::Mul(g, g)), g, g)));
    hn::StoreU(hn::Mul(hn::Mul(hn::Mul(half, g), hn::Add(one, th)), hn::LoadU(d, up + i)), d, out + i);
  }
  for (; i < e; ++i) {
    const float g = gate[i];
    out[i] = 0.5f * g * (1.0f + std::tanh(kAlpha * (g + kBeta * g * g * g))) * up[i];
  }
}

void GegluBackwardRange(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t b,
                        int64_t e) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto a = hn::Set(d, kAlpha), bt = hn::Set(d, kBeta), bt3 = hn::Set(d, 3.0f * kBeta), half = hn::Set(d, 0.5f),
             one = hn::Set(d, 1.0f);
  int64_t i = b;
  for (; i + L <= e; i += L) {
    const auto g = hn::LoadU(d, gate + i), u = hn::LoadU(d, up + i), dy = hn::LoadU(d, dout + i);
    const auto g2 = hn::Mul(g, g);
    const auto th = hn::Tanh(d, hn::Mul(a, hn::MulAdd(hn::Mul(bt, g2), g, g)));
    const auto one_th = hn::Add(one, th);
    const auto gelu = hn::Mul(hn::Mul(half, g), one_th);
    // d gelu / d g = 0.5 (1 + th) + 0.5 g (1 - th^2) alpha (1 + 3 beta g^2)
    const auto sech2 = hn::NegMulAdd(th, th, one);
    const auto dgelu = hn::MulAdd(hn::Mul(hn::Mul(half, g), hn::Mul(sech2, a)), hn::MulAdd(bt3, g2, one),
                                  hn::Mul(half, one_th));
    hn::StoreU(hn::Mul(hn::Mul(dy, u), dgelu), d, dgate + i);
    hn::StoreU(hn::Mul(dy, gelu), d, dup + i);
  }
  for (; i < e; ++i) {
    const float g = gate[i], u = up[i], dy = dout[i];
    const float th = std::tanh(kAlpha * (g + kBeta * g * g * g));
    const float gelu = 0.5f * g * (1.0f + th);
    const float dgelu = 0.5f * (1.0f + th) + 0.5f * g * (1.0f - th * th) * kAlpha * (1.0f + 3.0f * kBeta * g * g);
    dgate[i] = dy * u * dgelu;
    dup[i] = dy * gelu;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace scitune::ops
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "kernels/cpu/geglu_hwy.h"

namespace scitune::ops {

HWY_EXPORT(GegluRange);
HWY_EXPORT(GegluBackwardRange);

void geglu_range_hwy(float* out, const float* gate, const float* up, int64_t b, int64_t e) {
  HWY_DYNAMIC_DISPATCH(GegluRange)(out, gate, up, b, e);
}
void geglu_backward_range_hwy(float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                              int64_t b, int64_t e) {
  HWY_DYNAMIC_DISPATCH(GegluBackwardRange)(dgate, dup, dout, gate, up, b, e);
}

}  // namespace scitune::ops
#endif  // HWY_ONCE
