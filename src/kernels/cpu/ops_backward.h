// Gemma CPU kernels, backward (for LoRA training without autodiff). Each op has a plain scalar reference in
// namespace ref (double accumulation, kept forever, used by tests) and a fast version. Argument order and the
// size legend follow ops.h: outputs, saved statistics, inputs, weights, sizes. Outputs are written unless the
// comment says they accumulate (+=).
#pragma once
#include <cstdint>

namespace scitune::ops {

// Backward of ops::rmsnorm, y = x * rstd * gain with rstd[T] as the forward saved it.
//   dx[T,C]   written: dx = rstd * (gain*dy - x * rstd^2 * mean_c(gain*dy*x)). dx may alias dy.
//   dgain[C]  accumulates sum_t dy * x * rstd when non-null (for gain = 1 + w this is also dw).
void rmsnorm_backward(float* dx, float* dgain, const float* dy, const float* x, const float* rstd, const float* gain,
                      int64_t T, int64_t C);

// Backward of ops::rope_neox, in place on dX[T, heads, D]: the forward is a rotation, so its transpose rotates
// by the negated angle (same pos/inv_freq as the forward).
void rope_neox_backward(float* dx, const int32_t* pos, const float* inv_freq, int64_t T, int64_t heads, int64_t D);

// Backward of ops::geglu, out = gelu_tanh(gate) * up (exact derivative of the tanh approximation).
// dgate and dup are written; dgate may alias gate or dout, dup may alias up or dout (element-wise).
void geglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n);

// Backward of ops::softcap given its output y = c * tanh(x / c): dx = dy * (1 - (y/c)^2), written.
// dx may alias dy.
void softcap_backward(float* dx, const float* dy, const float* y, int64_t n, float c);

// Backward of ops::attention (same layouts, masking and arguments). probs[H,T,T] is what the forward saved:
// exactly zero outside the mask, which is what keeps masked and padding positions out of every gradient.
// probs may be null: each block of query rows then recomputes its probabilities from q and k (a [64, T] buffer
// instead of [H, T, T]: 0.5 GB per layer for 8 heads at T = 4096).
// dq[T,H,D], dk[T,G,D], dv[T,G,D] are written (dk/dv sum over the H/G query heads sharing a kv head);
// padding rows (t >= valid_len) get zeros. With softcap > 0 the capped scores are recomputed from q and k.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                        const float* k, const float* v, int64_t T, int64_t H, int64_t G, int64_t D, float scale,
                        int64_t window, int64_t valid_len, float softcap);

namespace ref {
void rmsnorm_backward(float* dx, float* dgain, const float* dy, const float* x, const float* rstd, const float* gain,
                      int64_t T, int64_t C);
void rope_neox_backward(float* dx, const int32_t* pos, const float* inv_freq, int64_t T, int64_t heads, int64_t D);
void geglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n);
void softcap_backward(float* dx, const float* dy, const float* y, int64_t n, float c);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                        const float* k, const float* v, int64_t T, int64_t H, int64_t G, int64_t D, float scale,
                        int64_t window, int64_t valid_len, float softcap);
}  // namespace ref

}  // namespace scitune::ops
