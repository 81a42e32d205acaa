// `scitune compare`: the base model's and the fine-tuned model's answers to the same questions, side by side.
// Default questions: five of the kind the reference release showed (CRISPR-Cas9, AlphaFold2, p-values and
// effect sizes, dark matter, climate feedback loops), with its generation settings (temperature 1.0, top-p 0.95,
// top-k 64, 512 new tokens) and a fixed seed, so a run can be repeated. Writes OUT/compare.jsonl and
// OUT/compare.html (what `scitune report` shows too).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/commands.h"
#include "cli/model_session.h"
#include "model/generate_batch.h"
#include "tokenizer/chat_template.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

namespace fs = std::filesystem;

const char* const kDefaultQuestions[] = {
    "How does CRISPR-Cas9 cut a chosen DNA sequence, and what limits its use in therapy?",
    "What is the approach behind AlphaFold2's protein structure predictions?",
    "In a clinical trial, how do p-values, confidence intervals and effect sizes differ in what they tell us?",
    "What are the leading candidates for dark matter, and how are physicists searching for them?",
    "What is the difference between positive and negative feedback loops in the climate system? Give an example of each.",
};

struct CompareArgs {
  std::string model, adapter, tokenizer, questions, out;
  int64_t max_new_tokens = 512, top_k = 64;
  double temperature = 1.0, top_p = 0.95;
  uint64_t seed = 0;
  bool greedy = false, force = false;
};

struct Question {
  std::string text, reference;
};

std::vector<Question> read_questions(const std::string& path) {
  std::vector<Question> q;
  if (path.empty()) {
    for (const char* t : kDefaultQuestions) q.push_back({t, ""});
    return q;
  }
  std::ifstream in(path);
  if (!in) fail(path + ": cannot open the questions file");
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line[0] == '{') {  // JSONL: {"question": ..., "reference": ...}
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("question") || !j["question"].is_string() ||
          j["question"].get<std::string>().empty())
        fail(path + ":" + std::to_string(n) + ": expected {\"question\": \"...\"} (optional \"reference\")");
      q.push_back({j["question"].get<std::string>(),
                   j.contains("reference") && j["reference"].is_string() ? j["reference"].get<std::string>() : ""});
    } else {
      q.push_back({line, ""});
    }
  }
  if (q.empty()) fail(path + ": no questions (one per line, or JSONL with \"question\")");
  return q;
}

std::string escape_html(const std::string& s) {
  std::string o;
  for (char c : s) switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  return o;
}

void run_compare(const CompareArgs& a) {
  const fs::path out = a.out.empty() ? fs::path(a.adapter).lexically_normal().parent_path() / "eval" : fs::path(a.out);
  for (const char* f : {"compare.jsonl", "compare.html"})
    if (fs::exists(out / f) && !a.force) fail((out / f).string() + ": already exists (pass --force or --out DIR)");
  const std::vector<Question> questions = read_questions(a.questions);
  auto session = open_model_session(a.model, a.tokenizer, "");
  const ChatFormat format = detect_chat_format(session->tok);
  std::vector<std::vector<int32_t>> prompts;
  for (const Question& q : questions) {
    ChatMessage user{"user", q.text, {}, false};
    prompts.push_back(encode_chat(session->tok, format, std::span<const ChatMessage>(&user, 1), {true, false}).ids);
    session->check_ids(prompts.back(), "question");
  }
  GenerateOptions go;
  go.max_new_tokens = a.max_new_tokens;
  go.stop_ids = session->stop_ids();
  go.vocab_limit = session->vocab_limit();
  go.sampling.do_sample = !a.greedy;
  go.sampling.temperature = a.temperature;
  go.sampling.top_k = a.top_k;
  go.sampling.top_p = a.top_p;
  go.sampling.seed = a.seed;
  check_sampling_options(go.sampling, "compare");
  std::printf("%zu questions, %s, up to %lld new tokens, seed %llu\n", questions.size(),
              a.greedy ? "greedy" : "sampled (temperature/top-k/top-p as the Gemma card)",
              static_cast<long long>(a.max_new_tokens), static_cast<unsigned long long>(a.seed));
  ProgressBar bar("compare", 2, "models");
  const auto base = generate_batch(session->net, prompts, go);
  bar.update(1);
  session->apply_adapter(a.adapter);
  const auto tuned = generate_batch(session->net, prompts, go);
  bar.finish();
  std::string jsonl, rows;
  for (size_t i = 0; i < questions.size(); ++i) {
    const std::string b = session->tok.decode(base[i].ids, true), t = session->tok.decode(tuned[i].ids, true);
    nlohmann::ordered_json j{{"question", questions[i].text}, {"base", b}, {"fine_tuned", t}};
    if (!questions[i].reference.empty()) j["reference"] = questions[i].reference;
    jsonl += j.dump() + "\n";
    rows += "<tr><td>" + escape_html(questions[i].text) + "</td><td>" + escape_html(b) + "</td><td>" + escape_html(t) +
            "</td>" + (questions[i].reference.empty() ? "" : "<td>" + escape_html(questions[i].reference) + "</td>") +
            "</tr>\n";
    std::printf("\nQ: %s\n  base:       %s\n  fine-tuned: %s\n", questions[i].text.c_str(), b.c_str(), t.c_str());
  }
  const std::string html =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>scitune compare</title><style>"
      "body{font-family:sans-serif;margin:2em}td,th{vertical-align:top;border:1px solid #ccc;padding:.5em;"
      "white-space:pre-wrap}table{border-collapse:collapse}th{background:#f0f0f0}</style></head><body>"
      "<h1>Base vs fine-tuned</h1><p>Model <code>" + escape_html(a.model) + "</code>, adapter <code>" +
      escape_html(a.adapter) + "</code>; " + (a.greedy ? "greedy" : "sampled") + ", seed " + std::to_string(a.seed) +
      ".</p><table><tr><th>question</th><th>base</th><th>fine-tuned</th></tr>\n" + rows + "</table></body></html>\n";
  fs::create_directories(out);
  const Overwrite ow = a.force ? Overwrite::kYes : Overwrite::kNo;
  write_file_atomic(out / "compare.jsonl", jsonl, ow);
  write_file_atomic(out / "compare.html", html, ow);
  std::printf("\nwrote %s and compare.html\n", (out / "compare.jsonl").c_str());
}

}  // namespace

void register_compare(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand("compare", "Base and fine-tuned answers to the same questions, side by side");
  cmd->add_option("--model", a->model, "Base model: HF folder or gemma3 GGUF")->required();
  cmd->add_option("--adapter", a->adapter, "PEFT LoRA adapter folder (the fine-tune)")->required();
  cmd->add_option("--questions", a->questions, "One question per line, or JSONL with \"question\" (+ \"reference\")");
  cmd->add_option("--tokenizer", a->tokenizer, "Tokenizer (default: the model's)");
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Longest answer")->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "Sampling temperature")->capture_default_str();
  cmd->add_option("--top-k", a->top_k, "Top-k")->capture_default_str();
  cmd->add_option("--top-p", a->top_p, "Top-p")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Sampling seed (the same for both models)")->capture_default_str();
  cmd->add_flag("--greedy", a->greedy, "Greedy answers instead of sampled ones");
  cmd->add_option("--out", a->out, "Output folder (default: the adapter's run folder /eval)");
  cmd->add_flag("--force", a->force, "Replace existing compare files");
  cmd->callback([a] { run_compare(*a); });
}

}  // namespace scitune::cli
