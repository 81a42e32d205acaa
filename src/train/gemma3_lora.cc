#include "train/gemma3_lora.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/lm_head_loss.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/ops_backward.h"
#include "train/lora_ops.h"
#include "util/error.h"
#include "util/phase_profile.h"
#include "util/splitmix.h"

namespace scitune {

// Everything one layer's backward reads, [N = B*T rows]. u[p] are the LoRA intermediates drop(x) · Aᵀ.
struct Gemma3Lora::LayerActs {
  std::vector<float> x0, rstd1, a, q_raw, k_raw, rstd_q, rstd_k, q, k, v, probs, att, o_raw, rstd_o, x1, rstd_f, b,
      gate, up, h, d_raw, rstd_d;
  std::vector<float> u[kNumProj];
  uint64_t bytes() const {
    uint64_t n = 0;
    for (const auto* v : {&x0, &rstd1, &a, &q_raw, &k_raw, &rstd_q, &rstd_k, &q, &k, &v, &probs, &att, &o_raw, &rstd_o,
                          &x1, &rstd_f, &b, &gate, &up, &h, &d_raw, &rstd_d})
      n += v->size();
    for (const auto& x : u) n += x.size();
    return n * sizeof(float);
  }
};

namespace {

// Backward scratch, shared by all layers: d of the residual stream goes in and out through the caller's dx.
struct Grads {
  std::vector<float> dd, tmp, dh, db, datt, dq, dk, dv, da;  // d gate / d up overwrite the layer's gate / up
};
thread_local Grads g_grads;

// The same mask in forward, checkpoint recomputation and backward: a function of (seed, step, layer, module).
lora::Dropout dropout(double p, const TrainOptions& o, uint64_t step, int64_t layer, Proj proj) {
  return {static_cast<float>(p),
          splitmix64(o.dropout_seed ^ splitmix64(step * 1000003 + static_cast<uint64_t>(layer) * 16 + static_cast<int>(proj)))};
}

const WeightMatrix& base_weight(const Gemma3LayerWeights& w, Proj p) {
  switch (p) {
    case Proj::kQ: return w.q;
    case Proj::kK: return w.k;
    case Proj::kV: return w.v;
    case Proj::kO: return w.o;
    case Proj::kGate: return w.gate;
    case Proj::kUp: return w.up;
    case Proj::kDown: return w.down;
  }
  return w.q;
}

void resize(std::vector<float>& v, int64_t n) { v.assign(static_cast<size_t>(n), 0.0f); }

// Attention probabilities of one layer up to this size are saved by the forward (270M/1B at seq 512: 4 MiB).
constexpr int64_t kKeepProbsBytes = int64_t{32} << 20;

}  // namespace

Gemma3Lora::Gemma3Lora(const ModelConfig& config, const Gemma3Weights& base, LoraAdapter* adapter)
    : cfg_(config), w_(base), adapter_(adapter) {
  const int64_t D = cfg_.head_dim;
  inv_local_.resize(D / 2);
  inv_global_.resize(D / 2);
  ops::rope_inv_freq(inv_local_.data(), D, cfg_.rope_local_base_freq, 1.0);
  ops::rope_inv_freq(inv_global_.data(), D, cfg_.rope_theta, cfg_.rope_scaling_factor);
}

Gemma3Lora::~Gemma3Lora() = default;

void Gemma3Lora::plan(int64_t B, int64_t T, bool checkpoint) {
  if (B == B_ && T == T_ && checkpoint == ckpt_ && !acts_.empty()) return;
  B_ = B;
  T_ = T;
  ckpt_ = checkpoint;
  const int64_t N = B * T, C = cfg_.hidden_size, H = cfg_.num_attention_heads, G = cfg_.num_key_value_heads;
  const int64_t D = cfg_.head_dim, F = cfg_.intermediate_size, L = cfg_.num_hidden_layers;
  acts_.clear();
  acts_.resize(static_cast<size_t>(checkpoint ? 1 : L));
  for (LayerActs& a : acts_) {
    for (auto* v : {&a.x0, &a.a, &a.o_raw, &a.x1, &a.b, &a.d_raw}) resize(*v, N * C);
    for (auto* v : {&a.rstd1, &a.rstd_o, &a.rstd_f, &a.rstd_d}) resize(*v, N);
    for (auto* v : {&a.q_raw, &a.q, &a.att}) resize(*v, N * H * D);
    for (auto* v : {&a.k_raw, &a.k, &a.v}) resize(*v, N * G * D);
    resize(a.rstd_q, N * H);
    resize(a.rstd_k, N * G);
    // Probabilities are kept for backward while small; beyond that backward recomputes them block by block.
    resize(a.probs, B * H * T * T * static_cast<int64_t>(sizeof(float)) <= kKeepProbsBytes ? B * H * T * T : 0);
    for (auto* v : {&a.gate, &a.up, &a.h}) resize(*v, N * F);
    for (auto& u : a.u) u.clear();
  }
  if (adapter_)
    for (const LoraModule& m : adapter_->modules())
      for (LayerActs& a : acts_) a.u[static_cast<int>(m.proj)].assign(static_cast<size_t>(N * std::max<int64_t>(m.r, 1)), 0.0f);
  layer_inputs_.assign(checkpoint ? static_cast<size_t>(L) : 0, std::vector<float>(static_cast<size_t>(N * C)));
  resize(x_, N * C);
  resize(hidden_, N * C);
  resize(final_rstd_, N);
  pos_.resize(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) pos_[n] = static_cast<int32_t>(n % T);
  Grads& g = g_grads;
  for (auto* v : {&g.dd, &g.tmp, &g.db, &g.da}) resize(*v, N * C);
  resize(g.dh, N * F);
  for (auto* v : {&g.datt, &g.dq}) resize(*v, N * H * D);
  for (auto* v : {&g.dk, &g.dv}) resize(*v, N * G * D);
}

uint64_t Gemma3Lora::activation_bytes() const {
  uint64_t n = 0;
  for (const LayerActs& a : acts_) n += a.bytes();
  for (const auto& x : layer_inputs_) n += x.size() * sizeof(float);
  return n + (x_.size() + hidden_.size()) * sizeof(float);
}

Gemma3Lora::LayerActs& Gemma3Lora::acts_for(int64_t l) { return acts_[ckpt_ ? 0 : static_cast<size_t>(l)]; }

void Gemma3Lora::embed(const int32_t* ids, float* x) const {
  const int64_t C = cfg_.hidden_size, V = cfg_.vocab_size, N = B_ * T_;
  const float s = std::sqrt(static_cast<float>(C));
  for (int64_t n = 0; n < N; ++n) {
    if (ids[n] < 0 || ids[n] >= V)
      fail("input_ids: token id " + std::to_string(ids[n]) + " is outside the vocabulary [0, " + std::to_string(V) + ")");
    ops::weight_row(x + n * C, w_.embed, ids[n]);
    for (int64_t c = 0; c < C; ++c) x[n * C + c] *= s;
  }
}

void Gemma3Lora::layer_forward(int64_t l, float* x, LayerActs& a, const TrainOptions& o, uint64_t step) {
  const int64_t N = B_ * T_, T = T_, C = cfg_.hidden_size, H = cfg_.num_attention_heads;
  const int64_t G = cfg_.num_key_value_heads, D = cfg_.head_dim, F = cfg_.intermediate_size;
  const float eps = static_cast<float>(cfg_.rms_norm_eps);
  const Gemma3LayerWeights& lw = w_.layers[static_cast<size_t>(l)];
  const double p_drop = (adapter_ && o.training) ? adapter_->config().dropout : 0.0;
  auto proj = [&](Proj p, const float* in, float* out) {
    {
      profile::Scope ps("fwd.linear");
      ops::linear(out, in, base_weight(lw, p), N, false, o.bf16 ? ops::Precision::kBf16 : ops::Precision::kF32);
    }
    if (const LoraModule* m = adapter_ ? adapter_->find(l, p) : nullptr) {
      profile::Scope pl("fwd.lora");
      lora::forward(out, a.u[static_cast<int>(p)].data(), in, *m, N, dropout(p_drop, o, step, l, p));
    }
  };
  std::copy(x, x + N * C, a.x0.begin());
  ops::rmsnorm(a.a.data(), a.rstd1.data(), x, lw.attn_norm, N, C, eps);
  proj(Proj::kQ, a.a.data(), a.q_raw.data());
  proj(Proj::kK, a.a.data(), a.k_raw.data());
  proj(Proj::kV, a.a.data(), a.v.data());
  ops::rmsnorm(a.q.data(), a.rstd_q.data(), a.q_raw.data(), lw.q_norm, N * H, D, eps);
  ops::rmsnorm(a.k.data(), a.rstd_k.data(), a.k_raw.data(), lw.k_norm, N * G, D, eps);
  const float* inv = cfg_.is_sliding(l) ? inv_local_.data() : inv_global_.data();
  ops::rope_neox(a.q.data(), pos_.data(), inv, N, H, D);
  ops::rope_neox(a.k.data(), pos_.data(), inv, N, G, D);
  const float scale = 1.0f / std::sqrt(static_cast<float>(cfg_.query_pre_attn_scalar));
  const int64_t window = cfg_.is_sliding(l) ? cfg_.sliding_window : 0;
  const float softcap = static_cast<float>(cfg_.attn_logit_softcapping);
  {
    profile::Scope ps("fwd.attention");
    for (int64_t b = 0; b < B_; ++b)
      ops::attention(a.att.data() + b * T * H * D, a.probs.empty() ? nullptr : a.probs.data() + b * H * T * T,
                     a.q.data() + b * T * H * D,
                     a.k.data() + b * T * G * D, a.v.data() + b * T * G * D, T, H, G, D, scale, window, lengths_[b],
                     softcap);
  }
  proj(Proj::kO, a.att.data(), a.o_raw.data());
  std::vector<float>& tmp = g_grads.tmp;
  ops::rmsnorm(tmp.data(), a.rstd_o.data(), a.o_raw.data(), lw.post_attn_norm, N, C, eps);
  for (int64_t i = 0; i < N * C; ++i) x[i] += tmp[i];
  std::copy(x, x + N * C, a.x1.begin());
  ops::rmsnorm(a.b.data(), a.rstd_f.data(), x, lw.ffn_norm, N, C, eps);
  proj(Proj::kGate, a.b.data(), a.gate.data());
  proj(Proj::kUp, a.b.data(), a.up.data());
  ops::geglu(a.h.data(), a.gate.data(), a.up.data(), N * F);
  proj(Proj::kDown, a.h.data(), a.d_raw.data());
  ops::rmsnorm(tmp.data(), a.rstd_d.data(), a.d_raw.data(), lw.post_ffn_norm, N, C, eps);
  for (int64_t i = 0; i < N * C; ++i) x[i] += tmp[i];
}

void Gemma3Lora::layer_backward(int64_t l, float* dx, LayerActs& a, const TrainOptions& o, uint64_t step) {
  const int64_t N = B_ * T_, T = T_, C = cfg_.hidden_size, H = cfg_.num_attention_heads;
  const int64_t G = cfg_.num_key_value_heads, D = cfg_.head_dim, F = cfg_.intermediate_size;
  const Gemma3LayerWeights& lw = w_.layers[static_cast<size_t>(l)];
  Grads& g = g_grads;
  const double p_drop = (adapter_ && o.training) ? adapter_->config().dropout : 0.0;
  // d(in) (+)= dy · W, plus the LoRA path; accumulates the adapter's gradients.
  auto back_proj = [&](Proj p, const float* dy, const float* in, float* din, bool accumulate) {
    {
      profile::Scope ps("bwd.linear");
      ops::linear_backward_input(din, dy, base_weight(lw, p), N, accumulate,
                                 o.bf16 ? ops::Precision::kBf16 : ops::Precision::kF32);
    }
    if (LoraModule* m = adapter_ ? adapter_->find(l, p) : nullptr) {
      profile::Scope pl("bwd.lora");
      lora::backward(din, dy, in, a.u[static_cast<int>(p)].data(), *m, N, dropout(p_drop, o, step, l, p));
    }
  };
  // FFN block: x2 = x1 + norm_post_ffn(down(geglu(gate(b), up(b)))), b = norm_ffn(x1).
  ops::rmsnorm_backward(g.dd.data(), nullptr, dx, a.d_raw.data(), a.rstd_d.data(), lw.post_ffn_norm, N, C);
  back_proj(Proj::kDown, g.dd.data(), a.h.data(), g.dh.data(), false);
  // In place: gate and up are not needed once their gradients exist (the LoRA paths read b and u).
  ops::geglu_backward(a.gate.data(), a.up.data(), g.dh.data(), a.gate.data(), a.up.data(), N * F);
  back_proj(Proj::kGate, a.gate.data(), a.b.data(), g.db.data(), false);
  back_proj(Proj::kUp, a.up.data(), a.b.data(), g.db.data(), true);
  ops::rmsnorm_backward(g.tmp.data(), nullptr, g.db.data(), a.x1.data(), a.rstd_f.data(), lw.ffn_norm, N, C);
  for (int64_t i = 0; i < N * C; ++i) dx[i] += g.tmp[i];  // dx is now d x1
  // Attention block: x1 = x0 + norm_post_attn(o(attn(rope(norm_q(q(a))), rope(norm_k(k(a))), v(a)))).
  ops::rmsnorm_backward(g.dd.data(), nullptr, dx, a.o_raw.data(), a.rstd_o.data(), lw.post_attn_norm, N, C);
  back_proj(Proj::kO, g.dd.data(), a.att.data(), g.datt.data(), false);
  const float scale = 1.0f / std::sqrt(static_cast<float>(cfg_.query_pre_attn_scalar));
  const int64_t window = cfg_.is_sliding(l) ? cfg_.sliding_window : 0;
  const float softcap = static_cast<float>(cfg_.attn_logit_softcapping);
  {
    profile::Scope ps("bwd.attention");
    for (int64_t b = 0; b < B_; ++b)
      ops::attention_backward(g.dq.data() + b * T * H * D, g.dk.data() + b * T * G * D, g.dv.data() + b * T * G * D,
                              g.datt.data() + b * T * H * D, a.probs.empty() ? nullptr : a.probs.data() + b * H * T * T,
                              a.q.data() + b * T * H * D,
                              a.k.data() + b * T * G * D, a.v.data() + b * T * G * D, T, H, G, D, scale, window,
                              lengths_[b], softcap);
  }
  const float* inv = cfg_.is_sliding(l) ? inv_local_.data() : inv_global_.data();
  ops::rope_neox_backward(g.dq.data(), pos_.data(), inv, N, H, D);
  ops::rope_neox_backward(g.dk.data(), pos_.data(), inv, N, G, D);
  ops::rmsnorm_backward(g.dq.data(), nullptr, g.dq.data(), a.q_raw.data(), a.rstd_q.data(), lw.q_norm, N * H, D);
  ops::rmsnorm_backward(g.dk.data(), nullptr, g.dk.data(), a.k_raw.data(), a.rstd_k.data(), lw.k_norm, N * G, D);
  back_proj(Proj::kQ, g.dq.data(), a.a.data(), g.da.data(), false);
  back_proj(Proj::kK, g.dk.data(), a.a.data(), g.da.data(), true);
  back_proj(Proj::kV, g.dv.data(), a.a.data(), g.da.data(), true);
  ops::rmsnorm_backward(g.tmp.data(), nullptr, g.da.data(), a.x0.data(), a.rstd1.data(), lw.attn_norm, N, C);
  for (int64_t i = 0; i < N * C; ++i) dx[i] += g.tmp[i];  // dx is now d x0
}

LossResult Gemma3Lora::step(std::span<const int32_t> ids, std::span<const int64_t> lengths,
                            std::span<const int64_t> labels, int64_t B, int64_t T, float grad_scale, bool backward,
                            const TrainOptions& options, uint64_t step) {
  const int64_t N = B * T, C = cfg_.hidden_size, V = cfg_.vocab_size, L = cfg_.num_hidden_layers;
  SCITUNE_CHECK(static_cast<int64_t>(ids.size()) == N && static_cast<int64_t>(labels.size()) == N &&
                    static_cast<int64_t>(lengths.size()) == B,
                "step: ids/labels/lengths sizes");
  profile::Scope pstep("step (total)");
  plan(B, T, options.checkpoint);
  single_threaded_blas(options.bf16 && ops::bf16_gemm_available());
  lengths_.assign(lengths.begin(), lengths.end());
  embed(ids.data(), x_.data());
  for (int64_t l = 0; l < L; ++l) {
    if (ckpt_) std::copy(x_.begin(), x_.end(), layer_inputs_[static_cast<size_t>(l)].begin());
    layer_forward(l, x_.data(), acts_for(l), options, step);
  }
  const float eps = static_cast<float>(cfg_.rms_norm_eps);
  ops::rmsnorm(hidden_.data(), final_rstd_.data(), x_.data(), w_.final_norm, N, C, eps);
  std::vector<int32_t> targets(static_cast<size_t>(N), static_cast<int32_t>(ops::kLmHeadIgnore));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t + 1 < T; ++t) {
      const int64_t y = labels[b * T + t + 1];
      if (y == ops::kLmHeadIgnore) continue;
      if (y < 0 || y >= V) fail("labels: " + std::to_string(y) + " is outside [0, vocab) and not -100");
      targets[b * T + t] = static_cast<int32_t>(y);
    }
  std::vector<float> dh(backward ? static_cast<size_t>(N * C) : 0);
  LossResult r;
  {
    profile::Scope plm("lm_head_ce");
    r.loss_sum = ops::lm_head_ce_forward_backward(backward ? dh.data() : nullptr, hidden_.data(), w_.embed,
                                                  targets.data(), N,
                                                  static_cast<float>(cfg_.final_logit_softcapping), grad_scale, &r.count,
                                                  options.bf16);
  }
  if (!backward) return r;
  std::vector<float> dx(static_cast<size_t>(N * C));
  ops::rmsnorm_backward(dx.data(), nullptr, dh.data(), x_.data(), final_rstd_.data(), w_.final_norm, N, C);
  for (int64_t l = L - 1; l >= 0; --l) {
    if (ckpt_ && l < L - 1) {  // the last layer's activations are still there from the forward
      std::vector<float> x(layer_inputs_[static_cast<size_t>(l)]);
      layer_forward(l, x.data(), acts_[0], options, step);
    }
    layer_backward(l, dx.data(), acts_for(l), options, step);
  }
  return r;
}

void Gemma3Lora::logits(std::span<const int32_t> ids, std::span<const int64_t> lengths, int64_t B, int64_t T,
                        float* out) {
  const int64_t N = B * T, C = cfg_.hidden_size;
  plan(B, T, /*checkpoint=*/true);
  lengths_.assign(lengths.begin(), lengths.end());
  embed(ids.data(), x_.data());
  TrainOptions eval;
  eval.training = false;
  for (int64_t l = 0; l < cfg_.num_hidden_layers; ++l) layer_forward(l, x_.data(), acts_[0], eval, 0);
  ops::rmsnorm(hidden_.data(), nullptr, x_.data(), w_.final_norm, N, C, static_cast<float>(cfg_.rms_norm_eps));
  ops::linear(out, hidden_.data(), w_.embed, N);
  if (cfg_.final_logit_softcapping > 0)
    ops::softcap(out, N * cfg_.vocab_size, static_cast<float>(cfg_.final_logit_softcapping));
}

}  // namespace scitune
