// The Gemma 3 text decoder, forward pass on CPU with fp32 activations (spec: ../shared/spec/gemma_gguf_spec.md §1).
// Weights are views held by the caller (see model/weights.h): linear weights and the embedding in any
// storage kernels/cpu/linear.h reads (fp32, f16/bf16, ggml quants, used in place), norms as fp32 gains. Batched scoring of whole
// sequences with right padding; one activation arena per forward, sized from the config up front.
// Legend: B batch, T tokens per row, C hidden, H heads, G kv heads, D head dim, F ffn, V vocab.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "kernels/cpu/linear.h"
#include "model/config.h"

namespace scitune {

struct Gemma3LayerWeights {
  // Linear weights as PyTorch stores them, [out, in]; norms as gains (1 + w), fp32.
  WeightMatrix q;     // [H*D, C]
  WeightMatrix k;     // [G*D, C]
  WeightMatrix v;     // [G*D, C]
  WeightMatrix o;     // [C, H*D]
  WeightMatrix gate;  // [F, C]
  WeightMatrix up;    // [F, C]
  WeightMatrix down;  // [C, F]
  const float* attn_norm = nullptr, *q_norm = nullptr, *k_norm = nullptr, *post_attn_norm = nullptr;
  const float* ffn_norm = nullptr, *post_ffn_norm = nullptr;  // [C] or [D] for q/k norms
};

struct Gemma3Weights {
  WeightMatrix embed;                 // [V, C], also the tied LM head
  const float* final_norm = nullptr;  // [C] gain
  std::vector<Gemma3LayerWeights> layers;
};

// Keys and values of the tokens seen so far, per layer. Global layers keep every position; sliding layers
// keep a ring of window + chunk - 1 positions, so long chats use bounded memory.
struct KvCache {
  std::vector<std::vector<float>> k, v;  // per layer [cap, G, D]
  std::vector<int64_t> cap;              // per layer capacity in positions
  int64_t pos = 0;                       // tokens processed so far
  int64_t max_len = 0;
};

// Adds a correction to the output of projection `proj` (0..6 = q, k, v, o, gate, up, down; the order of
// train/lora.h Proj) of `layer`: y[N, out] += f(x[N, in]). This is how a LoRA adapter joins inference without the
// model depending on the training code.
using ProjectionHook = std::function<void(int64_t layer, int proj, const float* x, float* y, int64_t N)>;

class Gemma3 {
 public:
  Gemma3(const ModelConfig& config, Gemma3Weights weights);
  void set_projection_hook(ProjectionHook hook) { hook_ = std::move(hook); }

  // ids[B*T] (row-major), lengths[B] = valid tokens per row (the rest is padding, never attended).
  // Writes logits[B*T*V] when non-null (padding rows get the logits of their own embedding path, as HF does,
  // but nothing attends to them). Returns the final hidden states [B*T, C] after the final norm.
  std::vector<float> forward(std::span<const int32_t> ids, std::span<const int64_t> lengths, int64_t B, int64_t T,
                             float* logits);

  // Incremental decoding. The prompt may go in at once: it is processed in chunks of kChunk tokens. Generation
  // multiplies as decoding does for the prompt too (ops::Precision::kQ8: Q8_0 activations against repacked Q4_0
  // weights, as llama.cpp); forward() is the exact path.
  static constexpr int64_t kChunk = 256;
  KvCache new_cache(int64_t max_len) const;
  // Runs ids at positions cache.pos.. through the model, appends their keys/values, and returns the final
  // hidden state (after the final norm) of the LAST token, [C].
  std::vector<float> forward_cached(std::span<const int32_t> ids, KvCache& cache);
  // One decode step for several sequences at once: ids[b] goes into *caches[b] at that cache's own position.
  // The projections see one [B, C] product instead of B mat-vecs. Returns the final hidden states [B, C]
  // (after the final norm).
  std::vector<float> forward_cached_batch(std::span<const int32_t> ids, std::span<KvCache* const> caches);

  // Logits for rows of final hidden states: out[n, V] = hidden[n, C] · embed^T, with softcap if configured.
  void lm_head(float* out, const float* hidden, int64_t n) const;

  const ModelConfig& config() const { return cfg_; }

 private:
  ModelConfig cfg_;
  Gemma3Weights w_;
  ProjectionHook hook_;
  std::vector<float> inv_freq_local_, inv_freq_global_;
  void embed(float* x, std::span<const int32_t> ids) const;
  // The layer stack over N rows of x in place (pos[N]: each row's position); attend(layer, q, k, v, att)
  // fills att[N, H*D] from RoPE'd q/k and v. The final norm is left to the caller.
  using AttendFn = std::function<void(int64_t, const float*, const float*, const float*, float*)>;
  // `precision` is the projections' (ops::Precision): kQ8 for generation prompts, kF32 otherwise.
  void run_layers(float* x, int64_t N, const int32_t* pos, const AttendFn& attend,
                  ops::Precision precision = ops::Precision::kF32);
};

// HF causal-LM loss: mean over positions t < T-1 with labels[b, t+1] != -100 of -log softmax(logits[b,t])[label].
// Computed in double. Returns 0 with *count = 0 when no label is active.
double causal_lm_loss(const float* logits, const int64_t* labels, int64_t B, int64_t T, int64_t V,
                      int64_t* count = nullptr);

}  // namespace scitune
