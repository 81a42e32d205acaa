// The SFT training loop with HF Trainer semantics (spec: ../shared/spec/trainer_quant_facts.md §2-§4):
//  - an optimizer step = gradient_accumulation_steps micro-batches; its loss is the sum of token losses over all
//    of them divided by the number of labels != -100 in them after the shift (HF's num_items_in_batch, which
//    transformers counts over labels[..., 1:] since huggingface/transformers#46204);
//  - grad_norm is logged before clipping to max_grad_norm; AdamW as torch (or bitsandbytes' 8-bit AdamW for
//    optim adamw_8bit); the LambdaLR schedule where update k uses multiplier(k - 1);
//  - an epoch has ceil(micro-batches / accumulation) steps, the last one possibly shorter.
// Micro-batches are right-padded to their longest example (labels -100 on padding). Data order per epoch is a
// seeded shuffle (or file order), so a run is reproducible and resumable from its position.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/example.h"
#include "train/gemma3_lora.h"
#include "train/optimizer.h"
#include "train/train_config.h"

namespace scitune {

struct StepLog {
  int64_t step = 0;  // 1-based optimizer step
  double epoch = 0;
  double loss = 0, learning_rate = 0, grad_norm = 0, tokens_per_second = 0, peak_memory_mb = 0;
  int64_t tokens = 0;  // tokens (incl. prompts) processed in this step
};

struct EvalLog {
  int64_t step = 0;
  double eval_loss = 0, eval_perplexity = 0;
  int64_t eval_tokens = 0;
};

// One train_log.jsonl line, with the keys HF Trainer's log uses (train and demo write the same).
nlohmann::ordered_json log_json(const StepLog& s);
nlohmann::ordered_json log_json(const EvalLog& e);

struct TrainState {
  int64_t global_step = 0;
  int64_t epoch = 0;        // current epoch index
  int64_t batch_in_epoch = 0;  // next micro-batch index within the epoch
  double best_eval_loss = 0;
  bool has_best = false;
  int64_t evals_without_improvement = 0;
};

class Trainer {
 public:
  // net must have been built over adapter; both outlive the trainer.
  Trainer(const TrainConfig& config, Gemma3Lora& net, LoraAdapter& adapter, const std::vector<TokenizedExample>& train,
          const std::vector<TokenizedExample>& validation);

  int64_t total_steps() const { return total_steps_; }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  const TrainState& state() const { return state_; }
  Optimizer& optimizer() { return *opt_; }

  // One optimizer step (the next micro-batches in data order). Throws UserError on a non-finite loss.
  StepLog train_step();
  // Token-weighted mean loss over the validation set (dropout off).
  EvalLog evaluate();
  bool done() const { return state_.global_step >= total_steps_; }

  // Checkpoints: DIR/checkpoint-<step>/ with the adapter (PEFT files), optimizer moments and trainer_state.json,
  // written to a temporary folder and renamed into place (a crash leaves either the old or the new checkpoint).
  std::string save_checkpoint(const std::string& output_dir);
  void load_checkpoint(const std::string& dir);
  // Early stopping bookkeeping after an evaluation; returns true when training should stop.
  bool record_eval(const EvalLog& e);

 private:
  const TrainConfig& cfg_;
  Gemma3Lora& net_;
  LoraAdapter& adapter_;
  const std::vector<TokenizedExample>& train_;
  const std::vector<TokenizedExample>& val_;
  std::unique_ptr<Optimizer> opt_;
  LrSchedule schedule_;
  int64_t micro_per_epoch_ = 0, steps_per_epoch_ = 0, total_steps_ = 0, warmup_ = 0;
  TrainState state_;
  std::vector<int64_t> order_;  // example order of state_.epoch
  int64_t order_epoch_ = -1;

  void ensure_order();
  // Runs forward (+ backward) over examples idx, padded into one micro-batch. Returns loss sum and label counts.
  struct MicroResult {
    double loss_sum = 0;
    int64_t tokens = 0;
  };
  MicroResult run_micro(const std::vector<const TokenizedExample*>& batch, double grad_scale, bool backward);
};

double peak_memory_mb();  // VmHWM of this process

}  // namespace scitune
