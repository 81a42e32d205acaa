// Public entry points: check the preconditions, then pick the fastest exact implementation.
// Weight quantizers (Q4_0 .. Q6_K) stay scalar: exactness needs ggml's sequential float search and ggml's own
// llama-quantize runs the same scalar code. The activation formats (Q8_0/Q8_1/Q8_K), all dequantizers and
// all dot products use Highway SIMD, bit-identical to the scalar reference.
#include "quant/quants.h"

#include "quant/quants_internal.h"
#include "quant/quants_simd.h"

namespace scitune {

bool quant_row_supported(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0:
    case GgmlType::Q8_1:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
    case GgmlType::Q8_K:
      return true;
    default:
      return false;
  }
}

void quantize_row(GgmlType t, const float* x, void* dst, int64_t n) {
  SCITUNE_CHECK(quant_row_supported(t), "quantize_row: unsupported type " + std::string(ggml_info(t).name));
  quant::check_row(t, n);
  if (ggml_info(t).quantized) {
    const int64_t bad = quant::simd::first_non_finite(x, n);
    if (bad >= 0)
      fail("quantize to " + std::string(ggml_info(t).name) + ": value " + std::to_string(bad) + " of the row is " +
           (x[bad] != x[bad] ? "NaN" : "infinite") + "; block formats need finite input");
  }
  switch (t) {
    case GgmlType::Q8_0:
    case GgmlType::Q8_1:
    case GgmlType::Q8_K:
      return quant::simd::quantize_row_q8(t, x, dst, n);
    default:
      return quant::ref::quantize_row(t, x, dst, n);
  }
}

void dequantize_row(GgmlType t, const void* src, float* y, int64_t n) {
  SCITUNE_CHECK(quant_row_supported(t), "dequantize_row: unsupported type " + std::string(ggml_info(t).name));
  quant::check_row(t, n);
  quant::simd::dequantize_row(t, src, y, n);
}

bool vec_dot_supported(GgmlType wt) {
  switch (wt) {
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
    case GgmlType::F16:
    case GgmlType::BF16:
      return true;
    default:
      return false;
  }
}

GgmlType vec_dot_activation_type(GgmlType wt) {
  switch (wt) {
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
      return GgmlType::Q8_0;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return GgmlType::Q8_1;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return GgmlType::Q8_K;
    case GgmlType::F16:
    case GgmlType::BF16:
      return GgmlType::F32;
    default:
      break;
  }
  SCITUNE_CHECK(false, "vec_dot: no dot product for weight type " + std::string(ggml_info(wt).name));
  return GgmlType::F32;
}

float vec_dot(GgmlType wt, const void* w, const void* act, int64_t n) {
  quant::check_row(vec_dot_activation_type(wt), n);
  quant::check_row(wt, n);
  return quant::simd::vec_dot(wt, w, act, n);
}

}  // namespace scitune
