// Importance-weighted row quantisation: what llama-quantize --imatrix computes for a tensor with an importance
// entry, bit-exact with ggml's quantize_q4_0 .. quantize_q6_K given quant_weights (ggml-quants.c:
// quantize_row_<type>_impl with make_qx_quants / make_qkx3_quants / make_qp_quants weighted by the importance).
//
// `importance` holds one value per column of the row (n values, the same vector for every row of a tensor):
// llama.cpp's in_sum2 / count, the mean squared activation feeding that column. ggml ignores the importance for
// Q8_0 (quantize_q8_0 discards quant_weights) and for F32/F16/BF16, so those types quantise exactly as
// quantize_row does; so does a null `importance`.
//
// Preconditions as quantize_row (quants.h): n a multiple of the block size, dst holds ggml_row_size(t, n)
// bytes; non-finite input for a block type is a UserError. Importance values must be finite (the imatrix
// reader checks); non-negative in practice, but any finite values give ggml's bytes.
#pragma once
#include <cstdint>

#include "quant/ggml_type.h"
#include "quant/quant_blocks.h"

namespace scitune {

// True for the types whose ggml quantizer uses an importance vector: Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
bool quant_uses_importance(GgmlType t);

// n floats -> ggml_row_size(t, n) bytes, weighted by importance[0..n) where the type uses it.
void quantize_row_weighted(GgmlType t, const float* x, void* dst, int64_t n, const float* importance);

namespace quant::ref {

// Scalar, same fp32 operations in the same order as ggml's quantize_row_<type>_impl with quant_weights.
// One row of n values; `importance` has n values (never null here).
void quantize_row_q4_0_weighted(const float* x, BlockQ4_0* y, int64_t n, const float* importance);
void quantize_row_q4_1_weighted(const float* x, BlockQ4_1* y, int64_t n, const float* importance);
void quantize_row_q5_0_weighted(const float* x, BlockQ5_0* y, int64_t n, const float* importance);
void quantize_row_q5_1_weighted(const float* x, BlockQ5_1* y, int64_t n, const float* importance);
void quantize_row_q4_K_weighted(const float* x, BlockQ4_K* y, int64_t n, const float* importance);
void quantize_row_q5_K_weighted(const float* x, BlockQ5_K* y, int64_t n, const float* importance);
void quantize_row_q6_K_weighted(const float* x, BlockQ6_K* y, int64_t n, const float* importance);

}  // namespace quant::ref
}  // namespace scitune
