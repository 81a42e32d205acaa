// Row quantisation, dequantisation and dot products for the ggml block formats (spec section 5).
//
// Quantisation is bit-exact with ggml's reference quantizers (quantize_row_*_ref in ggml-quants.c, no imatrix);
// dequantisation is bit-exact with ggml's dequantize_row_*. The public functions dispatch to the fastest exact
// version (Highway SIMD, chosen at run time); the scalar reference versions stay in namespace quant::ref.
//
// Preconditions (callers validate user input first; a violation here is a bug -> InternalError):
//  - n >= 0 and n is a multiple of the type's block size (32, or 256 for K-quants).
//  - dst/src hold ggml_row_size(type, n) bytes; blocks need no alignment.
// NaN / Inf: ggml's reference quantizers do not guard against them and produce garbage blocks. Here
// quantize_row() rejects non-finite input for the block-quantised types with a UserError naming the element;
// F16/BF16 convert NaN/Inf like ggml (Inf stays Inf, NaN stays a quiet NaN). The ref:: functions do not
// check: with non-finite input they produce the same (meaningless) blocks as ggml on x86.
#pragma once
#include <cstdint>

#include "quant/ggml_type.h"
#include "quant/quant_blocks.h"

namespace scitune {

// True for the types quantize_row / dequantize_row handle: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1,
// Q4_K, Q5_K, Q6_K, Q8_K. (Q8_1 and Q8_K are activation formats; dequantising them is d * q.)
bool quant_row_supported(GgmlType t);

// n floats -> ggml_row_size(t, n) bytes. Non-finite input for a block type throws UserError.
void quantize_row(GgmlType t, const float* x, void* dst, int64_t n);
// ggml_row_size(t, n) bytes -> n floats.
void dequantize_row(GgmlType t, const void* src, float* y, int64_t n);

// The format vec_dot expects its activation row in: Q8_0 for Q8_0/Q4_0/Q5_0, Q8_1 for Q4_1/Q5_1, Q8_K for
// Q4_K/Q5_K/Q6_K, F32 for F16/BF16. Throws InternalError for weight types without a dot product.
GgmlType vec_dot_activation_type(GgmlType wt);
bool vec_dot_supported(GgmlType wt);
// Dot product of a weight row of type wt with an activation row in vec_dot_activation_type(wt), n values each.
// Bit-identical to quant::ref::vec_dot for the block types (exact int32 block sums, same float expression and
// block order); for F16/BF16 the float lanes round differently from ref's double sum (<= 2 n 2^-24 sum|w a|).
float vec_dot(GgmlType wt, const void* w, const void* act, int64_t n);

namespace quant::ref {

// Plain scalar reference kernels: same float operations in the same order as ggml's C reference.
void quantize_row_f16(const float* x, uint16_t* y, int64_t n);
void dequantize_row_f16(const uint16_t* x, float* y, int64_t n);
void quantize_row_bf16(const float* x, uint16_t* y, int64_t n);
void dequantize_row_bf16(const uint16_t* x, float* y, int64_t n);

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n);
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n);
void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n);
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n);
void quantize_row_q4_K(const float* x, BlockQ4_K* y, int64_t n);
void quantize_row_q5_K(const float* x, BlockQ5_K* y, int64_t n);
void quantize_row_q6_K(const float* x, BlockQ6_K* y, int64_t n);
void quantize_row_q8_K(const float* x, BlockQ8_K* y, int64_t n);

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_row_q8_1(const BlockQ8_1* x, float* y, int64_t n);
void dequantize_row_q4_K(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_row_q5_K(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_row_q6_K(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_row_q8_K(const BlockQ8_K* x, float* y, int64_t n);

// Dot products: per block an exact int32 sum, then sum += (d_w * d_a) * isum (+ min terms), blocks in order.
float vec_dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n);
float vec_dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n);
float vec_dot_q5_0_q8_0(const BlockQ5_0* w, const BlockQ8_0* a, int64_t n);
float vec_dot_q4_1_q8_1(const BlockQ4_1* w, const BlockQ8_1* a, int64_t n);
float vec_dot_q5_1_q8_1(const BlockQ5_1* w, const BlockQ8_1* a, int64_t n);
float vec_dot_q4_K_q8_K(const BlockQ4_K* w, const BlockQ8_K* a, int64_t n);
float vec_dot_q5_K_q8_K(const BlockQ5_K* w, const BlockQ8_K* a, int64_t n);
float vec_dot_q6_K_q8_K(const BlockQ6_K* w, const BlockQ8_K* a, int64_t n);
// Accumulates in double, so this is the accurate reference the float SIMD version is measured against.
float vec_dot_f16_f32(const uint16_t* w, const float* a, int64_t n);
float vec_dot_bf16_f32(const uint16_t* w, const float* a, int64_t n);

// By type, scalar only (the public functions above check preconditions and pick SIMD).
void quantize_row(GgmlType t, const float* x, void* dst, int64_t n);
void dequantize_row(GgmlType t, const void* src, float* y, int64_t n);
float vec_dot(GgmlType wt, const void* w, const void* act, int64_t n);

}  // namespace quant::ref
}  // namespace scitune
