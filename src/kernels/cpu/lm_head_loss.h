// Fused tied LM head + cross-entropy, forward and backward together. The [N, V] logits (V = 262144 for Gemma 3)
// never exist whole: rows go through in blocks of kLmHeadRows (one [kLmHeadRows, V] fp32 scratch, 128 MiB at
// V = 262144, kept for the next call), each block doing logits = h · Eᵀ with a running log-sum-exp, then
// softmax - onehot and dh = dlogits · E, both in vocabulary chunks small enough to stay in cache.
#pragma once
#include <cstdint>

#include "kernels/cpu/linear.h"

namespace scitune::ops {

inline constexpr int64_t kLmHeadIgnore = -100;  // target id that contributes neither loss nor gradient (HF)
inline constexpr int64_t kLmHeadRows = 128;     // rows per block (GEMM efficiency vs scratch)

// hidden[N,C] (the final-normed activations), embed[V,C] (the tied embedding, unscaled), targets[N] with
// kLmHeadIgnore for rows without a label; any other target must lie in [0, V).
// logits = softcap(hidden · embedᵀ) when softcap > 0 (c * tanh(x / c)), else hidden · embedᵀ.
// Returns the SUM over active rows of -log softmax(logits)[target] (double accumulation); *count (when non-null)
// receives the number of active rows. When dhidden is non-null it is written (not accumulated) with
// grad_scale * d(sum)/d(hidden); ignored rows get zeros. Pass grad_scale = 1/count for the mean loss.
double lm_head_ce_forward_backward(float* dhidden, const float* hidden, const float* embed, const int32_t* targets,
                                   int64_t N, int64_t C, int64_t V, float softcap, float grad_scale, int64_t* count);

// The same with the embedding stored as bf16 (raw bits, as in the checkpoint): it is widened to fp32 in chunks of
// rows (exact), twice per block of rows, so memory holds half the bytes of an fp32 copy.
double lm_head_ce_forward_backward_bf16(float* dhidden, const float* hidden, const uint16_t* embed,
                                        const int32_t* targets, int64_t N, int64_t C, int64_t V, float softcap,
                                        float grad_scale, int64_t* count);

// Any storage kernels/cpu/linear.h reads (fp32 used in place; bf16, f16 and the ggml quants dequantised in
// chunks of rows, twice per block of rows), so a quantised tied head never has a full fp32 copy.
// bf16: both GEMMs take bf16-rounded inputs with fp32 accumulation (gemm_bf16.h) when the CPU has AVX512-BF16.
double lm_head_ce_forward_backward(float* dhidden, const float* hidden, const WeightMatrix& embed,
                                   const int32_t* targets, int64_t N, float softcap, float grad_scale, int64_t* count,
                                   bool bf16 = false);

namespace ref {
// Naive: the full [N, V] logits in double. Same contract.
double lm_head_ce_forward_backward(float* dhidden, const float* hidden, const float* embed, const int32_t* targets,
                                   int64_t N, int64_t C, int64_t V, float softcap, float grad_scale, int64_t* count);
}  // namespace ref

}  // namespace scitune::ops
