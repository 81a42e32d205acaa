#include "model/gemma3.h"

#include <cmath>
#include <limits>

#include "kernels/cpu/ops.h"
#include "util/error.h"

namespace scitune {

Gemma3::Gemma3(const ModelConfig& config, Gemma3Weights weights) : cfg_(config), w_(std::move(weights)) {
  SCITUNE_CHECK(static_cast<int64_t>(w_.layers.size()) == cfg_.num_hidden_layers, "one weight set per layer");
  const int64_t D = cfg_.head_dim;
  inv_freq_local_.resize(D / 2);
  inv_freq_global_.resize(D / 2);
  ops::rope_inv_freq(inv_freq_local_.data(), D, cfg_.rope_local_base_freq, 1.0);
  ops::rope_inv_freq(inv_freq_global_.data(), D, cfg_.rope_theta, cfg_.rope_scaling_factor);
}

std::vector<float> Gemma3::forward(std::span<const int32_t> ids, std::span<const int64_t> lengths, int64_t B,
                                   int64_t T, float* logits) {
  const int64_t C = cfg_.hidden_size, H = cfg_.num_attention_heads, G = cfg_.num_key_value_heads;
  const int64_t D = cfg_.head_dim, F = cfg_.intermediate_size, V = cfg_.vocab_size, N = B * T;
  const float eps = static_cast<float>(cfg_.rms_norm_eps);
  SCITUNE_CHECK(static_cast<int64_t>(ids.size()) == N && static_cast<int64_t>(lengths.size()) == B, "ids/lengths");

  // The activation arena for one layer, reused by every layer.
  std::vector<float> x(N * C), a(N * C), q(N * H * D), k(N * G * D), v(N * G * D), att(N * H * D), o(N * C),
      gate(N * F), up(N * F);
  std::vector<int32_t> pos(T);
  for (int64_t t = 0; t < T; ++t) pos[t] = static_cast<int32_t>(t);

  // Embedding, scaled by sqrt(C) in fp32 (HF casts the scale to the weight dtype; fp32 here).
  const float emb_scale = std::sqrt(static_cast<float>(C));
  for (int64_t n = 0; n < N; ++n) {
    const int32_t id = ids[n];
    if (id < 0 || id >= V) fail("input_ids: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                std::to_string(V) + ")");
    for (int64_t c = 0; c < C; ++c) x[n * C + c] = w_.embed[id * C + c] * emb_scale;
  }

  const float scale = 1.0f / std::sqrt(static_cast<float>(cfg_.query_pre_attn_scalar));
  const float softcap = cfg_.attn_logit_softcapping > 0 ? static_cast<float>(cfg_.attn_logit_softcapping) : 0.0f;
  for (int64_t l = 0; l < cfg_.num_hidden_layers; ++l) {
    const Gemma3LayerWeights& lw = w_.layers[l];
    const bool sliding = cfg_.is_sliding(l);
    ops::rmsnorm(a.data(), nullptr, x.data(), lw.attn_norm, N, C, eps);
    ops::matmul_nt(q.data(), a.data(), lw.q, N, C, H * D);
    ops::matmul_nt(k.data(), a.data(), lw.k, N, C, G * D);
    ops::matmul_nt(v.data(), a.data(), lw.v, N, C, G * D);
    ops::rmsnorm(q.data(), nullptr, q.data(), lw.q_norm, N * H, D, eps);
    ops::rmsnorm(k.data(), nullptr, k.data(), lw.k_norm, N * G, D, eps);
    const float* inv = sliding ? inv_freq_local_.data() : inv_freq_global_.data();
    for (int64_t b = 0; b < B; ++b) {
      ops::rope_neox(q.data() + b * T * H * D, pos.data(), inv, T, H, D);
      ops::rope_neox(k.data() + b * T * G * D, pos.data(), inv, T, G, D);
      ops::attention(att.data() + b * T * H * D, nullptr, q.data() + b * T * H * D, k.data() + b * T * G * D,
                     v.data() + b * T * G * D, T, H, G, D, scale, sliding ? cfg_.sliding_window : 0, lengths[b],
                     softcap);
    }
    ops::matmul_nt(o.data(), att.data(), lw.o, N, H * D, C);
    ops::rmsnorm(o.data(), nullptr, o.data(), lw.post_attn_norm, N, C, eps);
    for (int64_t i = 0; i < N * C; ++i) x[i] += o[i];

    ops::rmsnorm(a.data(), nullptr, x.data(), lw.ffn_norm, N, C, eps);
    ops::matmul_nt(gate.data(), a.data(), lw.gate, N, C, F);
    ops::matmul_nt(up.data(), a.data(), lw.up, N, C, F);
    ops::geglu(gate.data(), gate.data(), up.data(), N * F);
    ops::matmul_nt(o.data(), gate.data(), lw.down, N, F, C);
    ops::rmsnorm(o.data(), nullptr, o.data(), lw.post_ffn_norm, N, C, eps);
    for (int64_t i = 0; i < N * C; ++i) x[i] += o[i];
  }
  ops::rmsnorm(x.data(), nullptr, x.data(), w_.final_norm, N, C, eps);
  if (logits) lm_head(logits, x.data(), N);
  return x;
}

void Gemma3::lm_head(float* out, const float* hidden, int64_t n) const {
  const int64_t V = cfg_.vocab_size;
  ops::matmul_nt(out, hidden, w_.embed, n, cfg_.hidden_size, V);
  if (cfg_.final_logit_softcapping > 0) ops::softcap(out, n * V, static_cast<float>(cfg_.final_logit_softcapping));
}

double causal_lm_loss(const float* logits, const int64_t* labels, int64_t B, int64_t T, int64_t V, int64_t* count) {
  double total = 0;
  int64_t n = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t + 1 < T; ++t) {
      const int64_t label = labels[b * T + t + 1];
      if (label == -100) continue;
      if (label < 0 || label >= V) fail("labels: " + std::to_string(label) + " is outside [0, vocab) and not -100");
      const float* row = logits + (b * T + t) * V;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < V; ++j) mx = std::max(mx, static_cast<double>(row[j]));
      double sum = 0;
      for (int64_t j = 0; j < V; ++j) sum += std::exp(row[j] - mx);
      total += std::log(sum) + mx - row[label];
      ++n;
    }
  if (count) *count = n;
  return n ? total / static_cast<double>(n) : 0.0;
}

}  // namespace scitune
