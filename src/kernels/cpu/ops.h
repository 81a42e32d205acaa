// Gemma CPU kernels, forward. Each op has a plain scalar reference in namespace ref (kept forever, used by
// tests) and a fast version. Argument order: outputs, saved statistics, inputs, weights, sizes.
// Legend: T tokens (rows), C channels (hidden), N out features, K in features, H query heads,
// G kv heads, D head dim, V vocabulary.
#pragma once
#include <cstdint>

namespace scitune::ops {

// Y[T,N] = X[T,K] · W[N,K]^T  (+ Y when accumulate). W is a PyTorch Linear weight as stored.
void matmul_nt(float* y, const float* x, const float* w, int64_t T, int64_t K, int64_t N, bool accumulate = false);

// RMSNorm over the last axis of X[T,C]: y = x * rsqrt(mean(x^2) + eps) * gain. Gemma 3 stores w with
// gain = 1 + w (HF computes 1 + w in fp32, so precomputing it is exact); GGUF files store the gain itself.
// rstd[T] saved when non-null (for backward). y may alias x.
void rmsnorm(float* y, float* rstd, const float* x, const float* gain, int64_t T, int64_t C, float eps);

// NeoX rotate-half RoPE in place on X[T, heads, D]: pairs (i, i + D/2), angle pos[t] * inv_freq[i].
// inv_freq[D/2] already includes any linear scaling (divide by the factor).
void rope_neox(float* x, const int32_t* pos, const float* inv_freq, int64_t T, int64_t heads, int64_t D);
void rope_inv_freq(float* inv_freq, int64_t D, double base, double linear_factor);

// out[n] = gelu_tanh(gate[n]) * up[n]   (GeGLU with PyTorch's tanh approximation)
void geglu(float* out, const float* gate, const float* up, int64_t n);

// Query rows from which attention runs as sgemm products (full score blocks) instead of per-pair dots.
inline constexpr int64_t kAttentionGemmRows = 4;

// Causal self-attention for one sequence. q[T,H,D], k/v[T,G,D] (head-major rows), out[T,H,D].
// Query t attends kv s with s <= t and, when window > 0, s > t - window; kv positions >= valid_len are
// padding and never attended (queries at t >= valid_len produce zeros). softcap > 0 applies c*tanh(s/c).
// probs (optional, [H,T,T]) receives the softmax for backward.
void attention(float* out, float* probs, const float* q, const float* k, const float* v, int64_t T, int64_t H,
               int64_t G, int64_t D, float scale, int64_t window, int64_t valid_len, float softcap);

// Attention of n new queries at positions pos0..pos0+n-1 against a KV cache. Cache rows are [G, D]; the key
// of position p lives in row p % cap (a ring buffer when cap is smaller than the sequence: the caller keeps
// cap >= window + n - 1 so no row a query needs has been overwritten). Masking as in attention().
void attention_cached(float* out, const float* q, const float* k_cache, const float* v_cache, int64_t cap,
                      int64_t pos0, int64_t n, int64_t H, int64_t G, int64_t D, float scale, int64_t window,
                      float softcap);

// x[n] = c * tanh(x[n] / c)
void softcap(float* x, int64_t n, float c);

namespace ref {
void matmul_nt(float* y, const float* x, const float* w, int64_t T, int64_t K, int64_t N, bool accumulate);
void rmsnorm(float* y, float* rstd, const float* x, const float* gain, int64_t T, int64_t C, float eps);
void rope_neox(float* x, const int32_t* pos, const float* inv_freq, int64_t T, int64_t heads, int64_t D);
void geglu(float* out, const float* gate, const float* up, int64_t n);
void attention(float* out, float* probs, const float* q, const float* k, const float* v, int64_t T, int64_t H,
               int64_t G, int64_t D, float scale, int64_t window, int64_t valid_len, float softcap);
}  // namespace ref

}  // namespace scitune::ops
