// `scitune eval`: how good a model (+ adapter) is on the splits `scitune data prepare` made (or on a data file):
// loss and perplexity with the training loss rule, and for question/answer data greedy (or seeded sampled)
// answers scored with SQuAD EM / token F1 and ROUGE-L, per split and per source, with bootstrap 95% intervals.
// Writes OUT/eval_results.jsonl (one row per split x source) and OUT/predictions.jsonl; the same command twice
// gives byte-identical files (timings are printed, not written).
// A plain .txt file is scored as llama-perplexity scores it (eval/perplexity.h, --ctx), so the perplexity
// compares with llama.cpp's on the same GGUF and text.
// --benchmark scifact|pubmedqa|qasa --file F runs a ScholarQABench single-paper task instead (eval/benchmarks.h):
// OpenScholar's gold-context prompts, the benchmark's own metric (accuracy or ROUGE-L), a bootstrap interval.
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/model_session.h"
#include "data/example_cache.h"
#include "data/prepare.h"
#include "eval/benchmarks.h"
#include "eval/evaluate.h"
#include "eval/perplexity.h"
#include <fstream>
#include <iterator>
#include "model/generate_batch.h"
#include "tokenizer/chat_template.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::string model, adapter, tokenizer, data, splits, out, benchmark, file;
  int64_t batch = 8, max_new_tokens = 256, limit = -1, max_seq_length = 1024, top_k = 64, ctx = 512;
  double temperature = 1.0, top_p = 0.95;
  uint64_t seed = 0;
  bool no_generate = false, sample = false, force = false, no_stem = false;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream in(s);
  std::string x;
  while (std::getline(in, x, ','))
    if (!x.empty()) v.push_back(x);
  return v;
}

// The splits to evaluate, with their examples.
std::vector<std::pair<std::string, std::vector<TokenizedExample>>> load_splits(const EvalArgs& a, const Tokenizer& tok) {
  std::vector<std::pair<std::string, std::vector<TokenizedExample>>> out;
  const fs::path p = a.data;
  if (fs::is_directory(p)) {
    std::vector<std::string> want = split_list(a.splits);
    if (want.empty())
      for (const char* s : {"validation", "holdout"})
        if (fs::exists(p / (std::string(s) + ".bin"))) want.push_back(s);
    if (want.empty()) fail(a.data + ": no validation.bin or holdout.bin (made by scitune data prepare); name splits with --split");
    for (const std::string& s : want) {
      if (s != "train" && s != "validation" && s != "holdout")
        fail("--split " + s + ": expected train, validation or holdout");
      const fs::path f = p / (s + ".bin");
      if (!fs::exists(f)) fail(f.string() + ": missing (prepare a " + s + " split with scitune data prepare)");
      out.emplace_back(s, ExampleCache(f).examples());
    }
  } else {
    if (!fs::exists(p)) fail(a.data + ": no such file or folder");
    if (!a.splits.empty()) fail("--split applies to a prepared folder; " + a.data + " is a file (evaluated whole)");
    DatasetSpec spec;
    spec.sources.push_back(parse_data_source(a.data));
    spec.tokenize.max_seq_length = a.max_seq_length;
    spec.keep_order = true;
    out.emplace_back("data", prepare_dataset(spec, tok).train);
  }
  for (auto& [name, ex] : out) {
    if (ex.empty()) fail(a.data + ": the " + name + " split is empty");
    if (a.limit > 0 && static_cast<int64_t>(ex.size()) > a.limit) ex.resize(static_cast<size_t>(a.limit));
  }
  return out;
}

fs::path default_out(const EvalArgs& a) {
  if (!a.out.empty()) return a.out;
  if (!a.adapter.empty()) {  // RUN_DIR/adapter or RUN_DIR/best -> RUN_DIR/eval, where `scitune report` looks
    const fs::path ad = fs::path(a.adapter).lexically_normal();
    const fs::path run = ad.filename().empty() ? ad.parent_path().parent_path() : ad.parent_path();
    return (run.empty() ? fs::path(".") : run) / "eval";
  }
  return "scitune-eval";
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", 100 * x);
  return b;
}

// A ScholarQABench task: answers to every item (batched), scored with the benchmark's metric.
void run_benchmark(const EvalArgs& a, ModelSession& session, const EvalSettings& s, const fs::path& out) {
  const Benchmark b = parse_benchmark(a.benchmark);
  std::vector<BenchmarkItem> items = load_benchmark(b, a.file);
  if (a.limit > 0 && static_cast<int64_t>(items.size()) > a.limit) items.resize(static_cast<size_t>(a.limit));
  const ChatFormat format = detect_chat_format(session.tok);
  GenerateOptions go;
  go.max_new_tokens = s.max_new_tokens;
  go.stop_ids = s.stop_ids;
  go.vocab_limit = s.vocab_limit;
  go.sampling = s.sampling;
  std::vector<double> scores;
  std::string preds;
  ProgressBar bar("eval " + std::string(to_string(b)), items.size(), "items");
  for (size_t k = 0; k < items.size(); k += static_cast<size_t>(a.batch)) {
    const size_t end = std::min(items.size(), k + static_cast<size_t>(a.batch));
    std::vector<std::vector<int32_t>> prompts;
    for (size_t i = k; i < end; ++i) {
      ChatMessage user{"user", items[i].prompt, {}, false};
      prompts.push_back(encode_chat(session.tok, format, std::span<const ChatMessage>(&user, 1), {true, false}).ids);
      session.check_ids(prompts.back(), items[i].id);
    }
    go.sampling.seed = s.sampling.seed + k;
    const auto res = generate_batch(session.net, prompts, go);
    for (size_t i = k; i < end; ++i) {
      const std::string raw = session.tok.decode(res[i - k].ids, true);
      const std::string answer = extract_response(raw);
      const double score = score_item(b, answer, items[i].gold);
      scores.push_back(score);
      preds += nlohmann::ordered_json{{"benchmark", to_string(b)}, {"id", items[i].id}, {"output", raw},
                                      {"answer", answer},          {"gold", items[i].gold}, {"score", score}}
                   .dump() +
               "\n";
    }
    bar.update(end);
  }
  bar.finish();
  const BootstrapCi ci = bootstrap_ci(scores, s.bootstrap_resamples, s.bootstrap_seed);
  const char* metric = b == Benchmark::kQasa ? "rouge_l" : "accuracy";
  nlohmann::ordered_json row{{"split", to_string(b)}, {"source", a.file},   {"examples", items.size()},
                             {"metric", metric},      {metric, ci.mean},     {std::string(metric) + "_ci", {ci.lower, ci.upper}},
                             {"adapter", a.adapter.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(a.adapter)}};
  std::printf("%s: %s %.1f%% (95%% CI %.1f-%.1f) over %zu items\n", std::string(to_string(b)).c_str(), metric,
              100 * ci.mean, 100 * ci.lower, 100 * ci.upper, items.size());
  fs::create_directories(out);
  const Overwrite ow = a.force ? Overwrite::kYes : Overwrite::kNo;
  write_file_atomic(out / "eval_results.jsonl", row.dump() + "\n", ow);
  write_file_atomic(out / "predictions.jsonl", preds, ow);
  std::printf("wrote %s and predictions.jsonl\n", (out / "eval_results.jsonl").c_str());
}

void run_eval(const EvalArgs& a) {
  if (a.batch < 1) fail("--batch must be at least 1");
  if (a.benchmark.empty() == a.data.empty())
    fail(a.benchmark.empty() ? "pass --data DIR|FILE, or --benchmark NAME --file FILE"
                             : "--benchmark and --data are separate evaluations: pass one of them");
  if (!a.benchmark.empty()) {
    parse_benchmark(a.benchmark);  // a bad name fails before the model loads
    if (a.file.empty()) fail("--benchmark " + a.benchmark + " needs --file (the task's JSONL from ScholarQABench)");
    if (!fs::exists(a.file)) fail(a.file + ": no such file (ScholarQABench data/single_paper_tasks/...)");
  }
  if (a.max_new_tokens < 1) fail("--max-new-tokens must be at least 1");
  const fs::path out = default_out(a);
  for (const char* f : {"eval_results.jsonl", "predictions.jsonl"})
    if (fs::exists(out / f) && !a.force)
      fail((out / f).string() + ": already exists (refusing to overwrite; pass --force or --out DIR)");
  auto session = open_model_session(a.model, a.tokenizer, a.adapter);
  EvalSettings s;
  s.batch_size = a.batch;
  s.generate = !a.no_generate;
  s.max_new_tokens = a.max_new_tokens;
  s.stop_ids = session->stop_ids();
  s.vocab_limit = session->vocab_limit();
  s.stemming = a.no_stem ? Stemming::kNone : Stemming::kPorter;
  s.sampling.do_sample = a.sample;
  s.sampling.temperature = a.temperature;
  s.sampling.top_k = a.top_k;
  s.sampling.top_p = a.top_p;
  s.sampling.seed = a.seed;
  s.bootstrap_seed = a.seed;
  check_sampling_options(s.sampling, "eval");
  if (!a.benchmark.empty()) return run_benchmark(a, *session, s, out);
  if (fs::path(a.data).extension() == ".txt") {  // plain text: llama-perplexity's method
    std::ifstream in(a.data, std::ios::binary);
    if (!in) fail(a.data + ": cannot open");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!text.empty() && text.back() == '\n') text.pop_back();
    const std::vector<int32_t> ids = session->tok.encode(text, /*add_special_tokens=*/true);
    session->check_ids(ids, a.data);
    const PerplexityResult p = llama_perplexity(session->net, ids, a.ctx, 1, 0, chunk_bos(session->tok));
    nlohmann::ordered_json row{{"split", "text"},       {"source", fs::path(a.data).filename().string()},
                               {"examples", p.chunks},   {"tokens", p.scored},
                               {"loss", p.mean_nll},     {"perplexity", p.ppl},
                               {"perplexity_error", p.ppl_error}, {"method", "llama-perplexity, ctx " + std::to_string(a.ctx)}};
    std::printf("text %s: %lld chunks of %lld, %lld tokens scored: loss %.4f, perplexity %.4f +/- %.5f\n",
                a.data.c_str(), static_cast<long long>(p.chunks), static_cast<long long>(a.ctx),
                static_cast<long long>(p.scored), p.mean_nll, p.ppl, p.ppl_error);
    fs::create_directories(out);
    write_file_atomic(out / "eval_results.jsonl", row.dump() + "\n", a.force ? Overwrite::kYes : Overwrite::kNo);
    write_file_atomic(out / "predictions.jsonl", "", a.force ? Overwrite::kYes : Overwrite::kNo);
    return;
  }
  const auto splits = load_splits(a, session->tok);
  for (const auto& [name, ex] : splits)
    for (const TokenizedExample& e : ex) session->check_ids(e.input_ids, e.source);

  Gemma3Lora scorer(session->weights.config, session->weights.weights, session->adapter.get());

  std::string rows, preds;
  std::printf("%-10s %-28s %8s %9s %8s %8s %8s %8s\n", "split", "source", "examples", "loss", "ppl", "EM%", "F1%",
              "ROUGE-L%");
  for (const auto& [name, ex] : splits) {
    ProgressBar bar("eval " + name, static_cast<uint64_t>(ex.size() * (s.generate ? 2 : 1)), "examples");
    const SplitEval r = evaluate_split(name, ex, session->net, scorer, session->tok, s,
                                       [&](int64_t done, int64_t) { bar.update(static_cast<uint64_t>(done)); });
    bar.finish();
    for (const EvalRow& row : r.rows) {
      rows += row.to_json().dump() + "\n";
      std::printf("%-10s %-28s %8lld %9.4f %8.2f %8s %8s %8s\n", row.split.c_str(), row.source.substr(0, 28).c_str(),
                  static_cast<long long>(row.examples), row.loss, row.perplexity,
                  row.answered ? pct(row.exact_match.mean).c_str() : "-", row.answered ? pct(row.token_f1.mean).c_str() : "-",
                  row.answered ? pct(row.rouge_l.mean).c_str() : "-");
    }
    for (const EvalPrediction& p : r.predictions)
      preds += nlohmann::ordered_json{{"split", p.split},           {"source", p.source},       {"id", p.id},
                                      {"prediction", p.prediction}, {"reference", p.reference}, {"exact_match", p.exact_match},
                                      {"token_f1", p.token_f1},     {"rouge_l", p.rouge_l}}
                   .dump() +
               "\n";
    if (s.generate && r.generate_seconds > 0)
      std::printf("  %s: %lld answers, %lld tokens generated in %.1f s (%.1f tok/s, batch %lld)\n", name.c_str(),
                  static_cast<long long>(r.predictions.size()), static_cast<long long>(r.generated_tokens),
                  r.generate_seconds, static_cast<double>(r.generated_tokens) / r.generate_seconds,
                  static_cast<long long>(a.batch));
  }
  fs::create_directories(out);
  const Overwrite ow = a.force ? Overwrite::kYes : Overwrite::kNo;
  write_file_atomic(out / "eval_results.jsonl", rows, ow);
  write_file_atomic(out / "predictions.jsonl", preds, ow);
  std::printf("wrote %s and predictions.jsonl (intervals: bootstrap 95%%, %d resamples)\n",
              (out / "eval_results.jsonl").c_str(), s.bootstrap_resamples);
}

}  // namespace

void register_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Loss, perplexity and answer quality (EM, F1, ROUGE-L) per split and source");
  cmd->add_option("--model", a->model, "Base model: HF folder or gemma3 GGUF")->required();
  cmd->add_option("--adapter", a->adapter, "PEFT LoRA adapter folder to apply");
  cmd->add_option("--data", a->data, "A folder from scitune data prepare, or a data file (JSONL/JSON, chat/QA layouts)");
  cmd->add_option("--benchmark", a->benchmark, "ScholarQABench task instead of --data: scifact, pubmedqa or qasa");
  cmd->add_option("--file", a->file, "With --benchmark: the task file (data/single_paper_tasks/<task>_test.jsonl)");
  cmd->add_option("--split", a->splits, "Comma-separated: train, validation, holdout (default: validation,holdout)");
  cmd->add_option("--tokenizer", a->tokenizer, "Tokenizer (default: the model's)");
  cmd->add_option("--batch", a->batch, "Examples per batch, for the loss and for generation")->capture_default_str();
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Longest generated answer")->capture_default_str();
  cmd->add_option("--limit", a->limit, "Evaluate at most this many examples per split");
  cmd->add_option("--max-seq-length", a->max_seq_length, "Data file: longest example in tokens")->capture_default_str();
  cmd->add_flag("--no-generate", a->no_generate, "Loss and perplexity only");
  cmd->add_flag("--sample", a->sample, "Sample answers (seeded) instead of greedy decoding");
  cmd->add_option("--seed", a->seed, "Seed for sampling and the bootstrap")->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "With --sample")->capture_default_str();
  cmd->add_option("--top-k", a->top_k, "With --sample")->capture_default_str();
  cmd->add_option("--top-p", a->top_p, "With --sample")->capture_default_str();
  cmd->add_flag("--no-stem", a->no_stem, "ROUGE-L without the Porter stemmer");
  cmd->add_option("--ctx", a->ctx, "Plain .txt data: tokens per chunk (llama-perplexity's -c)")->capture_default_str();
  cmd->add_option("--out", a->out, "Output folder (default: RUN_DIR/eval for RUN_DIR/adapter, else scitune-eval)");
  cmd->add_flag("--force", a->force, "Replace existing result files");
  cmd->callback([a] { run_eval(*a); });
}

}  // namespace scitune::cli
