#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

#include "io/json_limits.h"
#include "io/safetensors.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace scitune {

namespace fs = std::filesystem;

double peak_memory_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return 0;
}

Trainer::Trainer(const TrainConfig& config, Gemma3Lora& net, LoraAdapter& adapter,
                 const std::vector<TokenizedExample>& train, const std::vector<TokenizedExample>& validation)
    : cfg_(config),
      net_(net),
      adapter_(adapter),
      train_(train),
      val_(validation),
      opt_(make_optimizer(config.optim, adapter,
                          {config.adam_beta1, config.adam_beta2, config.adam_epsilon, config.weight_decay})),
      schedule_(parse_lr_schedule(config.lr_scheduler_type)) {
  if (train_.empty()) fail("training data is empty");
  const int64_t n = static_cast<int64_t>(train_.size()), B = cfg_.per_device_train_batch_size;
  micro_per_epoch_ = (n + B - 1) / B;
  steps_per_epoch_ = (micro_per_epoch_ + cfg_.gradient_accumulation_steps - 1) / cfg_.gradient_accumulation_steps;
  total_steps_ = cfg_.max_steps > 0 ? cfg_.max_steps
                                    : static_cast<int64_t>(std::ceil(cfg_.num_train_epochs * steps_per_epoch_));
  warmup_ = cfg_.warmup_for(total_steps_);
}

void Trainer::ensure_order() {
  if (order_epoch_ == state_.epoch) return;
  order_.resize(train_.size());
  std::iota(order_.begin(), order_.end(), 0);
  if (cfg_.shuffle) {
    std::mt19937_64 rng(static_cast<uint64_t>(cfg_.seed) * 1000003u + static_cast<uint64_t>(state_.epoch));
    std::shuffle(order_.begin(), order_.end(), rng);
  }
  order_epoch_ = state_.epoch;
}

Trainer::MicroResult Trainer::run_micro(const std::vector<const TokenizedExample*>& batch, double grad_scale,
                                        bool backward) {
  const int64_t B = static_cast<int64_t>(batch.size());
  int64_t T = 0;
  for (const TokenizedExample* e : batch) T = std::max<int64_t>(T, static_cast<int64_t>(e->input_ids.size()));
  const int32_t pad = static_cast<int32_t>(net_.config().pad_token_id.value_or(0));
  std::vector<int32_t> ids(static_cast<size_t>(B * T), pad);
  std::vector<int64_t> labels(static_cast<size_t>(B * T), kIgnoreLabel), lengths(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const TokenizedExample& e = *batch[b];
    std::copy(e.input_ids.begin(), e.input_ids.end(), ids.begin() + b * T);
    std::copy(e.labels.begin(), e.labels.end(), labels.begin() + b * T);
    lengths[b] = static_cast<int64_t>(e.input_ids.size());
  }
  TrainOptions opt;
  opt.checkpoint = cfg_.gradient_checkpointing;
  opt.dropout_seed = static_cast<uint64_t>(cfg_.seed);
  opt.training = backward;
  opt.bf16 = cfg_.bf16;
  const uint64_t salt = static_cast<uint64_t>(state_.global_step) * 4096 + static_cast<uint64_t>(state_.batch_in_epoch);
  const LossResult r = net_.step(ids, lengths, labels, B, T, static_cast<float>(grad_scale), backward, opt, salt);
  MicroResult m;
  m.loss_sum = r.loss_sum;
  for (int64_t l : lengths) m.tokens += l;
  return m;
}

StepLog Trainer::train_step() {
  const auto t0 = std::chrono::steady_clock::now();
  ensure_order();
  const int64_t n = static_cast<int64_t>(train_.size()), B = cfg_.per_device_train_batch_size;
  // The micro-batches of this optimizer step: up to gradient_accumulation_steps, never across an epoch end.
  std::vector<std::vector<const TokenizedExample*>> micro;
  for (int64_t i = 0; i < cfg_.gradient_accumulation_steps && state_.batch_in_epoch + i < micro_per_epoch_; ++i) {
    std::vector<const TokenizedExample*> batch;
    const int64_t b0 = (state_.batch_in_epoch + i) * B;
    for (int64_t j = b0; j < std::min(n, b0 + B); ++j) batch.push_back(&train_[static_cast<size_t>(order_[j])]);
    micro.push_back(std::move(batch));
  }
  // HF's num_items_in_batch: labels != -100 over all micro-batches of the step, over labels[1:] (the labels the
  // causal loss predicts; transformers counts them so since huggingface/transformers#46204, before it over all).
  int64_t items = 0;
  for (const auto& batch : micro)
    for (const TokenizedExample* e : batch)
      for (size_t t = 1; t < e->labels.size(); ++t) items += e->labels[t] != kIgnoreLabel;
  if (items == 0) fail("optimizer step " + std::to_string(state_.global_step + 1) + " has no trained tokens");
  adapter_.zero_grad();
  double loss_sum = 0;
  int64_t tokens = 0;
  for (const auto& batch : micro) {
    const MicroResult r = run_micro(batch, 1.0 / static_cast<double>(items), true);
    loss_sum += r.loss_sum;
    tokens += r.tokens;
    ++state_.batch_in_epoch;
  }
  const double loss = loss_sum / static_cast<double>(items);
  if (!std::isfinite(loss))
    fail("loss is " + std::to_string(loss) + " at step " + std::to_string(state_.global_step + 1) +
         "; stopping (the last checkpoint holds the last good state; try a lower learning_rate)");
  StepLog log;
  log.grad_norm = clip_grad_norm(adapter_, cfg_.max_grad_norm);
  if (log.grad_norm == 0.0)  // a fused path that drops the gradient would "train" on nothing (pitfalls.md)
    fail("step " + std::to_string(state_.global_step + 1) +
         ": the adapter's gradient is exactly zero, so nothing would be learned (do target_modules select any "
         "projection the loss depends on?)");
  if (!std::isfinite(log.grad_norm))
    fail("gradient norm is " + std::to_string(log.grad_norm) + " at step " + std::to_string(state_.global_step + 1) +
         "; stopping (the last checkpoint holds the last good state; try a lower learning_rate)");
  log.learning_rate = cfg_.learning_rate * lr_multiplier(schedule_, state_.global_step, warmup_, total_steps_);
  opt_->step(adapter_, log.learning_rate);
  ++state_.global_step;
  if (state_.batch_in_epoch >= micro_per_epoch_) {
    ++state_.epoch;
    state_.batch_in_epoch = 0;
  }
  log.step = state_.global_step;
  log.loss = loss;
  log.tokens = tokens;
  log.epoch = static_cast<double>(state_.epoch) +
              static_cast<double>(state_.batch_in_epoch) / static_cast<double>(micro_per_epoch_);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log.tokens_per_second = secs > 0 ? static_cast<double>(tokens) / secs : 0;
  log.peak_memory_mb = peak_memory_mb();
  return log;
}

EvalLog Trainer::evaluate() {
  EvalLog e;
  e.step = state_.global_step;
  double loss_sum = 0;
  int64_t count = 0;
  const size_t B = static_cast<size_t>(cfg_.per_device_eval_batch_size);
  for (size_t i = 0; i < val_.size(); i += B) {
    std::vector<const TokenizedExample*> batch;
    for (size_t j = i; j < std::min(val_.size(), i + B); ++j) batch.push_back(&val_[j]);
    loss_sum += run_micro(batch, 0.0, false).loss_sum;
    for (const TokenizedExample* x : batch)  // predicted labels: after the shift
      for (size_t t = 1; t < x->labels.size(); ++t) count += x->labels[t] != kIgnoreLabel;
  }
  e.eval_tokens = count;
  e.eval_loss = count ? loss_sum / static_cast<double>(count) : 0.0;
  e.eval_perplexity = std::exp(e.eval_loss);
  return e;
}

bool Trainer::record_eval(const EvalLog& e) {
  if (!state_.has_best || e.eval_loss < state_.best_eval_loss - cfg_.early_stopping_threshold) {
    state_.best_eval_loss = e.eval_loss;
    state_.has_best = true;
    state_.evals_without_improvement = 0;
    return false;
  }
  ++state_.evals_without_improvement;
  return cfg_.early_stopping_patience > 0 && state_.evals_without_improvement >= cfg_.early_stopping_patience;
}

std::string Trainer::save_checkpoint(const std::string& output_dir) {
  const fs::path final_dir = fs::path(output_dir) / ("checkpoint-" + std::to_string(state_.global_step));
  const fs::path tmp = fs::path(output_dir) / (".checkpoint-" + std::to_string(state_.global_step) + ".tmp");
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  adapter_.save(tmp);
  write_safetensors(tmp / "optimizer.safetensors", opt_->state_tensors(), {{"format", "pt"}, {"optim", opt_->name()}});
  nlohmann::json st = {{"global_step", state_.global_step},
                       {"epoch", state_.epoch},
                       {"batch_in_epoch", state_.batch_in_epoch},
                       {"optimizer_steps", opt_->steps_taken()},
                       {"has_best", state_.has_best},
                       {"best_eval_loss", state_.best_eval_loss},
                       {"evals_without_improvement", state_.evals_without_improvement},
                       {"total_steps", total_steps_},
                       {"seed", cfg_.seed}};
  write_file_atomic(tmp / "trainer_state.json", st.dump(2) + "\n");
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);  // the checkpoint appears whole or not at all
  if (cfg_.save_total_limit > 0) {
    std::vector<std::pair<int64_t, fs::path>> all;
    for (const auto& d : fs::directory_iterator(output_dir)) {
      const std::string name = d.path().filename().string();
      if (d.is_directory() && name.rfind("checkpoint-", 0) == 0) all.push_back({std::stoll(name.substr(11)), d.path()});
    }
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i + static_cast<size_t>(cfg_.save_total_limit) < all.size(); ++i) fs::remove_all(all[i].second);
  }
  return final_dir.string();
}

void Trainer::load_checkpoint(const std::string& dir) {
  const nlohmann::json st = read_json_file(fs::path(dir) / "trainer_state.json");
  const std::string src = dir + "/trainer_state.json";
  auto field = [&](const char* key) -> const nlohmann::json& {
    const nlohmann::json* v = json_find(st, key);
    if (!v) fail(src + ": missing \"" + key + "\"");
    return *v;
  };
  LoraAdapter saved = LoraAdapter::load(dir, net_.config());
  if (saved.modules().size() != adapter_.modules().size())
    fail(dir + ": the checkpoint's adapter has " + std::to_string(saved.modules().size()) + " modules, this run " +
         std::to_string(adapter_.modules().size()) + " (different LoRA settings?)");
  for (size_t i = 0; i < saved.modules().size(); ++i) {
    LoraModule& dst = adapter_.modules()[i];
    const LoraModule& s = saved.modules()[i];
    if (s.path != dst.path || s.r != dst.r) fail(dir + ": adapter module " + s.path + " does not match this run's " + dst.path);
    dst.A = s.A;
    dst.B = s.B;
  }
  SafetensorsFile f(fs::path(dir) / "optimizer.safetensors");
  const auto optim = f.metadata().find("optim");  // absent in checkpoints from before adamw_8bit: torch's AdamW
  const std::string saved_optim = optim == f.metadata().end() ? "adamw_torch" : optim->second;
  if (saved_optim != opt_->name())
    fail(dir + ": the checkpoint holds " + saved_optim + " optimizer state but this run uses optim " + cfg_.optim +
         " (resume with the optim it was trained with)");
  opt_->load_state(f);
  state_.global_step = json_int(field("global_step"), src + ": global_step");
  state_.epoch = json_int(field("epoch"), src + ": epoch");
  state_.batch_in_epoch = json_int(field("batch_in_epoch"), src + ": batch_in_epoch");
  state_.has_best = json_bool(field("has_best"), src + ": has_best");
  state_.best_eval_loss = json_number(field("best_eval_loss"), src + ": best_eval_loss");
  state_.evals_without_improvement = json_int(field("evals_without_improvement"), src + ": evals_without_improvement");
  opt_->set_steps_taken(json_int(field("optimizer_steps"), src + ": optimizer_steps"));
  order_epoch_ = -1;
}

nlohmann::ordered_json log_json(const StepLog& s) {
  return {{"step", s.step},
          {"epoch", s.epoch},
          {"loss", s.loss},
          {"learning_rate", s.learning_rate},
          {"grad_norm", s.grad_norm},
          {"tokens_per_second", s.tokens_per_second},
          {"peak_memory_mb", s.peak_memory_mb}};
}

nlohmann::ordered_json log_json(const EvalLog& e) {
  return {{"step", e.step}, {"eval_loss", e.eval_loss}, {"eval_perplexity", e.eval_perplexity}};
}

}  // namespace scitune
