// `scitune papers chunk`: papers (corpus.jsonl) -> overlapping chunks for retrieval and a continued-pre-training
// text dataset, split by paper so a held-out paper is never seen in training.
//
// Chunking, per paper: the text is cut at section starts (a chunk never spans two sections; text before the
// first section has section ""), and each section into windows of whole words — a word is a maximal run of
// non-whitespace bytes, so a chunk begins and ends at a word boundary and its text is exactly the paper's
// bytes between them (paragraph breaks kept). A window holds as many words as fit in max_tokens, counted in
// the chosen unit:
//   words   one per word;
//   tokens  Gemma tokens: each word is costed as the tokens of (the whitespace before it + the word), and the
//           window's text is then encoded whole and shortened word by word until it has at most max_tokens.
// The next window starts `overlap` back: the longest run of the window's last words costing at most `overlap`
// (exactly `overlap` words in word units), always moving forward by at least one word. A single word longer
// than max_tokens becomes a chunk of its own (never cut) and is counted as oversized.
//
// Split: the papers that give chunks (status "ok", unique id) are ranked by splitmix64(seed ^ FNV-1a(id)); the
// first val_count (or round(val_ratio * n)) go to validation, the next holdout_count (or round(holdout_ratio * n))
// to holdout, the rest to train. The split depends on the seed and the set of ids only, not on their order.
//
// Output (DIR):
//   train.jsonl, validation.jsonl, holdout.jsonl  {"text", "id", "paper_id"} per chunk: the "text" layout of
//                                                 data/layouts.h, for `scitune data prepare` / `train --data`
//   chunks.jsonl   {"id", "paper_id", "split", "title", "section", "page_start", "page_end", "n_words",
//                   "n_tokens", "text"} per chunk, for retrieval (n_tokens null without a tokenizer)
//   manifest.json  options, counts, the paper ids of each split and the papers skipped with the reason
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "papers/corpus.h"
#include "tokenizer/tokenizer.h"
#include "util/atomic_file.h"

namespace scitune {

enum class ChunkUnit { kWords, kTokens };
// "words" or "tokens"; UserError otherwise.
ChunkUnit parse_chunk_unit(const std::string& name);
const char* to_string(ChunkUnit unit);

struct ChunkOptions {
  int64_t max_tokens = 512;  // per chunk, in `unit`
  int64_t overlap = 64;      // in `unit`; 0 <= overlap < max_tokens
  ChunkUnit unit = ChunkUnit::kWords;
  const Tokenizer* tokenizer = nullptr;  // needed for kTokens; with it n_tokens is counted in either unit
  std::string tokenizer_path;            // recorded in manifest.json (default: the tokenizer's source)
};

struct Chunk {
  std::string id;  // "<paper id>-<index, 4 digits>"
  std::string paper_id, title, section;
  int64_t index = 0;           // within the paper
  int64_t begin = 0, end = 0;  // bytes of PaperDocument::text
  int64_t page_start = 1, page_end = 1;
  int64_t n_words = 0;
  std::optional<int64_t> n_tokens;  // Gemma tokens of `text` (no <bos>/<eos>), when a tokenizer was given
  bool oversized = false;           // one word longer than max_tokens
  std::string text;
};

// UserError naming the option when max_tokens < 1, overlap outside [0, max_tokens) or kTokens without a tokenizer.
void check_chunk_options(const ChunkOptions& options);
std::vector<Chunk> chunk_paper(const PaperDocument& paper, const ChunkOptions& options);

struct SplitOptions {
  double val_ratio = 0.1, holdout_ratio = 0.1;  // in [0, 1), summing below 1
  int64_t val_count = -1, holdout_count = -1;   // override the ratios when >= 0
  uint64_t seed = 42;
};

struct PaperSplit {
  std::vector<std::string> train, validation, holdout;  // paper ids, in the order given
};
// UserError when the counts leave no paper for training (naming the numbers and the flags).
PaperSplit split_papers(const std::vector<std::string>& ids, const SplitOptions& options);

struct SkippedPaper {
  std::string id, file, reason;
};

struct ChunkSummary {
  int64_t papers = 0;  // papers chunked
  std::vector<SkippedPaper> skipped;
  int64_t chunks = 0, oversized = 0;
  int64_t train_papers = 0, validation_papers = 0, holdout_papers = 0;
  int64_t train_chunks = 0, validation_chunks = 0, holdout_chunks = 0;
};

inline constexpr const char* kChunkFiles[] = {"train.jsonl", "validation.jsonl", "holdout.jsonl", "chunks.jsonl",
                                              "manifest.json"};

// Chunks every usable paper, splits by paper and writes DIR (created if needed). Refuses, before writing
// anything, when one of the output files exists and overwrite is kNo.
ChunkSummary write_chunked_corpus(const std::vector<PaperDocument>& papers, const std::filesystem::path& dir,
                                  const ChunkOptions& chunking, const SplitOptions& split,
                                  Overwrite overwrite = Overwrite::kNo);

}  // namespace scitune
