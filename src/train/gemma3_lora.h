// Gemma 3 with LoRA adapters for training: an explicit forward that keeps what backward needs, and a hand-written
// backward through every op (llm.c style, no autodiff graph) producing gradients for the LoRA parameters only.
// The base weights stay frozen in whatever storage they were loaded in (fp32, bf16, ggml quants): the input
// gradient through a frozen W is dY · W from dequantised panels (kernels/cpu/linear.h), never a full copy.
//
// Memory: activations live in buffers sized once per (B, T) shape and reused every step. With checkpointing
// only each layer's input is kept; backward recomputes one layer at a time into a single layer's buffers.
// The loss is the fused chunked LM head + cross-entropy, so [B*T, V] logits never exist.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "model/gemma3.h"
#include "train/lora.h"

namespace scitune {

struct LossResult {
  double loss_sum = 0;  // sum over active positions of -log p(label)
  int64_t count = 0;    // active positions (labels != -100 after the shift)
  double mean() const { return count ? loss_sum / static_cast<double>(count) : 0.0; }
};

struct TrainOptions {
  bool checkpoint = false;   // recompute each layer's activations during backward
  uint64_t dropout_seed = 0; // mixed with the step, layer and module for LoRA dropout masks
  bool training = true;      // false: dropout off (evaluation)
  bool bf16 = false;         // big GEMMs (frozen projections, LM head) on bf16-rounded inputs, fp32 accumulation
};

class Gemma3Lora {
 public:
  // adapter may be null (plain model: loss and no gradients). Both must outlive this object.
  Gemma3Lora(const ModelConfig& config, const Gemma3Weights& base, LoraAdapter* adapter);
  ~Gemma3Lora();

  // One micro-batch: ids/labels [B, T] row-major, lengths[B] valid tokens (right padding). labels follow HF:
  // position t is scored against labels[b, t + 1]; -100 is ignored. When backward is true, adds
  // grad_scale * d(loss_sum)/d(param) into the adapter's dA/dB (pass 1/count for the mean loss).
  LossResult step(std::span<const int32_t> ids, std::span<const int64_t> lengths, std::span<const int64_t> labels,
                  int64_t B, int64_t T, float grad_scale, bool backward, const TrainOptions& options, uint64_t step = 0);

  // Logits [B*T, V] with the adapter applied (scoring; no saved activations beyond one layer).
  void logits(std::span<const int32_t> ids, std::span<const int64_t> lengths, int64_t B, int64_t T, float* out);

  // Bytes of activation buffers currently allocated (for --report-memory).
  uint64_t activation_bytes() const;
  const ModelConfig& config() const { return cfg_; }

 private:
  struct LayerActs;
  ModelConfig cfg_;
  const Gemma3Weights& w_;
  LoraAdapter* adapter_;
  std::vector<float> inv_local_, inv_global_;
  int64_t B_ = 0, T_ = 0;
  bool ckpt_ = false;
  std::vector<std::vector<float>> layer_inputs_;  // [L][N*C]
  std::vector<LayerActs> acts_;                   // L entries, or 1 when checkpointing
  std::vector<float> x_, hidden_, final_rstd_, scratch_;
  std::vector<int32_t> pos_;
  std::vector<int64_t> lengths_;

  void plan(int64_t B, int64_t T, bool checkpoint);
  void embed(const int32_t* ids, float* x) const;
  void layer_forward(int64_t l, float* x, LayerActs& a, const TrainOptions& o, uint64_t step);
  void layer_backward(int64_t l, float* dx, LayerActs& a, const TrainOptions& o, uint64_t step);
  LayerActs& acts_for(int64_t l);
};

}  // namespace scitune
