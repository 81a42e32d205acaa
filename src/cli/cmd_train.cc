// `scitune train`: supervised fine-tuning of a LoRA adapter (QLoRA when the base is quantised) with the
// semantics of TRL's SFTTrainer (see train/trainer.h). Settings come from --config cfg.yaml (TRL / PEFT key
// names) and the same keys as flags, flags winning. Data: dataset files (prepared on the fly, data/prepare.h)
// or a folder made by `scitune data prepare`.
// Output folder: train_config.yaml, train_log.jsonl (one JSON object per optimizer step and per evaluation),
// runs/events.out.tfevents.* (the same numbers for `tensorboard --logdir OUTPUT_DIR`, tags as HF Trainer's),
// checkpoint-<step>/ (adapter + optimizer + trainer state, atomic), best/ (lowest eval_loss), adapter/ (last).
// Ctrl-C finishes the current step, saves a checkpoint and exits; --resume continues from the newest one.
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <cblas.h>
#include <cstdlib>

#include "cli/commands.h"
#include "report/run_report.h"
#include "cli/model_session.h"
#include "data/example_cache.h"
#include "data/prepare.h"
#include "model/load.h"
#include "tokenizer/tokenizer.h"
#include "train/gemma3_lora.h"
#include "train/tb_event_writer.h"
#include "train/trainer.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

namespace fs = std::filesystem;

struct TrainArgs {
  std::string config;
  TrainConfig flags;               // values of the flags given
  std::vector<std::function<void(TrainConfig&)>> apply;  // one per flag given, in order
  std::vector<std::string> target_modules;
  bool resume = false, force = false;
};

// The newest checkpoint-<step> folder in dir, or empty.
std::string latest_checkpoint(const fs::path& dir) {
  int64_t best = -1;
  std::string path;
  if (!fs::is_directory(dir)) return path;
  for (const auto& d : fs::directory_iterator(dir)) {
    const std::string name = d.path().filename().string();
    if (!d.is_directory() || name.rfind("checkpoint-", 0) != 0) continue;
    try {
      const int64_t step = std::stoll(name.substr(11));
      if (step > best && fs::exists(d.path() / "trainer_state.json")) {
        best = step;
        path = d.path().string();
      }
    } catch (const std::exception&) {
    }
  }
  return path;
}

struct Data {
  std::vector<TokenizedExample> train, validation;
  std::string report_json;  // the data report (report.json of a prepared folder), for the run's report.html
};

Data load_data(const TrainConfig& c, const Tokenizer& tok) {
  if (c.data.empty()) fail("no training data: pass --data FILE (or a folder from `scitune data prepare`)");
  Data d;
  if (c.data.size() == 1 && fs::is_directory(c.data[0])) {
    const fs::path dir = c.data[0];
    if (!fs::exists(dir / "train.bin")) fail(dir.string() + ": no train.bin (expected a `scitune data prepare` folder)");
    d.train = ExampleCache(dir / "train.bin").examples();
    if (fs::exists(dir / "validation.bin")) d.validation = ExampleCache(dir / "validation.bin").examples();
    if (fs::exists(dir / "report.json")) d.report_json = to_json(read_data_report(dir)).dump(2) + "\n";
    std::printf("data: %zu training and %zu validation examples from %s\n", d.train.size(), d.validation.size(),
                dir.c_str());
  } else {
    DatasetSpec spec;
    const Layout layout = parse_layout(c.data_format);
    for (const std::string& s : c.data) spec.sources.push_back(parse_data_source(s, layout));
    spec.tokenize.max_seq_length = c.max_seq_length;
    spec.seed = static_cast<uint64_t>(c.seed);
    spec.val_ratio = c.validation_data.empty() ? c.validation_split : 0.0;
    spec.keep_order = !c.shuffle;  // --shuffle false: train in file order (the split stays seeded)
    PreparedDataset p = prepare_dataset(spec, tok);
    if (verbosity() > 0) std::fputs(format_report(p.report).c_str(), stdout);
    d.report_json = to_json(p.report).dump(2) + "\n";
    d.train = std::move(p.train);
    d.validation = std::move(p.validation);
  }
  if (!c.validation_data.empty()) {
    DatasetSpec spec;
    spec.sources.push_back(parse_data_source(c.validation_data, parse_layout(c.data_format)));
    spec.tokenize.max_seq_length = c.max_seq_length;
    d.validation = prepare_dataset(spec, tok).train;
  }
  for (const auto* set : {&d.train, &d.validation})
    for (const TokenizedExample& e : *set)
      for (int32_t id : e.input_ids)
        if (id < 0) fail(e.source + ": negative token id");
  return d;
}

void append_line(const fs::path& path, const nlohmann::ordered_json& j) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) fail(path.string() + ": cannot append (" + std::strerror(errno) + ")");
  const std::string s = j.dump() + "\n";
  std::fwrite(s.data(), 1, s.size(), f);
  std::fclose(f);
}

// On resume: keep only the log lines of steps the checkpoint covers (a killed run may have logged later steps
// that the resumed run will log again), rewritten atomically.
void truncate_log(const fs::path& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      if (j.value("step", int64_t{0}) <= step) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {  // a line cut by a crash
    }
  }
  write_file_atomic(path, kept, Overwrite::kYes);
}

void run_train(TrainArgs& a) {
  TrainConfig c;
  if (!a.config.empty()) apply_yaml_config(c, a.config);
  for (auto& f : a.apply) f(c);
  if (a.resume && c.resume_from_checkpoint.empty()) c.resume_from_checkpoint = "latest";
  if (c.model.empty()) fail("no model: pass --model PATH (an HF folder or a gemma3 GGUF) or set model: in the config");
  c.validate();
  const fs::path out = c.output_dir;
  const fs::path log_path = out / "train_log.jsonl";
  std::string resume_dir;
  if (!c.resume_from_checkpoint.empty()) {
    resume_dir = c.resume_from_checkpoint == "latest" ? latest_checkpoint(out) : c.resume_from_checkpoint;
    if (resume_dir.empty()) fail(out.string() + ": no checkpoint to resume from");
  } else if (fs::exists(log_path) && !a.force) {
    fail(out.string() + ": holds a previous run (train_log.jsonl); pass --resume to continue it or --force to start over");
  }

  if (c.threads > 0) {  // before the first parallel kernel: the pool reads SCITUNE_THREADS once
    setenv("SCITUNE_THREADS", std::to_string(c.threads).c_str(), 1);
    openblas_set_num_threads(static_cast<int>(c.threads));
  }
  LoadOptions lo;
  apply_quant_on_load(lo, c.quant, "quant");
  lo.bf16 = c.bf16;  // fp32 matrices held in bf16, as the bf16 GEMMs read them
  LoadedGemma3 base = load_model(c.model, lo);
  const Tokenizer tok = Tokenizer::load(c.model);
  const Data data = load_data(c, tok);
  if (data.train.empty()) fail("no training examples left after preparation");
  for (const auto* set : {&data.train, &data.validation})
    for (const TokenizedExample& e : *set)
      for (int32_t id : e.input_ids)
        if (id >= base.config.vocab_size)
          fail(e.source + ": token id " + std::to_string(id) + " is outside the model's vocabulary");

  LoraConfig lc = c.lora;
  lc.base_model_name_or_path = c.model;
  LoraAdapter adapter = c.init_adapter.empty() ? LoraAdapter::create(base.config, lc, static_cast<uint64_t>(c.seed))
                                               : LoraAdapter::load(c.init_adapter, base.config);
  Gemma3Lora net(base.config, base.weights, &adapter);
  Trainer trainer(c, net, adapter, data.train, data.validation);
  fs::create_directories(out);
  if (!resume_dir.empty()) {
    trainer.load_checkpoint(resume_dir);
    truncate_log(log_path, trainer.state().global_step);
    std::printf("resumed from %s at step %lld\n", resume_dir.c_str(),
                static_cast<long long>(trainer.state().global_step));
  } else {
    fs::remove(log_path);
  }
  write_file_atomic(out / "train_config.yaml", to_yaml(c), Overwrite::kYes);
  // TensorBoard: one events file per invocation in OUTPUT_DIR/runs; a resumed run's SessionLog.START makes
  // TensorBoard drop what the killed run logged past the checkpoint (as truncate_log does for the JSONL).
  const fs::path tb_dir = out / "runs";
  if (resume_dir.empty())
    for (const fs::path& f : tb_event_files(tb_dir)) fs::remove(f);
  TbEventWriter tb(tb_dir, trainer.state().global_step + 1);
  if (!data.report_json.empty()) write_file_atomic(out / "data_report.json", data.report_json, Overwrite::kYes);
  std::printf("training %s: %lld steps, %zu examples (%lld steps/epoch), LoRA r %lld alpha %g, %lld parameters\n",
              c.model.c_str(), static_cast<long long>(trainer.total_steps()), data.train.size(),
              static_cast<long long>(trainer.steps_per_epoch()), static_cast<long long>(adapter.config().r),
              adapter.config().alpha, static_cast<long long>(adapter.parameter_count()));
  const uint64_t state_bytes = trainer.optimizer().state_bytes();
  const uint64_t fp32_bytes = 2 * sizeof(float) * static_cast<uint64_t>(adapter.parameter_count());
  std::printf("optimizer: %s, states %s%s\n", c.optim.c_str(), human_bytes(state_bytes).c_str(),
              state_bytes == fp32_bytes ? "" : (" (fp32 would be " + human_bytes(fp32_bytes) + ")").c_str());

  const int64_t eval_every = c.eval_steps > 0 ? c.eval_steps : c.logging_steps;
  InterruptScope interrupt_scope;
  ProgressBar bar("train", static_cast<uint64_t>(trainer.total_steps()), "steps");
  bar.update(static_cast<uint64_t>(trainer.state().global_step));
  const bool lines = !ProgressBar::enabled() && verbosity() > 0;
  bool stopped_early = false;
  while (!trainer.done()) {
    const StepLog s = trainer.train_step();
    append_line(log_path, log_json(s));
    tb.add_log(log_json(s));
    char buf[200];
    std::snprintf(buf, sizeof buf, "loss %.4f  lr %.2e  grad %.3f  %.0f tok/s  %.0f MB", s.loss, s.learning_rate,
                  s.grad_norm, s.tokens_per_second, s.peak_memory_mb);
    bar.update(static_cast<uint64_t>(s.step), buf);
    if (lines && (s.step % c.logging_steps == 0 || s.step == 1))
      std::printf("step %lld/%lld  %s\n", static_cast<long long>(s.step),
                  static_cast<long long>(trainer.total_steps()), buf);
    if (!data.validation.empty() && (s.step % eval_every == 0 || trainer.done())) {
      const EvalLog e = trainer.evaluate();
      append_line(log_path, log_json(e));
      tb.add_log(log_json(e));
      const bool was_best = !trainer.state().has_best || e.eval_loss < trainer.state().best_eval_loss;
      stopped_early = trainer.record_eval(e);
      if (was_best) adapter.save(out / "best", Overwrite::kYes);
      if (lines || verbosity() > 1)
        std::printf("eval at step %lld: eval_loss %.4f  perplexity %.2f%s\n", static_cast<long long>(e.step),
                    e.eval_loss, e.eval_perplexity, was_best ? "  (best)" : "");
    }
    if (s.step % c.save_steps == 0 || InterruptScope::interrupted() || stopped_early) trainer.save_checkpoint(c.output_dir);
    if (InterruptScope::interrupted()) {
      bar.finish("interrupted");
      std::printf("interrupted: saved a checkpoint at step %lld; continue with the same command plus --resume\n",
                  static_cast<long long>(s.step));
      return;
    }
    if (stopped_early) {
      std::printf("early stopping: eval_loss did not improve for %lld evaluations\n",
                  static_cast<long long>(c.early_stopping_patience));
      break;
    }
  }
  bar.finish();
  adapter.save(out / "adapter", Overwrite::kYes);
  std::printf("saved the last adapter to %s%s; log: %s\n", (out / "adapter").c_str(),
              data.validation.empty() ? "" : (" and the best to " + (out / "best").string()).c_str(), log_path.c_str());
  std::printf("tensorboard --logdir %s   (events in %s)\n", out.c_str(), tb_dir.c_str());
  const auto problems = write_run_report(out);
  std::printf("report: %s%s\n", (out / "report.html").c_str(), problems.empty() ? "" : " (with warnings)");
}

template <class T>
void flag(CLI::App* cmd, TrainArgs& a, const std::string& name, T TrainConfig::*field, const std::string& help) {
  CLI::Option* opt = cmd->add_option(name, a.flags.*field, help);
  opt->each([&a, field](const std::string&) {
    a.apply.push_back([&a, field](TrainConfig& c) { c.*field = a.flags.*field; });
  });
}

}  // namespace

void register_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Fine-tune a LoRA adapter (SFT; QLoRA on a quantised base)");
  cmd->add_option("--config", a->config, "YAML with TRL SFTConfig / PEFT LoraConfig key names");
  flag(cmd, *a, "--model", &TrainConfig::model, "HF model folder or gemma3 GGUF");
  cmd->add_option("--data", a->flags.data, "Dataset file (FILE or FILE:N samples; repeatable) or a prepared folder")
      ->each([a](const std::string&) { a->apply.push_back([a](TrainConfig& c) { c.data = a->flags.data; }); });
  flag(cmd, *a, "--data-format", &TrainConfig::data_format, "auto, messages, sharegpt, alpaca, sciriff, text, tokens, ...");
  flag(cmd, *a, "--validation-data", &TrainConfig::validation_data, "Separate validation file");
  flag(cmd, *a, "--validation-split", &TrainConfig::validation_split, "Fraction of the data held out for evaluation");
  flag(cmd, *a, "--output-dir", &TrainConfig::output_dir,
       "Run folder (log, TensorBoard events in runs/, checkpoints, adapters)");
  flag(cmd, *a, "--learning-rate", &TrainConfig::learning_rate, "Peak learning rate (2e-4)");
  flag(cmd, *a, "--lr-scheduler-type", &TrainConfig::lr_scheduler_type, "linear, cosine, constant, constant_with_warmup");
  flag(cmd, *a, "--warmup-steps", &TrainConfig::warmup_steps, "Warmup steps (wins over --warmup-ratio)");
  flag(cmd, *a, "--warmup-ratio", &TrainConfig::warmup_ratio, "Warmup as a fraction of the steps");
  flag(cmd, *a, "--max-steps", &TrainConfig::max_steps, "Optimizer steps (-1: from --num-train-epochs)");
  flag(cmd, *a, "--num-train-epochs", &TrainConfig::num_train_epochs, "Epochs (3)");
  flag(cmd, *a, "--per-device-train-batch-size", &TrainConfig::per_device_train_batch_size, "Micro-batch size (8)");
  flag(cmd, *a, "--per-device-eval-batch-size", &TrainConfig::per_device_eval_batch_size, "Evaluation batch size (8)");
  flag(cmd, *a, "--gradient-accumulation-steps", &TrainConfig::gradient_accumulation_steps, "Micro-batches per step (1)");
  flag(cmd, *a, "--weight-decay", &TrainConfig::weight_decay, "Decoupled weight decay (0)");
  flag(cmd, *a, "--max-grad-norm", &TrainConfig::max_grad_norm, "Gradient clipping norm (1.0; 0 = off)");
  flag(cmd, *a, "--optim", &TrainConfig::optim, "adamw_torch, or adamw_8bit (bitsandbytes' 8-bit states)");
  flag(cmd, *a, "--max-seq-length", &TrainConfig::max_seq_length, "Longest example in tokens (1024; longer are cut)");
  flag(cmd, *a, "--seed", &TrainConfig::seed, "Seed for init, data order and dropout (42)");
  flag(cmd, *a, "--logging-steps", &TrainConfig::logging_steps, "Print a log line every N steps (10)");
  flag(cmd, *a, "--eval-steps", &TrainConfig::eval_steps, "Evaluate every N steps (default: --logging-steps)");
  flag(cmd, *a, "--save-steps", &TrainConfig::save_steps, "Checkpoint every N steps (500)");
  flag(cmd, *a, "--save-total-limit", &TrainConfig::save_total_limit, "Keep only the newest N checkpoints (0 = all)");
  flag(cmd, *a, "--resume-from-checkpoint", &TrainConfig::resume_from_checkpoint, "Checkpoint folder, or latest");
  flag(cmd, *a, "--init-adapter", &TrainConfig::init_adapter, "Start from this PEFT adapter");
  flag(cmd, *a, "--quant", &TrainConfig::quant, "Quantise the base on load: none, q8_0, q4_0");
  flag(cmd, *a, "--gradient-checkpointing", &TrainConfig::gradient_checkpointing, "Recompute activations (true/false)");
  flag(cmd, *a, "--bf16", &TrainConfig::bf16, "bf16 GEMMs with fp32 accumulation (true/false; AVX512-BF16 CPUs)");
  flag(cmd, *a, "--threads", &TrainConfig::threads, "CPU threads (0 = all cores)");
  flag(cmd, *a, "--shuffle", &TrainConfig::shuffle, "Shuffle the data each epoch (true/false)");
  flag(cmd, *a, "--early-stopping-patience", &TrainConfig::early_stopping_patience, "Evaluations without improvement");
  flag(cmd, *a, "--early-stopping-threshold", &TrainConfig::early_stopping_threshold, "Minimum eval_loss improvement");
  cmd->add_option("--r", a->flags.lora.r, "LoRA rank (8)")->each([a](const std::string&) {
    a->apply.push_back([a](TrainConfig& c) { c.lora.r = a->flags.lora.r; });
  });
  cmd->add_option("--lora-alpha", a->flags.lora.alpha, "LoRA alpha (8)")->each([a](const std::string&) {
    a->apply.push_back([a](TrainConfig& c) { c.lora.alpha = a->flags.lora.alpha; });
  });
  cmd->add_option("--lora-dropout", a->flags.lora.dropout, "Dropout on the LoRA input (0)")->each([a](const std::string&) {
    a->apply.push_back([a](TrainConfig& c) { c.lora.dropout = a->flags.lora.dropout; });
  });
  cmd->add_flag("--use-rslora", a->flags.lora.use_rslora, "Scale by alpha/sqrt(r)")->each([a](const std::string&) {
    a->apply.push_back([a](TrainConfig& c) { c.lora.use_rslora = a->flags.lora.use_rslora; });
  });
  cmd->add_option("--target-modules", a->target_modules, "Projections to adapt (default: all seven)")
      ->each([a](const std::string&) {
        a->apply.push_back([a](TrainConfig& c) {
          c.lora.target_modules = a->target_modules;
          c.lora.target_regex.reset();
        });
      });
  cmd->add_flag("--resume", a->resume, "Continue from the newest checkpoint in --output-dir");
  cmd->add_flag("--force", a->force, "Start over in an --output-dir that holds a previous run");
  cmd->callback([a] { run_train(*a); });
}

}  // namespace scitune::cli
