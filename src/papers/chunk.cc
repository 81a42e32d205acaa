#include "papers/chunk.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "util/error.h"
#include "util/splitmix.h"

namespace scitune {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

bool is_space(unsigned char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

struct Word {
  int64_t begin, end;  // bytes of the paper's text
};

std::vector<Word> split_words(const std::string& text) {
  std::vector<Word> words;
  const int64_t n = static_cast<int64_t>(text.size());
  for (int64_t i = 0; i < n;) {
    while (i < n && is_space(static_cast<unsigned char>(text[i]))) ++i;
    if (i == n) break;
    const int64_t b = i;
    while (i < n && !is_space(static_cast<unsigned char>(text[i]))) ++i;
    words.push_back({b, i});
  }
  return words;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// What a window of words costs in the chunking unit. Token costs are cached per (whitespace before, word):
// a paper repeats most of its words.
class WordCost {
 public:
  WordCost(const PaperDocument& paper, const std::vector<Word>& words, const ChunkOptions& o)
      : paper_(paper), words_(words), o_(o) {}
  // The cost of word i; `first`: it opens the chunk, so the whitespace before it is not in the chunk.
  int64_t operator()(size_t i, bool first) {
    if (o_.unit == ChunkUnit::kWords) return 1;
    const int64_t from = first || i == 0 ? words_[i].begin : words_[i - 1].end;
    std::string key = paper_.text.substr(from, words_[i].end - from);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    const int64_t n = static_cast<int64_t>(o_.tokenizer->encode(key).size());
    cache_.emplace(std::move(key), n);
    return n;
  }

 private:
  const PaperDocument& paper_;
  const std::vector<Word>& words_;
  const ChunkOptions& o_;
  std::unordered_map<std::string, int64_t> cache_;
};

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

ChunkUnit parse_chunk_unit(const std::string& name) {
  if (name == "words") return ChunkUnit::kWords;
  if (name == "tokens") return ChunkUnit::kTokens;
  fail("--by " + name + ": expected tokens or words");
}

const char* to_string(ChunkUnit unit) { return unit == ChunkUnit::kTokens ? "tokens" : "words"; }

void check_chunk_options(const ChunkOptions& o) {
  if (o.max_tokens < 1) fail("--max-tokens " + std::to_string(o.max_tokens) + ": expected at least 1");
  if (o.overlap < 0 || o.overlap >= o.max_tokens)
    fail("--overlap " + std::to_string(o.overlap) + ": expected 0 <= overlap < --max-tokens (" +
         std::to_string(o.max_tokens) + ")");
  if (o.unit == ChunkUnit::kTokens && !o.tokenizer)
    fail("--by tokens needs --tokenizer (a model folder, tokenizer.json or .gguf); without one, use --by words");
}

std::vector<Chunk> chunk_paper(const PaperDocument& paper, const ChunkOptions& o) {
  check_chunk_options(o);
  const std::vector<Word> words = split_words(paper.text);
  // Section starts in text order; a word belongs to the section it starts in.
  std::vector<std::pair<int64_t, const std::string*>> starts;
  for (const CorpusSection& s : paper.sections) starts.emplace_back(s.begin, &s.title);
  std::stable_sort(starts.begin(), starts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  starts.erase(
      std::unique(starts.begin(), starts.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
      starts.end());
  auto section_of = [&](const Word& w) -> int64_t {
    const auto it =
        std::upper_bound(starts.begin(), starts.end(), w.begin, [](int64_t v, const auto& s) { return v < s.first; });
    return static_cast<int64_t>(it - starts.begin()) - 1;  // -1: before the first section
  };

  WordCost cost(paper, words, o);
  std::vector<Chunk> chunks;
  auto emit = [&](size_t first, size_t last, int64_t section, bool oversized, std::string text,
                  std::optional<int64_t> n_tokens) {
    Chunk c;
    char idx[32];
    std::snprintf(idx, sizeof idx, "%04zu", chunks.size());
    c.id = paper.id + "-" + idx;
    c.paper_id = paper.id;
    c.title = paper.title;
    c.section = section < 0 ? "" : *starts[static_cast<size_t>(section)].second;
    c.index = static_cast<int64_t>(chunks.size());
    c.begin = words[first].begin;
    c.end = words[last - 1].end;
    c.page_start = paper.page_of(c.begin);
    c.page_end = paper.page_of(c.end - 1);
    c.n_words = static_cast<int64_t>(last - first);
    c.n_tokens = n_tokens;
    c.oversized = oversized;
    c.text = std::move(text);
    chunks.push_back(std::move(c));
  };
  auto slice = [&](size_t first, size_t last) {
    return paper.text.substr(words[first].begin, words[last - 1].end - words[first].begin);
  };
  auto count_tokens = [&](const std::string& text) { return static_cast<int64_t>(o.tokenizer->encode(text).size()); };

  for (size_t seg_begin = 0; seg_begin < words.size();) {
    const int64_t section = section_of(words[seg_begin]);
    size_t seg_end = seg_begin + 1;
    while (seg_end < words.size() && section_of(words[seg_end]) == section) ++seg_end;
    for (size_t start = seg_begin;;) {
      size_t end = start;
      int64_t sum = 0;
      while (end < seg_end) {
        const int64_t c = cost(end, end == start);
        if (sum + c > o.max_tokens) break;
        sum += c;
        ++end;
      }
      bool oversized = end == start;
      if (oversized) end = start + 1;
      std::string text = slice(start, end);
      std::optional<int64_t> n_tokens;
      if (o.tokenizer) {
        n_tokens = count_tokens(text);
        // Per-word costs are close but not exact (BPE merges across a space, the first word's missing space):
        // the window's own encoding decides.
        while (o.unit == ChunkUnit::kTokens && *n_tokens > o.max_tokens && end > start + 1) {
          --end;
          text = slice(start, end);
          n_tokens = count_tokens(text);
        }
        if (o.unit == ChunkUnit::kTokens && *n_tokens > o.max_tokens) oversized = true;
      }
      emit(start, end, section, oversized, std::move(text), n_tokens);
      if (end >= seg_end) break;
      size_t next = end;
      for (int64_t kept = 0; next > start + 1;) {
        const int64_t c = cost(next - 1, false);
        if (kept + c > o.overlap) break;
        kept += c;
        --next;
      }
      start = next;
    }
    seg_begin = seg_end;
  }
  return chunks;
}

PaperSplit split_papers(const std::vector<std::string>& ids, const SplitOptions& o) {
  const int64_t n = static_cast<int64_t>(ids.size());
  auto count_of = [&](double ratio, int64_t count, const char* ratio_flag) -> int64_t {
    if (count >= 0) return count;
    if (!(ratio >= 0 && ratio < 1))
      fail(std::string(ratio_flag) + " " + format_number(ratio) + ": expected a value in [0, 1)");
    return static_cast<int64_t>(std::llround(ratio * static_cast<double>(n)));
  };
  const int64_t v = count_of(o.val_ratio, o.val_count, "--val-ratio");
  const int64_t h = count_of(o.holdout_ratio, o.holdout_count, "--holdout-ratio");
  if (n > 0 && v + h >= n)
    fail(std::to_string(n) + " paper" + (n == 1 ? "" : "s") + " to split, but validation takes " + std::to_string(v) +
         " and holdout " + std::to_string(h) +
         ", leaving none for training: lower --val-ratio/--val-count or --holdout-ratio/--holdout-count");
  std::vector<std::pair<uint64_t, std::string>> ranked;
  for (const std::string& id : ids) ranked.emplace_back(splitmix64(o.seed ^ fnv1a(id)), id);
  std::sort(ranked.begin(), ranked.end());
  std::map<std::string, int> where;  // 1 validation, 2 holdout
  for (int64_t i = 0; i < std::min<int64_t>(n, v + h); ++i) where[ranked[i].second] = i < v ? 1 : 2;
  PaperSplit s;
  for (const std::string& id : ids) {
    const auto it = where.find(id);
    (it == where.end() ? s.train : it->second == 1 ? s.validation : s.holdout).push_back(id);
  }
  return s;
}

ChunkSummary write_chunked_corpus(const std::vector<PaperDocument>& papers, const fs::path& dir,
                                  const ChunkOptions& chunking, const SplitOptions& split, Overwrite overwrite) {
  check_chunk_options(chunking);
  if (overwrite == Overwrite::kNo)
    for (const char* f : kChunkFiles)
      if (fs::exists(dir / f))
        fail((dir / f).string() + ": already exists (use --force to replace the chunks in " + dir.string() + ")");

  ChunkSummary sum;
  std::vector<std::vector<Chunk>> per_paper;
  std::vector<std::string> ids;
  std::map<std::string, std::string> seen;  // id -> file
  for (const PaperDocument& p : papers) {
    if (!p.ok()) {
      std::string reason = "status \"" + p.status + "\"";
      if (!p.problems.empty()) reason += ": " + p.problems.front();
      sum.skipped.push_back({p.id, p.file, reason});
      continue;
    }
    if (auto it = seen.find(p.id); it != seen.end()) {
      sum.skipped.push_back({p.id, p.file, "duplicate of " + it->second + " (same id)"});
      continue;
    }
    std::vector<Chunk> chunks = chunk_paper(p, chunking);
    if (chunks.empty()) {
      sum.skipped.push_back({p.id, p.file, "no text"});
      continue;
    }
    seen.emplace(p.id, p.file);
    ids.push_back(p.id);
    per_paper.push_back(std::move(chunks));
  }
  if (ids.empty())
    fail("no paper to chunk: all " + std::to_string(papers.size()) + " were skipped" +
         (sum.skipped.empty() ? std::string()
                              : " (first: " + sum.skipped.front().file + ": " + sum.skipped.front().reason + ")"));
  const PaperSplit ps = split_papers(ids, split);
  std::map<std::string, const char*> split_of;
  for (const auto& id : ps.validation) split_of[id] = "validation";
  for (const auto& id : ps.holdout) split_of[id] = "holdout";

  std::string train, validation, holdout, all;
  const auto dump = [](const ojson& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto it = split_of.find(ids[i]);
    const std::string name = it == split_of.end() ? "train" : it->second;
    std::string& out = name == "train" ? train : name == "validation" ? validation : holdout;
    int64_t& n_chunks = name == "train"        ? sum.train_chunks
                        : name == "validation" ? sum.validation_chunks
                                               : sum.holdout_chunks;
    for (const Chunk& c : per_paper[i]) {
      out += dump(ojson{{"text", c.text}, {"id", c.id}, {"paper_id", c.paper_id}});
      all += dump(ojson{{"id", c.id},
                        {"paper_id", c.paper_id},
                        {"split", name},
                        {"title", c.title},
                        {"section", c.section},
                        {"page_start", c.page_start},
                        {"page_end", c.page_end},
                        {"n_words", c.n_words},
                        {"n_tokens", c.n_tokens ? ojson(*c.n_tokens) : ojson(nullptr)},
                        {"text", c.text}});
      ++n_chunks;
      ++sum.chunks;
      sum.oversized += c.oversized;
    }
  }
  sum.papers = static_cast<int64_t>(ids.size());
  sum.train_papers = static_cast<int64_t>(ps.train.size());
  sum.validation_papers = static_cast<int64_t>(ps.validation.size());
  sum.holdout_papers = static_cast<int64_t>(ps.holdout.size());

  ojson skipped = ojson::array();
  for (const SkippedPaper& s : sum.skipped) skipped.push_back({{"id", s.id}, {"file", s.file}, {"reason", s.reason}});
  ojson options = {{"by", to_string(chunking.unit)},
                   {"max_tokens", chunking.max_tokens},
                   {"overlap", chunking.overlap},
                   {"tokenizer", !chunking.tokenizer_path.empty() ? ojson(chunking.tokenizer_path)
                                 : chunking.tokenizer             ? ojson(chunking.tokenizer->source())
                                                                  : ojson(nullptr)},
                   {"seed", split.seed}};
  if (split.val_count >= 0)
    options["val_count"] = split.val_count;
  else
    options["val_ratio"] = split.val_ratio;
  if (split.holdout_count >= 0)
    options["holdout_count"] = split.holdout_count;
  else
    options["holdout_ratio"] = split.holdout_ratio;
  const ojson manifest = {{"options", options},
                          {"papers", sum.papers},
                          {"chunks", sum.chunks},
                          {"oversized_chunks", sum.oversized},
                          {"splits",
                           {{"train", {{"papers", ps.train}, {"chunks", sum.train_chunks}}},
                            {"validation", {{"papers", ps.validation}, {"chunks", sum.validation_chunks}}},
                            {"holdout", {{"papers", ps.holdout}, {"chunks", sum.holdout_chunks}}}}},
                          {"skipped", skipped}};

  fs::create_directories(dir);
  write_file_atomic(dir / "train.jsonl", train, overwrite);
  write_file_atomic(dir / "validation.jsonl", validation, overwrite);
  write_file_atomic(dir / "holdout.jsonl", holdout, overwrite);
  write_file_atomic(dir / "chunks.jsonl", all, overwrite);
  write_file_atomic(dir / "manifest.json",
                    manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", overwrite);
  return sum;
}

}  // namespace scitune
