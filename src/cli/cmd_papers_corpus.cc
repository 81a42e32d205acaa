// `scitune papers chunk` and `scitune papers report`: what to do with a corpus.jsonl from `papers parse`.
//   scitune papers chunk CORPUS --out DIR [--tokenizer PATH] [--max-tokens 512] [--overlap 64]
//       [--by tokens|words] [--val-ratio R | --val-count N] [--holdout-ratio R | --holdout-count N] [--seed S]
//       [--force]
//     writes DIR/train.jsonl, validation.jsonl, holdout.jsonl (text datasets for `data prepare` / `train`),
//     DIR/chunks.jsonl (for retrieval) and DIR/manifest.json (papers/chunk.h)
//   scitune papers report CORPUS --out DIR [--tokenizer PATH] [--seed S] [--font TTF] [--force]
//     writes DIR/index.html (papers/corpus_report.h)
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "papers/chunk.h"
#include "papers/corpus_report.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct ChunkArgs {
  std::string corpus, out, tokenizer, by;
  int64_t max_tokens = 512, overlap = 64;
  double val_ratio = 0.1, holdout_ratio = 0.1;
  int64_t val_count = -1, holdout_count = -1;
  uint64_t seed = 42;
  bool force = false;
};

struct ReportArgs {
  std::string corpus, out, tokenizer, font = TextMeasurer::kDefaultFont;
  uint64_t seed = 42;
  bool force = false;
};

std::string plural(int64_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

void chunk(const ChunkArgs& a) {
  std::optional<Tokenizer> tok;
  if (!a.tokenizer.empty()) tok = Tokenizer::load(a.tokenizer);
  ChunkOptions c;
  // Tokens when there is a tokenizer to count them with, words otherwise.
  c.unit = a.by.empty() ? (tok ? ChunkUnit::kTokens : ChunkUnit::kWords) : parse_chunk_unit(a.by);
  c.max_tokens = a.max_tokens;
  c.overlap = a.overlap;
  c.tokenizer = tok ? &*tok : nullptr;
  if (tok) c.tokenizer_path = std::filesystem::absolute(a.tokenizer).lexically_normal().string();
  check_chunk_options(c);
  SplitOptions s;
  s.val_ratio = a.val_ratio;
  s.holdout_ratio = a.holdout_ratio;
  s.val_count = a.val_count;
  s.holdout_count = a.holdout_count;
  s.seed = a.seed;
  const std::vector<PaperDocument> papers = read_corpus(a.corpus);
  const ChunkSummary r = write_chunked_corpus(papers, a.out, c, s, a.force ? Overwrite::kYes : Overwrite::kNo);
  for (const SkippedPaper& p : r.skipped)
    std::fprintf(stderr, "note: skipped %s (%s): %s\n", p.file.c_str(), p.id.c_str(), p.reason.c_str());
  if (r.oversized > 0)
    std::fprintf(stderr, "note: %s longer than --max-tokens %lld (a single word, kept whole)\n",
                 plural(r.oversized, "chunk").c_str(), static_cast<long long>(c.max_tokens));
  if (verbosity() > 0) {
    std::printf("chunked %s into %s of at most %lld %s (overlap %lld)\n", plural(r.papers, "paper").c_str(),
                plural(r.chunks, "chunk").c_str(), static_cast<long long>(c.max_tokens), to_string(c.unit),
                static_cast<long long>(c.overlap));
    std::printf("  train       %s, %s\n", plural(r.train_papers, "paper").c_str(),
                plural(r.train_chunks, "chunk").c_str());
    std::printf("  validation  %s, %s\n", plural(r.validation_papers, "paper").c_str(),
                plural(r.validation_chunks, "chunk").c_str());
    std::printf("  holdout     %s, %s\n", plural(r.holdout_papers, "paper").c_str(),
                plural(r.holdout_chunks, "chunk").c_str());
    if (!r.skipped.empty())
      std::printf("  skipped     %s\n", plural(static_cast<int64_t>(r.skipped.size()), "paper").c_str());
    std::printf("wrote %s/{train,validation,holdout}.jsonl, chunks.jsonl, manifest.json\n", a.out.c_str());
  }
}

void report(const ReportArgs& a) {
  std::optional<Tokenizer> tok;
  if (!a.tokenizer.empty()) tok = Tokenizer::load(a.tokenizer);
  CorpusReportOptions o;
  o.seed = a.seed;
  o.tokenizer = tok ? &*tok : nullptr;
  o.font = a.font;
  const auto warnings = write_corpus_report(a.corpus, a.out, o, a.force ? Overwrite::kYes : Overwrite::kNo);
  for (const std::string& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (verbosity() > 0) std::printf("wrote %s\n", (std::filesystem::path(a.out) / "index.html").c_str());
}

}  // namespace

void register_papers_corpus(CLI::App* papers) {
  auto c = std::make_shared<ChunkArgs>();
  CLI::App* ch = papers->add_subcommand(
      "chunk",
      "Split the papers of a corpus.jsonl into overlapping chunks (never mid-word): text datasets for training, "
      "split by paper into train / validation / holdout, and a chunk file for retrieval");
  ch->add_option("CORPUS", c->corpus, "corpus.jsonl written by `scitune papers parse`")->required();
  ch->add_option("--out", c->out,
                 "Output folder: train.jsonl, validation.jsonl, holdout.jsonl, chunks.jsonl, "
                 "manifest.json")
      ->required();
  ch->add_option("--tokenizer", c->tokenizer,
                 "Count Gemma tokens with this tokenizer (model folder, "
                 "tokenizer.json or .gguf)");
  ch->add_option("--max-tokens", c->max_tokens, "Largest chunk, in --by units (default 512)");
  ch->add_option("--overlap", c->overlap,
                 "Units repeated from the end of one chunk at the start of the next "
                 "(default 64)");
  ch->add_option("--by", c->by, "tokens or words (default: tokens with --tokenizer, else words)");
  auto* vr = ch->add_option("--val-ratio", c->val_ratio, "Share of papers for validation, in [0, 1) (default 0.1)");
  auto* vc = ch->add_option("--val-count", c->val_count, "Number of papers for validation");
  auto* hr = ch->add_option("--holdout-ratio", c->holdout_ratio,
                            "Share of papers held out from training and validation, in [0, 1) (default 0.1)");
  auto* hc = ch->add_option("--holdout-count", c->holdout_count, "Number of papers held out");
  vr->excludes(vc);
  hr->excludes(hc);
  ch->add_option("--seed", c->seed, "Seed of the split by paper (default 42)");
  ch->add_flag("--force", c->force, "Replace the files in --out if they exist");
  ch->callback([c] { chunk(*c); });

  auto r = std::make_shared<ReportArgs>();
  CLI::App* rep = papers->add_subcommand(
      "report",
      "Write an HTML page about a corpus.jsonl: words per paper, word clouds, top terms, pages / words / tokens, "
      "parse problems");
  rep->add_option("CORPUS", r->corpus, "corpus.jsonl written by `scitune papers parse`")->required();
  rep->add_option("--out", r->out, "Output folder (the page is DIR/index.html)")->required();
  rep->add_option("--tokenizer", r->tokenizer, "Count Gemma tokens per paper with this tokenizer");
  rep->add_option("--seed", r->seed, "Seed of the word-cloud layouts (default 42)");
  rep->add_option(
      "--font", r->font,
      "DejaVuSans.ttf to measure the word clouds with (default /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf)");
  rep->add_flag("--force", r->force, "Replace DIR/index.html if it exists");
  rep->callback([r] { report(*r); });
}

}  // namespace scitune::cli
