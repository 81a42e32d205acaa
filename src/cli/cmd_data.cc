// scitune data: turn dataset files into tokenised training examples, and look at the result.
//   scitune data prepare --data FILE[:N] [--data ...] --tokenizer PATH --out DIR [--max-seq-length N]
//       [--overlong truncate|drop] [--val-ratio R | --val-count N] [--seed S] [--format LAYOUT]
//       [--filter-dataset PATTERN[,PATTERN]] [--strip-response-markers] [--strict] [--threads N] [--force]
//     writes DIR/train.bin, DIR/validation.bin (data/example_cache.h) and DIR/report.json, prints a summary
//   scitune data inspect DIR [--split train|validation] [--example K] [--tokenizer PATH]
//     prints the report and example K decoded, its trained tokens between ⟦ and ⟧
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "data/example_cache.h"
#include "data/prepare.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace scitune::cli {

namespace {

struct PrepareArgs {
  std::vector<std::string> data, filter_dataset;
  std::string tokenizer, out, format = "auto", overlong = "truncate", chat_format = "auto";
  int64_t max_seq_length = 1024;
  double val_ratio = 0.0;
  int64_t val_count = -1;
  double holdout_ratio = 0.0;
  int64_t holdout_count = -1;
  uint64_t seed = 42;
  bool strip_markers = false, strict = false, force = false;
  unsigned threads = 0;
};

struct InspectArgs {
  std::string dir, split = "train", tokenizer;
  size_t example = 0;
};

void prepare(const PrepareArgs& a) {
  DatasetSpec spec;
  const Layout layout = parse_layout(a.format);
  DatasetFilter filter;
  for (const std::string& f : a.filter_dataset) add_dataset_filter(filter, f);
  for (const std::string& d : a.data) {
    spec.sources.push_back(parse_data_source(d, layout));
    spec.sources.back().filter = filter;
  }
  spec.tokenize.max_seq_length = a.max_seq_length;
  if (a.overlong == "truncate")
    spec.tokenize.overlong = Overlong::kTruncate;
  else if (a.overlong == "drop")
    spec.tokenize.overlong = Overlong::kDrop;
  else
    fail("--overlong " + a.overlong + ": expected truncate or drop");
  spec.tokenize.threads = a.threads;
  spec.seed = a.seed;
  spec.val_ratio = a.val_ratio;
  spec.val_count = a.val_count;
  spec.holdout_ratio = a.holdout_ratio;
  spec.holdout_count = a.holdout_count;
  spec.strip_response_markers = a.strip_markers;
  spec.strict = a.strict;
  if (a.chat_format == "gemma3")
    spec.chat_format = ChatFormat::kGemma3;
  else if (a.chat_format == "gemma4")
    spec.chat_format = ChatFormat::kGemma4;
  else if (a.chat_format != "auto")
    fail("--chat-format " + a.chat_format + ": expected auto, gemma3 or gemma4");
  const Tokenizer tok = Tokenizer::load(a.tokenizer);
  PreparedDataset data = prepare_dataset(spec, tok);
  // Recorded so that `data inspect` (and a later run) can find the same tokenizer.
  data.report.tokenizer = std::filesystem::absolute(a.tokenizer).lexically_normal().string();
  write_prepared_dataset(a.out, data, tok, a.force ? Overwrite::kYes : Overwrite::kNo);
  std::string out = format_report(data.report);
  out += "wrote " + (std::filesystem::path(a.out) / "train.bin").string() + ", validation.bin" +
         (data.holdout.empty() ? "" : ", holdout.bin") + ", report.json\n";
  std::fputs(out.c_str(), stdout);
}

// Example text with the trained runs between ⟦ and ⟧; runs are decoded separately.
std::string highlighted(const Tokenizer& tok, std::span<const uint32_t> packed) {
  std::string out;
  size_t i = 0;
  while (i < packed.size()) {
    const bool trained = packed[i] & kTrainedBit;
    std::vector<int32_t> run;
    for (; i < packed.size() && bool(packed[i] & kTrainedBit) == trained; ++i)
      run.push_back(int32_t(packed[i] & ~kTrainedBit));
    out += trained ? "⟦" + tok.decode(run) + "⟧" : tok.decode(run);
  }
  return out;
}

void inspect(const InspectArgs& a) {
  const std::filesystem::path dir(a.dir);
  std::string out = format_report(read_data_report(dir));
  if (a.split != "train" && a.split != "validation" && a.split != "holdout")
    fail("--split " + a.split + ": expected train, validation or holdout");
  const std::filesystem::path bin = dir / (a.split + ".bin");
  const ExampleCache cache(bin);
  out += bin.string() + ": " + std::to_string(cache.size()) + " examples, " + std::to_string(cache.total_tokens()) +
         " tokens\n";
  if (cache.size() == 0) {
    std::fputs(out.c_str(), stdout);
    return;
  }
  if (a.example >= cache.size())
    fail("--example " + std::to_string(a.example) + ": " + bin.string() + " has " + std::to_string(cache.size()) +
         " examples");
  std::fputs(out.c_str(), stdout);
  out.clear();
  std::string tok_path = a.tokenizer;
  if (tok_path.empty()) {
    const nlohmann::json* t = cache.meta().contains("tokenizer") ? &cache.meta()["tokenizer"] : nullptr;
    if (!t || !t->is_string() || !std::filesystem::exists(t->get<std::string>()))
      fail(bin.string() + ": the tokenizer it was made with is not recorded or no longer there; pass --tokenizer");
    tok_path = t->get<std::string>();
  }
  const Tokenizer tok = Tokenizer::load(tok_path);
  if (tok.vocab_size() < cache.vocab_size())
    fail(tok_path + ": vocabulary of " + std::to_string(tok.vocab_size()) + " tokens, but " + bin.string() +
         " was made with " + std::to_string(cache.vocab_size()));
  const auto packed = cache.packed(a.example);
  size_t trained = 0;
  for (uint32_t p : packed) trained += (p & kTrainedBit) != 0;
  out += "example " + std::to_string(a.example) + " from " + std::string(cache.source(a.example)) + ": " +
         std::to_string(packed.size()) + " tokens, " + std::to_string(trained) + " trained (between ⟦ and ⟧):\n" +
         highlighted(tok, packed) + "\n";
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void register_data(CLI::App& app) {
  auto* cmd = app.add_subcommand("data", "Prepare training data: validate, tokenise, split; inspect the result");
  cmd->require_subcommand(1);

  auto p = std::make_shared<PrepareArgs>();
  auto* prep = cmd->add_subcommand(
      "prepare",
      "Read JSON/JSONL files (plain, .gz, .zst) or Parquet (Hugging Face shards), validate every record, "
      "tokenise with the chat template's response-only mask, shuffle and split");
  prep->add_option("--data", p->data,
                   "A data file (.jsonl, .json, .gz, .zst, .parquet), a folder of .parquet shards or a quoted glob "
                   "('data/train-*.parquet'), optionally with a sample count: FILE[:N] (N examples drawn at random "
                   "with the seed). Repeat for several sources")
      ->required();
  prep->add_option("--tokenizer", p->tokenizer, "tokenizer.json, tokenizer.model, a .gguf, or a model folder")
      ->required();
  prep->add_option("--out", p->out, "Output folder: train.bin, validation.bin, report.json")->required();
  prep->add_option("--max-seq-length", p->max_seq_length,
                   "Longest example in tokens (TRL's max_length; default 1024; 0 = no limit)");
  prep->add_option("--overlong", p->overlong,
                   "Longer examples: truncate (keep the first max-seq-length tokens, as TRL) or drop");
  auto* ratio = prep->add_option("--val-ratio", p->val_ratio, "Share of examples held out for validation, in [0, 1)");
  auto* count = prep->add_option("--val-count", p->val_count, "Number of examples held out for validation");
  auto* hratio = prep->add_option("--holdout-ratio", p->holdout_ratio,
                                  "Share of examples kept out of training and validation, for scitune eval, in [0, 1)");
  auto* hcount = prep->add_option("--holdout-count", p->holdout_count, "Number of examples in the holdout split");
  hratio->excludes(hcount);
  ratio->excludes(count);
  prep->add_option("--seed", p->seed, "Seed for sampling and shuffling (default 42)");
  prep->add_option("--format", p->format,
                   "Record layout: auto (per file, from the first record), messages, sharegpt, alpaca, sciriff, "
                   "prompt_completion, text or tokens");
  prep->add_option("--filter-dataset", p->filter_dataset,
                   "Keep only records whose \"dataset\" field (the source tag in SciRIFF-train-mix, OS_Train_Data "
                   "and other Tulu-style mixtures) matches: comma-separated globs, '!' to exclude, e.g. "
                   "'science.*' or '!science.*'. Applies to every --data, before sampling; a record without the "
                   "field is rejected");
  prep->add_option("--chat-format", p->chat_format, "auto (from the tokenizer), gemma3 or gemma4");
  prep->add_flag("--strip-response-markers", p->strip_markers,
                 "Remove OpenScholar's literal [Response_Start] / [Response_End] from answers");
  prep->add_flag("--strict", p->strict, "Stop at the first rejected record instead of counting it");
  prep->add_option("--threads", p->threads, "Tokenizer threads (default: one per core)");
  prep->add_flag("--force", p->force, "Replace the prepared data in --out if it exists");
  prep->callback([p] { prepare(*p); });

  auto q = std::make_shared<InspectArgs>();
  auto* insp = cmd->add_subcommand("inspect",
                                   "Print a prepared dataset's report and one example decoded, with its "
                                   "trained tokens marked");
  insp->add_option("dir", q->dir, "Folder written by `scitune data prepare`")->required();
  insp->add_option("--split", q->split, "train, validation or holdout (default train)");
  insp->add_option("--example", q->example, "Which example to show (default 0, the first)");
  insp->add_option("--tokenizer", q->tokenizer, "Tokenizer to decode with (default: the one recorded at prepare)");
  insp->callback([q] { inspect(*q); });
}

}  // namespace scitune::cli
