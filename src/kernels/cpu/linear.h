// Linear layers over frozen weights in any storage the model files use: F32, F16, BF16 and the ggml block
// types (Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K, ...). The weights are read in place (a GGUF stays mmapped and is
// never dequantised whole):
//  - few rows (decoding): activations are quantised to the weight type's partner format and each output is
//    one vec_dot, as llama.cpp does, so the quantised bytes are read once per token;
//  - many rows (prompt, scoring, training): a panel of weight rows is dequantised to fp32 and multiplied with
//    OpenBLAS sgemm; the dequantisation is amortised over the rows.
// Legend: T activation rows, K in features (cols), N out features (rows of the weight).
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "quant/ggml_type.h"

namespace scitune {

struct Nf4Quantized;

// A weight matrix [rows = N, cols = K] as PyTorch stores a Linear weight, one ggml row per output feature.
// NF4 (bitsandbytes QLoRA) matrices set nf4, whose blocks must not straddle rows (cols % blocksize == 0); type
// and data are then unused except that data marks the matrix present.
struct WeightMatrix {
  GgmlType type = GgmlType::F32;
  const uint8_t* data = nullptr;
  int64_t rows = 0, cols = 0;
  const Nf4Quantized* nf4 = nullptr;
  // Q4_0 only: the same blocks interleaved 16 rows at a time (kernels/cpu/q4_0x16.h) when laid out for inference at load; the
  // integer kernels read these, everything else reads `data`.
  const uint8_t* q4_0x16 = nullptr;

  static WeightMatrix f32(const float* p, int64_t rows, int64_t cols) {
    return {GgmlType::F32, reinterpret_cast<const uint8_t*>(p), rows, cols};
  }
  size_t row_bytes() const { return nf4 ? static_cast<size_t>(cols / 2) : ggml_row_size(type, static_cast<uint64_t>(cols)); }
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes(); }
  bool is_f32() const { return type == GgmlType::F32 && !nf4; }
  explicit operator bool() const { return data != nullptr; }
};

namespace ops {

// kBf16: the many-row (sgemm) path rounds activations and weight panels to bf16 and multiplies with fp32
// accumulation (gemm_bf16.h) when the CPU has AVX512-BF16; otherwise, and on the few-row path, fp32.
// kQ8: many rows against a repacked Q4_0 weight (WeightMatrix::q4_0x16) go the way single tokens do: activations
// rounded to Q8_0 and multiplied in integers, as llama.cpp processes a prompt; so do other VNNI types (Q8_0, Q5_0,
// Q4_K, Q6_K) up to kQ8RowKernelMaxRows rows; the rest as kF32. For
// generation (prompt then decoding with the same arithmetic); scoring and training keep kF32.
enum class Precision { kF32, kBf16, kQ8 };

// y[T,N] = x[T,K] · W^T (+ y when accumulate).
void linear(float* y, const float* x, const WeightMatrix& w, int64_t T, bool accumulate = false,
            Precision precision = Precision::kF32);
// Several weights applied to the same input (q/k/v, gate/up): y_i[T,N_i] = x · W_iᵀ. When decoding (few rows, every
// weight on the VNNI path) the input is quantised once and all rows of all weights form one threaded job, instead
// of one job and one quantisation per weight; otherwise it is linear() per weight. Same numbers either way.
struct LinearOut {
  float* y;
  const WeightMatrix* w;
};
void linear_multi(std::initializer_list<LinearOut> outs, const float* x, int64_t T,
                  Precision precision = Precision::kF32);

// dx[T,K] = dy[T,N] · W (+ dx when accumulate): the input gradient through a frozen weight.
void linear_backward_input(float* dx, const float* dy, const WeightMatrix& w, int64_t T, bool accumulate = false,
                           Precision precision = Precision::kF32);
// out[K] = row r of W in fp32.
void weight_row(float* out, const WeightMatrix& w, int64_t r);

// Rows of activations at which linear() switches from vec_dot to dequantise + sgemm.
inline constexpr int64_t kLinearGemmRows = 8;
// With Precision::kQ8 (generation), VNNI weight types stay on the decoding kernels up to this many rows: a short
// prompt would otherwise dequantise the whole model into fp32 panels for a handful of tokens.
inline constexpr int64_t kQ8RowKernelMaxRows = 64;

namespace ref {
// Dequantises W whole and multiplies in double.
void linear(float* y, const float* x, const WeightMatrix& w, int64_t T, bool accumulate);
}  // namespace ref

}  // namespace ops
}  // namespace scitune
