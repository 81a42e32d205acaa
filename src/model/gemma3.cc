#include "model/gemma3.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/linear.h"
#include "kernels/cpu/ops.h"
#include "util/error.h"

namespace scitune {

Gemma3::Gemma3(const ModelConfig& config, Gemma3Weights weights) : cfg_(config), w_(std::move(weights)) {
  SCITUNE_CHECK(static_cast<int64_t>(w_.layers.size()) == cfg_.num_hidden_layers, "one weight set per layer");
  const int64_t C = cfg_.hidden_size, HD = cfg_.num_attention_heads * cfg_.head_dim;
  const int64_t GD = cfg_.num_key_value_heads * cfg_.head_dim, F = cfg_.intermediate_size;
  auto check = [](const WeightMatrix& w, int64_t rows, int64_t cols, const char* what) {
    SCITUNE_CHECK(w && w.rows == rows && w.cols == cols, std::string(what) + " weight shape");
  };
  check(w_.embed, cfg_.vocab_size, C, "embedding");
  for (const auto& L : w_.layers) {
    check(L.q, HD, C, "q_proj");
    check(L.k, GD, C, "k_proj");
    check(L.v, GD, C, "v_proj");
    check(L.o, C, HD, "o_proj");
    check(L.gate, F, C, "gate_proj");
    check(L.up, F, C, "up_proj");
    check(L.down, C, F, "down_proj");
  }
  const int64_t D = cfg_.head_dim;
  inv_freq_local_.resize(D / 2);
  inv_freq_global_.resize(D / 2);
  ops::rope_inv_freq(inv_freq_local_.data(), D, cfg_.rope_local_base_freq, 1.0);
  ops::rope_inv_freq(inv_freq_global_.data(), D, cfg_.rope_theta, cfg_.rope_scaling_factor);
}

void Gemma3::embed(float* x, std::span<const int32_t> ids) const {
  const int64_t C = cfg_.hidden_size, V = cfg_.vocab_size;
  // Scaled by sqrt(C) in fp32 (HF casts the scale to the weight dtype; fp32 here).
  const float emb_scale = std::sqrt(static_cast<float>(C));
  for (size_t n = 0; n < ids.size(); ++n) {
    const int32_t id = ids[n];
    if (id < 0 || id >= V)
      fail("input_ids: token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(V) + ")");
    float* row = x + n * C;
    ops::weight_row(row, w_.embed, id);
    for (int64_t c = 0; c < C; ++c) row[c] *= emb_scale;
  }
}

void Gemma3::run_layers(float* x, int64_t N, const int32_t* pos, const AttendFn& attend, ops::Precision precision) {
  const int64_t C = cfg_.hidden_size, H = cfg_.num_attention_heads, G = cfg_.num_key_value_heads;
  const int64_t D = cfg_.head_dim, F = cfg_.intermediate_size;
  const float eps = static_cast<float>(cfg_.rms_norm_eps);
  // The activation arena for one layer, reused by every layer.
  std::vector<float> a(N * C), q(N * H * D), k(N * G * D), v(N * G * D), att(N * H * D), o(N * C), gate(N * F),
      up(N * F);
  for (int64_t l = 0; l < cfg_.num_hidden_layers; ++l) {
    const Gemma3LayerWeights& lw = w_.layers[l];
    auto proj = [&](int p, float* out, const float* in, const WeightMatrix& w) {
      ops::linear(out, in, w, N, false, precision);
      if (hook_) hook_(l, p, in, out, N);
    };
    ops::rmsnorm(a.data(), nullptr, x, lw.attn_norm, N, C, eps);
    ops::linear_multi({{q.data(), &lw.q}, {k.data(), &lw.k}, {v.data(), &lw.v}}, a.data(), N, precision);
    if (hook_) {
      hook_(l, 0, a.data(), q.data(), N);
      hook_(l, 1, a.data(), k.data(), N);
      hook_(l, 2, a.data(), v.data(), N);
    }
    ops::rmsnorm(q.data(), nullptr, q.data(), lw.q_norm, N * H, D, eps);
    ops::rmsnorm(k.data(), nullptr, k.data(), lw.k_norm, N * G, D, eps);
    const float* inv = cfg_.is_sliding(l) ? inv_freq_local_.data() : inv_freq_global_.data();
    ops::rope_neox(q.data(), pos, inv, N, H, D);
    ops::rope_neox(k.data(), pos, inv, N, G, D);
    attend(l, q.data(), k.data(), v.data(), att.data());
    proj(3, o.data(), att.data(), lw.o);
    ops::rmsnorm(o.data(), nullptr, o.data(), lw.post_attn_norm, N, C, eps);
    for (int64_t i = 0; i < N * C; ++i) x[i] += o[i];

    ops::rmsnorm(a.data(), nullptr, x, lw.ffn_norm, N, C, eps);
    ops::linear_multi({{gate.data(), &lw.gate}, {up.data(), &lw.up}}, a.data(), N, precision);
    if (hook_) {
      hook_(l, 4, a.data(), gate.data(), N);
      hook_(l, 5, a.data(), up.data(), N);
    }
    ops::geglu(gate.data(), gate.data(), up.data(), N * F);
    proj(6, o.data(), gate.data(), lw.down);
    ops::rmsnorm(o.data(), nullptr, o.data(), lw.post_ffn_norm, N, C, eps);
    for (int64_t i = 0; i < N * C; ++i) x[i] += o[i];
  }
}

std::vector<float> Gemma3::forward(std::span<const int32_t> ids, std::span<const int64_t> lengths, int64_t B,
                                   int64_t T, float* logits) {
  const int64_t C = cfg_.hidden_size, H = cfg_.num_attention_heads, G = cfg_.num_key_value_heads;
  const int64_t D = cfg_.head_dim, N = B * T;
  SCITUNE_CHECK(static_cast<int64_t>(ids.size()) == N && static_cast<int64_t>(lengths.size()) == B, "ids/lengths");
  std::vector<float> x(N * C);
  embed(x.data(), ids);
  std::vector<int32_t> pos(N);
  for (int64_t n = 0; n < N; ++n) pos[n] = static_cast<int32_t>(n % T);
  const float scale = 1.0f / std::sqrt(static_cast<float>(cfg_.query_pre_attn_scalar));
  const float softcap = static_cast<float>(cfg_.attn_logit_softcapping);
  run_layers(x.data(), N, pos.data(), [&](int64_t l, const float* q, const float* k, const float* v, float* att) {
    const int64_t window = cfg_.is_sliding(l) ? cfg_.sliding_window : 0;
    for (int64_t b = 0; b < B; ++b)
      ops::attention(att + b * T * H * D, nullptr, q + b * T * H * D, k + b * T * G * D, v + b * T * G * D, T, H, G,
                     D, scale, window, lengths[b], softcap);
  });
  ops::rmsnorm(x.data(), nullptr, x.data(), w_.final_norm, N, C, static_cast<float>(cfg_.rms_norm_eps));
  if (logits) lm_head(logits, x.data(), N);
  return x;
}

KvCache Gemma3::new_cache(int64_t max_len) const {
  const int64_t G = cfg_.num_key_value_heads, D = cfg_.head_dim;
  KvCache c;
  c.max_len = std::min(max_len, cfg_.max_position_embeddings);
  for (int64_t l = 0; l < cfg_.num_hidden_layers; ++l) {
    // A ring of window + chunk - 1 keeps every key that a query of the current chunk can see.
    const int64_t cap = cfg_.is_sliding(l) ? std::min(c.max_len, cfg_.sliding_window + kChunk - 1) : c.max_len;
    c.cap.push_back(cap);
    c.k.emplace_back(static_cast<size_t>(cap * G * D));
    c.v.emplace_back(static_cast<size_t>(cap * G * D));
  }
  return c;
}

std::vector<float> Gemma3::forward_cached(std::span<const int32_t> ids, KvCache& cache) {
  const int64_t C = cfg_.hidden_size, H = cfg_.num_attention_heads, G = cfg_.num_key_value_heads;
  const int64_t D = cfg_.head_dim, total = static_cast<int64_t>(ids.size());
  if (total == 0) fail("generate: no tokens to process");
  if (cache.pos + total > cache.max_len)
    fail("prompt and reply need " + std::to_string(cache.pos + total) + " positions but the context holds " +
         std::to_string(cache.max_len));
  const float scale = 1.0f / std::sqrt(static_cast<float>(cfg_.query_pre_attn_scalar));
  const float softcap = static_cast<float>(cfg_.attn_logit_softcapping);
  std::vector<float> last(C);
  for (int64_t start = 0; start < total; start += kChunk) {
    const int64_t n = std::min(kChunk, total - start), pos0 = cache.pos;
    std::vector<float> x(n * C);
    embed(x.data(), ids.subspan(start, n));
    std::vector<int32_t> pos(n);
    for (int64_t i = 0; i < n; ++i) pos[i] = static_cast<int32_t>(pos0 + i);
    run_layers(x.data(), n, pos.data(), [&](int64_t l, const float* q, const float* k, const float* v, float* att) {
      const int64_t cap = cache.cap[l], row = G * D;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t slot = (pos0 + i) % cap;
        std::copy(k + i * row, k + (i + 1) * row, cache.k[l].begin() + slot * row);
        std::copy(v + i * row, v + (i + 1) * row, cache.v[l].begin() + slot * row);
      }
      ops::attention_cached(att, q, cache.k[l].data(), cache.v[l].data(), cap, pos0, n, H, G, D, scale,
                            cfg_.is_sliding(l) ? cfg_.sliding_window : 0, softcap);
    }, ops::Precision::kQ8);
    cache.pos += n;
    ops::rmsnorm(last.data(), nullptr, x.data() + (n - 1) * C, w_.final_norm, 1, C,
                 static_cast<float>(cfg_.rms_norm_eps));
  }
  return last;
}

std::vector<float> Gemma3::forward_cached_batch(std::span<const int32_t> ids, std::span<KvCache* const> caches) {
  const int64_t C = cfg_.hidden_size, H = cfg_.num_attention_heads, G = cfg_.num_key_value_heads;
  const int64_t D = cfg_.head_dim, n = static_cast<int64_t>(ids.size());
  SCITUNE_CHECK(caches.size() == ids.size() && n > 0, "forward_cached_batch: one cache per id");
  for (const KvCache* c : caches)
    if (c->pos + 1 > c->max_len)
      fail("a reply needs " + std::to_string(c->pos + 1) + " positions but the context holds " +
           std::to_string(c->max_len));
  const float scale = 1.0f / std::sqrt(static_cast<float>(cfg_.query_pre_attn_scalar));
  const float softcap = static_cast<float>(cfg_.attn_logit_softcapping);
  std::vector<float> x(n * C);
  embed(x.data(), ids);
  std::vector<int32_t> pos(n);
  for (int64_t i = 0; i < n; ++i) pos[i] = static_cast<int32_t>(caches[i]->pos);
  run_layers(x.data(), n, pos.data(), [&](int64_t l, const float* q, const float* k, const float* v, float* att) {
    const int64_t row = G * D;
    for (int64_t i = 0; i < n; ++i) {  // each row attends to its own sequence
      KvCache& cache = *caches[i];
      const int64_t cap = cache.cap[l], slot = cache.pos % cap;
      std::copy(k + i * row, k + (i + 1) * row, cache.k[l].begin() + slot * row);
      std::copy(v + i * row, v + (i + 1) * row, cache.v[l].begin() + slot * row);
      ops::attention_cached(att + i * H * D, q + i * H * D, cache.k[l].data(), cache.v[l].data(), cap, cache.pos, 1,
                            H, G, D, scale, cfg_.is_sliding(l) ? cfg_.sliding_window : 0, softcap);
    }
  }, ops::Precision::kQ8);
  for (KvCache* c : caches) ++c->pos;
  ops::rmsnorm(x.data(), nullptr, x.data(), w_.final_norm, n, C, static_cast<float>(cfg_.rms_norm_eps));
  return x;
}

void Gemma3::lm_head(float* out, const float* hidden, int64_t n) const {
  const int64_t V = cfg_.vocab_size;
  ops::linear(out, hidden, w_.embed, n);
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
