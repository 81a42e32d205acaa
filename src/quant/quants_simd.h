// Highway (runtime-dispatched) kernels behind the public functions in quants.h. Each one produces exactly the
// same bits as its quant::ref counterpart (checked per compiled target in tests/quant/quants_simd_test.cc),
// except vec_dot for F16/BF16, whose float accumulation order differs from ref's double accumulation.
#pragma once
#include <cstdint>

#include "quant/ggml_type.h"

namespace scitune::quant::simd {

void dequantize_row(GgmlType t, const void* src, float* y, int64_t n);
// Activation formats only (Q8_0, Q8_1, Q8_K); blocks whose scale degenerates fall back to the scalar code.
void quantize_row_q8(GgmlType t, const float* x, void* dst, int64_t n);
float vec_dot(GgmlType wt, const void* w, const void* act, int64_t n);
// Index of the first NaN/Inf in x[0..n), or -1.
int64_t first_non_finite(const float* x, int64_t n);

}  // namespace scitune::quant::simd
