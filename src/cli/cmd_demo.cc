// `scitune demo`: the main job on the real Gemma 3 270M that setup.sh fetched (a Q4_K_M GGUF, so this is QLoRA:
// the quantised base stays frozen in place). It answers held-out questions of the bundled science QA set,
// fine-tunes a LoRA on the rest with a live loss, then shows held-out loss and answers before/after side by side
// and saves the adapter. OUTPUT_DIR is a run folder like `scitune train` makes (train_log.jsonl, train_config.yaml,
// runs/events.out.tfevents.* for TensorBoard, eval/eval_results.jsonl with base vs fine-tuned held-out metrics,
// eval/compare.jsonl) with its report.html.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "io/json_limits.h"
#include "data/example.h"
#include "eval/evaluate.h"
#include "model/generate.h"
#include "model/generate_batch.h"
#include "report/run_report.h"
#include "util/atomic_file.h"
#include "model/load.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "train/gemma3_lora.h"
#include "train/lora_ops.h"
#include "train/tb_event_writer.h"
#include "train/trainer.h"
#include "util/progress.h"
#include "util/error.h"
#include "util/paths.h"

namespace scitune::cli {

extern const char* const kDemoScienceQa;

namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  std::string model, output_dir = "scitune-demo";
  int questions = 4, holdout = 20;
  int64_t max_new_tokens = 40;
  double epochs = 1, learning_rate = 3e-4;
  int64_t max_steps = -1;
  // bf16 GEMMs (TRL bf16: true) where the CPU has AVX512-BF16, plain fp32 elsewhere: the demo on this repo's
  // 2-core machine, 2026-12-06: 97 s instead of 134 s, held-out loss 4.298 -> 2.560 (fp32: 4.299 -> 2.561).
  bool bf16 = true;
  int64_t seed = 42;
};

struct QaPair {
  std::string question, answer;
};

std::vector<QaPair> demo_pairs() {
  std::vector<QaPair> out;
  std::istringstream in(kDemoScienceQa);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    const std::string where = "data/demo/science_qa.jsonl:" + std::to_string(n);
    nlohmann::json row = parse_json_strict(line, where);
    const auto& msgs = json_array(row.at("messages"), where + ": messages");
    if (msgs.size() != 2) fail(where + ": expected a user and an assistant message");
    out.push_back({json_string(msgs[0].at("content"), where), json_string(msgs[1].at("content"), where)});
  }
  return out;
}

// Chat-template tokens of one QA pair with the response-only labels (Unsloth train_on_responses_only).
TokenizedExample encode_pair(const Tokenizer& tok, ChatFormat format, const QaPair& p, int n) {
  ChatMessage user, model;
  user.role = "user";
  user.content = p.question;
  model.role = "model";
  model.content = p.answer;
  const ChatMessage msgs[] = {user, model};
  ChatEncoding enc = encode_chat(tok, format, msgs, ChatOptions{});
  TokenizedExample e;
  e.input_ids = enc.ids;
  e.labels.resize(enc.ids.size());
  for (size_t i = 0; i < enc.ids.size(); ++i) e.labels[i] = enc.mask[i] ? enc.ids[i] : kIgnoreLabel;
  e.source = "science_qa.jsonl:" + std::to_string(n);
  return e;
}

// Greedy answers to every question, decoded several at a time.
std::vector<std::string> answers(Gemma3& model, const Tokenizer& tok, ChatFormat format,
                                 const std::vector<std::string>& questions, const GreedyOptions& gen) {
  std::vector<std::vector<int32_t>> prompts;
  for (const std::string& q : questions) {
    ChatMessage user;
    user.role = "user";
    user.content = q;
    ChatOptions opts;
    opts.add_generation_prompt = true;
    prompts.push_back(encode_chat(tok, format, std::span<const ChatMessage>(&user, 1), opts).ids);
  }
  GenerateOptions go;
  go.max_new_tokens = gen.max_new_tokens;
  go.stop_ids = gen.stop_ids;
  go.sampling.do_sample = false;
  std::vector<std::string> out;
  for (const GenerateResult& r : generate_batch(model, prompts, go)) {
    std::string text = tok.decode(r.ids, /*skip_special_tokens=*/true);
    for (char& c : text)
      if (c == '\n') c = ' ';
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out.push_back(text);
  }
  return out;
}

// Held-out metrics of one model for eval_results.jsonl: the trainer's loss and EM / F1 / ROUGE-L of its answers.
nlohmann::ordered_json heldout_row(const EvalLog& loss, const std::vector<std::string>& preds,
                                   const std::vector<std::string>& refs, const std::string& adapter) {
  EvalRow row;
  row.split = "holdout";
  row.source = "science_qa.jsonl";
  row.examples = static_cast<int64_t>(refs.size());
  row.tokens = loss.eval_tokens;
  row.loss = loss.eval_loss;
  row.perplexity = loss.eval_perplexity;
  std::vector<double> em, f1, rl;
  for (size_t i = 0; i < refs.size(); ++i) {
    em.push_back(exact_match(preds[i], refs[i]));
    f1.push_back(token_f1(preds[i], refs[i]));
    rl.push_back(rouge_l(preds[i], refs[i], Stemming::kPorter).fmeasure);
  }
  row.answered = static_cast<int64_t>(refs.size());
  row.exact_match = bootstrap_ci(em);
  row.token_f1 = bootstrap_ci(f1);
  row.rouge_l = bootstrap_ci(rl);
  nlohmann::ordered_json j = row.to_json();
  j["adapter"] = adapter.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(adapter);
  return j;
}

void run_demo(const DemoOptions& o) {
  const fs::path model_path = o.model.empty() ? default_model_path() : fs::path(o.model);
  if (!fs::exists(model_path))
    fail(model_path.string() + ": model not found; run ./scripts/setup.sh (or scripts/fetch_model.sh) first");
  const auto pairs = demo_pairs();
  if (o.holdout < 1 || o.holdout >= static_cast<int>(pairs.size()))
    fail("--holdout must be between 1 and " + std::to_string(pairs.size() - 1));
  if (o.questions < 0 || o.questions > o.holdout) fail("--questions must be between 0 and --holdout");
  const size_t n_train = pairs.size() - static_cast<size_t>(o.holdout);

  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  Tokenizer tok = Tokenizer::load(model_path);
  LoadedGemma3 loaded = load_model(model_path);  // weights stay in their GGUF types (QLoRA base)
  const ChatFormat format = detect_chat_format(tok);
  std::vector<TokenizedExample> train, heldout;
  for (size_t i = 0; i < pairs.size(); ++i)
    (i < n_train ? train : heldout).push_back(encode_pair(tok, format, pairs[i], static_cast<int>(i + 1)));
  std::printf("scitune demo: LoRA fine-tune of Gemma 3 270M on science QA\n");
  std::printf("  model: %s (%s weights, frozen)\n", model_path.c_str(),
              std::string(ggml_info(loaded.weights.layers[0].q.type).name).c_str());
  std::printf("  data:  %zu question/answer pairs: %zu to train on, %d held out\n\n", pairs.size(), n_train, o.holdout);

  TrainConfig cfg;
  cfg.learning_rate = o.learning_rate;
  cfg.lr_scheduler_type = "cosine";
  cfg.warmup_steps = 3;
  cfg.num_train_epochs = o.epochs;
  cfg.max_steps = o.max_steps;
  cfg.per_device_train_batch_size = 8;
  cfg.per_device_eval_batch_size = 8;
  cfg.seed = o.seed;
  cfg.bf16 = o.bf16;
  cfg.lora.r = 16;
  cfg.lora.alpha = 32;
  LoraAdapter adapter = LoraAdapter::create(loaded.config, cfg.lora, static_cast<uint64_t>(o.seed));
  Gemma3Lora net(loaded.config, loaded.weights, &adapter);
  Trainer trainer(cfg, net, adapter, train, heldout);
  Gemma3 model(loaded.config, loaded.weights);  // for answering; the adapter joins through the hook
  GreedyOptions gen;
  gen.max_new_tokens = o.max_new_tokens;
  for (int64_t id : loaded.config.eos_token_ids) gen.stop_ids.push_back(static_cast<int32_t>(id));
  if (auto eot = tok.token_to_id("<end_of_turn>")) gen.stop_ids.push_back(*eot);

  const fs::path run = o.output_dir;
  fs::create_directories(run / "eval");
  const fs::path log_path = run / "train_log.jsonl";
  fs::remove(log_path);
  for (const fs::path& f : tb_event_files(run / "runs")) fs::remove(f);  // each demo starts over, like its log
  TbEventWriter tb(run / "runs", 0);  // step 0: the held-out loss before training
  auto log_line = [&](const nlohmann::ordered_json& j) {
    std::ofstream(log_path, std::ios::app) << j.dump() << "\n";
    tb.add_log(j);
  };
  cfg.model = model_path.string();
  cfg.data = {"data/demo/science_qa.jsonl (bundled; last " + std::to_string(o.holdout) + " pairs held out)"};
  cfg.output_dir = run.string();
  write_file_atomic(run / "train_config.yaml", to_yaml(cfg), Overwrite::kYes);

  const EvalLog before = trainer.evaluate();
  log_line(log_json(before));
  std::printf("held-out loss before training: %.3f (perplexity %.1f)\n", before.eval_loss, before.eval_perplexity);
  std::vector<std::string> questions, references;
  for (size_t i = n_train; i < pairs.size(); ++i) {
    questions.push_back(pairs[i].question);
    references.push_back(pairs[i].answer);
  }
  const std::vector<std::string> answers_before = answers(model, tok, format, questions, gen);

  std::printf("\ntraining: %lld steps (%g epochs, batch %lld), LoRA r %lld alpha %g on all 7 projections "
              "(%lld trainable parameters)\n",
              static_cast<long long>(trainer.total_steps()), cfg.num_train_epochs,
              static_cast<long long>(cfg.per_device_train_batch_size), static_cast<long long>(cfg.lora.r),
              cfg.lora.alpha, static_cast<long long>(adapter.parameter_count()));
  {
    ProgressBar bar("train", static_cast<uint64_t>(trainer.total_steps()), "steps");
    const bool lines = !ProgressBar::enabled() && verbosity() > 0;
    while (!trainer.done()) {
      const StepLog s = trainer.train_step();
      log_line(log_json(s));
      char buf[160];
      std::snprintf(buf, sizeof buf, "loss %.3f  lr %.1e  %.0f tok/s", s.loss, s.learning_rate, s.tokens_per_second);
      bar.update(static_cast<uint64_t>(s.step), buf);
      if (lines) std::printf("  step %3lld/%lld  %s\n", static_cast<long long>(s.step),
                             static_cast<long long>(trainer.total_steps()), buf);
      std::fflush(stdout);
    }
    bar.finish();
  }
  const EvalLog after = trainer.evaluate();
  log_line(log_json(after));
  std::printf("\nheld-out loss: %.3f before -> %.3f after training (perplexity %.1f -> %.1f)\n", before.eval_loss,
              after.eval_loss, before.eval_perplexity, after.eval_perplexity);

  model.set_projection_hook(lora::inference_hook(adapter));
  const std::vector<std::string> answers_after = answers(model, tok, format, questions, gen);
  std::printf("\n== held-out questions: base model vs fine-tuned ==\n");
  for (int i = 0; i < o.questions; ++i)
    std::printf("\nQ: %s\n  before:    %s\n  after:     %s\n  reference: %s\n", questions[i].c_str(),
                answers_before[i].c_str(), answers_after[i].c_str(), references[i].c_str());
  const fs::path out = fs::path(o.output_dir) / "adapter";
  if (fs::exists(out)) std::printf("\n(replacing the previous demo adapter in %s)\n", out.c_str());
  adapter.save(out, Overwrite::kYes);
  const nlohmann::ordered_json base_row = heldout_row(before, answers_before, references, "");
  const nlohmann::ordered_json tuned_row = heldout_row(after, answers_after, references, out.string());
  write_file_atomic(run / "eval/eval_results.jsonl", base_row.dump() + "\n" + tuned_row.dump() + "\n", Overwrite::kYes);
  std::string compare;
  for (size_t i = 0; i < questions.size(); ++i)
    compare += nlohmann::ordered_json{{"question", questions[i]}, {"base", answers_before[i]},
                                      {"fine_tuned", answers_after[i]}, {"reference", references[i]}}
                   .dump() +
               "\n";
  write_file_atomic(run / "eval/compare.jsonl", compare, Overwrite::kYes);
  std::printf("\nheld-out answers (%zu): token F1 %.1f%% -> %.1f%%, ROUGE-L %.1f%% -> %.1f%%\n", questions.size(),
              100 * base_row["token_f1"].get<double>(), 100 * tuned_row["token_f1"].get<double>(),
              100 * base_row["rouge_l"].get<double>(), 100 * tuned_row["rouge_l"].get<double>());
  const auto problems = write_run_report(run);
  std::printf("report: %s%s\n", (run / "report.html").c_str(), problems.empty() ? "" : " (with warnings)");
  std::printf(
      "\nsaved the LoRA adapter (PEFT format) to %s  [%.0f s in all]\n"
      "next:\n"
      "  ./build/scitune chat --model %s --adapter %s\n"
      "  ./build/scitune generate --model %s --adapter %s --chat --greedy --prompt \"What is a catalyst?\"\n"
      "  ./build/scitune export --model %s --adapter %s --format gguf --quant q8_0 --ollama --out %s\n"
      "  ./build/scitune train --help     (your own data: --data chats.jsonl, YAML configs with TRL key names)\n",
      out.c_str(), elapsed(), model_path.c_str(), out.c_str(), model_path.c_str(), out.c_str(), model_path.c_str(),
      out.c_str(), (fs::path(o.output_dir) / "export-q8_0").c_str());
}

}  // namespace

void register_demo(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run the main job on the real Gemma 3 270M fetched by setup.sh");
  cmd->add_option("--model", o->model, "gemma3 GGUF (default: the cached Gemma 3 270M Q4_K_M)");
  cmd->add_option("--questions", o->questions, "Held-out questions to answer before/after")->capture_default_str();
  cmd->add_option("--holdout", o->holdout, "Pairs held out of training (the last ones)")->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Training epochs")->capture_default_str();
  cmd->add_option("--max-steps", o->max_steps, "Stop after this many optimizer steps (-1: --epochs decides)")
      ->capture_default_str();
  cmd->add_option("--bf16", o->bf16, "bf16 GEMMs with fp32 accumulation where the CPU has AVX512-BF16 (false: fp32)")
      ->capture_default_str();
  cmd->add_option("--learning-rate", o->learning_rate, "Peak learning rate (cosine, 3 warmup steps)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed for the LoRA init and data order")->capture_default_str();
  cmd->add_option("--output-dir", o->output_dir,
                  "Run folder: adapter/ (replaced each run), log, TensorBoard events in runs/, report")
      ->capture_default_str();
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "Longest answer, in tokens")->capture_default_str();
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace scitune::cli
