// papers chunk: chunks begin and end on word boundaries and hold exactly the paper's bytes, the overlap is the
// promised number of words, sections and page ranges are right, the split is by paper (no paper in two splits,
// independent of input order, fixed by the seed), and the text dataset goes through `data prepare` without a
// single reject, each example exactly <bos> + n_tokens + <eos>.
#include "papers/chunk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "data/prepare.h"
#include "tokenizer/tokenizer_test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::gemma3_tokenizer;
using ::testing::HasSubstr;
using testing::read_jsonl;

const char* kVocab[] = {"protein", "folding",  "kinetics",   "of",          "the",           "membrane",
                        "was",     "measured", "at",         "temperature", "(n=12),",       "spectroscopy",
                        "reveals", "β-sheet",  "formation;", "and",         "cross-linking", "in",
                        "vitro.",  "Results",  "suggest",    "a",           "two-state",     "model"};

// A paper built page by page and section by section, with the offsets a parser would record.
struct PaperBuilder {
  PaperDocument d;
  int64_t next_word = 0;
  explicit PaperBuilder(std::string id, std::string title = "A study") {
    d.id = std::move(id);
    d.file = d.id + ".pdf";
    d.sha256 = std::string(64, '0');
    d.title = std::move(title);
    d.status = "ok";
  }
  void separate() {
    if (!d.text.empty()) d.text += "\n\n";
  }
  PaperBuilder& page() {
    separate();
    d.page_offsets.push_back(static_cast<int64_t>(d.text.size()));
    d.pages = static_cast<int64_t>(d.page_offsets.size());
    return *this;
  }
  PaperBuilder& section(const std::string& title) {
    separate();
    if (!d.sections.empty()) d.sections.back().end = static_cast<int64_t>(d.text.size());
    d.sections.push_back({title, std::max<int64_t>(1, d.pages), static_cast<int64_t>(d.text.size()), 0});
    d.text += title;
    return *this;
  }
  PaperBuilder& para(int words) {
    separate();
    for (int i = 0; i < words; ++i, ++next_word) {
      if (i) d.text += (i % 11 == 0 ? "\n" : " ");
      d.text += kVocab[next_word % std::size(kVocab)];
    }
    return *this;
  }
  PaperDocument done() {
    if (!d.sections.empty()) d.sections.back().end = static_cast<int64_t>(d.text.size());
    return d;
  }
};

PaperDocument sample_paper(const std::string& id = "p1") {
  PaperBuilder b(id, "Protein folding kinetics");
  b.page().para(40);  // front matter: title block before the first section
  b.section("Abstract").para(90);
  b.section("1 Introduction").para(150).page().para(130);
  b.section("2 Methods").para(60).page().para(200);
  b.section("References").para(45);
  return b.done();
}

bool space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// Start offsets of the words of text[from, to).
std::vector<int64_t> word_starts(const std::string& text, int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t i = from; i < to; ++i)
    if (!space(text[i]) && (i == from || space(text[i - 1]))) out.push_back(i);
  return out;
}

std::string section_at(const PaperDocument& p, int64_t offset) {
  std::string s;
  for (const CorpusSection& sec : p.sections)
    if (sec.begin <= offset) s = sec.title;
  return s;
}

ChunkOptions words(int64_t max, int64_t overlap) {
  ChunkOptions o;
  o.max_tokens = max;
  o.overlap = overlap;
  o.unit = ChunkUnit::kWords;
  return o;
}

TEST(ChunkPaper, NeverMidWordAndTheTextIsThePapersBytes) {
  const PaperDocument p = sample_paper();
  for (int64_t max : {1, 7, 50, 512})
    for (const Chunk& c : chunk_paper(p, words(max, max / 4))) {
      ASSERT_LT(c.begin, c.end);
      EXPECT_EQ(c.text, p.text.substr(c.begin, c.end - c.begin));
      EXPECT_TRUE(c.begin == 0 || space(p.text[c.begin - 1])) << c.id;
      EXPECT_TRUE(c.end == static_cast<int64_t>(p.text.size()) || space(p.text[c.end])) << c.id;
      EXPECT_FALSE(space(c.text.front()));
      EXPECT_FALSE(space(c.text.back()));
      EXPECT_EQ(c.n_words, static_cast<int64_t>(word_starts(p.text, c.begin, c.end).size()));
      EXPECT_LE(c.n_words, max);
      EXPECT_FALSE(c.n_tokens.has_value());  // no tokenizer, no token count
    }
}

TEST(ChunkPaper, OverlapIsExactlyTheLastWordsOfThePreviousChunk) {
  const PaperDocument p = sample_paper();
  const std::vector<Chunk> chunks = chunk_paper(p, words(50, 10));
  int64_t covered = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    const bool last_in_section = i + 1 == chunks.size() || chunks[i + 1].section != c.section;
    if (!last_in_section) {
      EXPECT_EQ(c.n_words, 50) << c.id;  // full windows
      const Chunk& next = chunks[i + 1];
      const std::vector<int64_t> starts = word_starts(p.text, c.begin, c.end);
      EXPECT_EQ(next.begin, starts[starts.size() - 10]) << next.id;  // the last 10 words, exactly
      EXPECT_EQ(word_starts(p.text, next.begin, c.end).size(), 10u);
    }
    covered += c.n_words;
  }
  // Every word is in some chunk, once plus the overlaps.
  std::set<int64_t> seen;
  for (const Chunk& c : chunks)
    for (int64_t s : word_starts(p.text, c.begin, c.end)) seen.insert(s);
  EXPECT_EQ(static_cast<int64_t>(seen.size()), p.words());
  EXPECT_GT(covered, p.words());
  // Overlap 0: the chunks tile the words.
  int64_t total = 0;
  for (const Chunk& c : chunk_paper(p, words(50, 0))) total += c.n_words;
  EXPECT_EQ(total, p.words());
}

TEST(ChunkPaper, MetadataSectionsAndPageRanges) {
  const PaperDocument p = sample_paper("abc123");
  const std::vector<Chunk> chunks = chunk_paper(p, words(64, 8));
  ASSERT_FALSE(chunks.empty());
  std::set<std::string> sections;
  bool spans_pages = false;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    char id[64];
    std::snprintf(id, sizeof id, "abc123-%04zu", i);
    EXPECT_EQ(c.id, id);
    EXPECT_EQ(c.index, static_cast<int64_t>(i));
    EXPECT_EQ(c.paper_id, "abc123");
    EXPECT_EQ(c.title, "Protein folding kinetics");
    // A chunk never spans two sections.
    EXPECT_EQ(c.section, section_at(p, c.begin)) << c.id;
    EXPECT_EQ(c.section, section_at(p, c.end - 1)) << c.id;
    sections.insert(c.section);
    EXPECT_EQ(c.page_start, p.page_of(c.begin));
    EXPECT_EQ(c.page_end, p.page_of(c.end - 1));
    EXPECT_LE(c.page_start, c.page_end);
    spans_pages |= c.page_end > c.page_start;
  }
  EXPECT_EQ(sections, (std::set<std::string>{"", "Abstract", "1 Introduction", "2 Methods", "References"}));
  EXPECT_TRUE(spans_pages);
  EXPECT_EQ(chunks.front().section, "");  // the title block before the first heading
  EXPECT_EQ(chunks.front().page_start, 1);
  EXPECT_EQ(chunks.back().page_end, 3);
}

TEST(ChunkPaper, PagesCountFromOffsetsNotFromSections) {
  // Page 2 begins in the middle of a paragraph (a parser records page starts wherever they fall).
  PaperBuilder b("pp");
  b.page().section("Intro").para(30);
  PaperDocument p = b.done();
  const std::vector<int64_t> starts = word_starts(p.text, 0, static_cast<int64_t>(p.text.size()));
  p.page_offsets.push_back(starts[20]);
  p.pages = 2;
  const std::vector<Chunk> chunks = chunk_paper(p, words(10, 0));
  for (const Chunk& c : chunks) {
    const bool before = c.end <= starts[20];
    const bool after = c.begin >= starts[20];
    EXPECT_EQ(c.page_start, after ? 2 : 1) << c.id;
    EXPECT_EQ(c.page_end, before ? 1 : 2) << c.id;
  }
}

TEST(ChunkPaper, OptionsAreChecked) {
  const PaperDocument p = sample_paper();
  EXPECT_THAT(error_of([&] { chunk_paper(p, words(0, 0)); }), HasSubstr("--max-tokens 0"));
  EXPECT_THAT(error_of([&] { chunk_paper(p, words(10, 10)); }), HasSubstr("--overlap 10: expected 0 <= overlap"));
  EXPECT_THAT(error_of([&] { chunk_paper(p, words(10, -1)); }), HasSubstr("--overlap -1"));
  ChunkOptions t = words(10, 2);
  t.unit = ChunkUnit::kTokens;
  EXPECT_THAT(error_of([&] { chunk_paper(p, t); }), HasSubstr("--by tokens needs --tokenizer"));
  EXPECT_THAT(error_of([] { parse_chunk_unit("lines"); }), HasSubstr("--by lines: expected tokens or words"));
  PaperDocument empty = p;
  empty.text = "  \n\n ";
  empty.sections.clear();
  empty.page_offsets = {0};
  empty.pages = 1;
  EXPECT_TRUE(chunk_paper(empty, words(10, 2)).empty());
}

TEST(ChunkPaper, TokenWindowsHoldAtMostMaxTokensByTheRealTokenizer) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const PaperDocument p = sample_paper();
  ChunkOptions o;
  o.unit = ChunkUnit::kTokens;
  o.max_tokens = 40;
  o.overlap = 8;
  o.tokenizer = tok;
  const std::vector<Chunk> chunks = chunk_paper(p, o);
  ASSERT_GT(chunks.size(), 10u);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    ASSERT_TRUE(c.n_tokens.has_value());
    EXPECT_EQ(*c.n_tokens, static_cast<int64_t>(tok->encode(c.text).size())) << c.id;
    EXPECT_LE(*c.n_tokens, 40) << c.id;
    EXPECT_FALSE(c.oversized);
    EXPECT_TRUE(c.begin == 0 || space(p.text[c.begin - 1]));
    if (i + 1 < chunks.size() && chunks[i + 1].section == c.section) {
      // Windows are full (the next word would not have fitted), and the next one repeats a few whole words.
      EXPECT_GT(*c.n_tokens, 40 - 12) << c.id;
      const Chunk& next = chunks[i + 1];
      ASSERT_LT(next.begin, c.end);
      EXPECT_GT(next.begin, c.begin);
      const std::string shared = p.text.substr(next.begin, c.end - next.begin);
      EXPECT_LE(static_cast<int64_t>(tok->encode(shared).size()), 8 + 1) << shared;
    }
  }
  // Words mode with a tokenizer still counts tokens.
  o.unit = ChunkUnit::kWords;
  o.max_tokens = 30;
  for (const Chunk& c : chunk_paper(p, o)) EXPECT_EQ(*c.n_tokens, static_cast<int64_t>(tok->encode(c.text).size()));
}

TEST(ChunkPaper, AWordLongerThanAChunkIsKeptWhole) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  PaperBuilder b("long");
  b.page().section("Data").para(5);
  PaperDocument p = b.done();
  const std::string blob(600, 'Q');
  p.text += " " + blob + " tail words here";
  p.sections.back().end = static_cast<int64_t>(p.text.size());
  ChunkOptions o;
  o.unit = ChunkUnit::kTokens;
  o.max_tokens = 16;
  o.overlap = 2;
  o.tokenizer = tok;
  const std::vector<Chunk> chunks = chunk_paper(p, o);
  int oversized = 0;
  for (const Chunk& c : chunks) {
    if (c.text.find('Q') != std::string::npos) {
      EXPECT_EQ(c.text, blob);  // alone, whole
      EXPECT_TRUE(c.oversized);
      ++oversized;
    } else {
      EXPECT_LE(*c.n_tokens, 16);
    }
  }
  EXPECT_EQ(oversized, 1);
  EXPECT_NE(chunks.back().text.find("tail words here"), std::string::npos);
}

std::vector<std::string> ids(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("paper" + std::to_string(i));
  return out;
}

TEST(SplitPapers, ByPaperWithExactCountsIndependentOfOrder) {
  SplitOptions o;
  o.val_ratio = 0.1;
  o.holdout_ratio = 0.2;
  const std::vector<std::string> all = ids(40);
  const PaperSplit s = split_papers(all, o);
  EXPECT_EQ(s.validation.size(), 4u);
  EXPECT_EQ(s.holdout.size(), 8u);
  EXPECT_EQ(s.train.size(), 28u);
  std::set<std::string> seen;
  for (const auto* part : {&s.train, &s.validation, &s.holdout})
    for (const auto& id : *part) EXPECT_TRUE(seen.insert(id).second) << id << " is in two splits";
  EXPECT_EQ(seen, std::set<std::string>(all.begin(), all.end()));
  // Another input order: the same papers in each split (each listed in the order given).
  std::vector<std::string> shuffled = all;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const PaperSplit t = split_papers(shuffled, o);
  auto as_set = [](const std::vector<std::string>& v) { return std::set<std::string>(v.begin(), v.end()); };
  EXPECT_EQ(as_set(t.validation), as_set(s.validation));
  EXPECT_EQ(as_set(t.holdout), as_set(s.holdout));
  // Same seed, same split; another seed, another one.
  EXPECT_EQ(split_papers(all, o).validation, s.validation);
  o.seed = 43;
  EXPECT_NE(as_set(split_papers(all, o).validation), as_set(s.validation));
}

TEST(SplitPapers, CountsRatiosAndTheirLimits) {
  SplitOptions o;
  o.val_count = 3;
  o.holdout_count = 0;
  PaperSplit s = split_papers(ids(5), o);
  EXPECT_EQ(s.validation.size(), 3u);
  EXPECT_TRUE(s.holdout.empty());
  EXPECT_EQ(s.train.size(), 2u);
  // Default ratios round: one paper stays in training, five give one each.
  s = split_papers(ids(1), SplitOptions{});
  EXPECT_EQ(s.train.size(), 1u);
  s = split_papers(ids(5), SplitOptions{});
  EXPECT_EQ(s.validation.size(), 1u);
  EXPECT_EQ(s.holdout.size(), 1u);
  o.val_count = 4;
  o.holdout_count = 1;
  EXPECT_THAT(error_of([&] { split_papers(ids(5), o); }),
              HasSubstr("5 papers to split, but validation takes 4 and holdout 1, leaving none for training"));
  SplitOptions bad;
  bad.val_ratio = 1.5;
  EXPECT_THAT(error_of([&] { split_papers(ids(5), bad); }), HasSubstr("--val-ratio 1.5: expected a value in [0, 1)"));
}

class ChunkCorpus : public testing::TempDirTest {
 protected:
  std::vector<PaperDocument> corpus(int n) {
    std::vector<PaperDocument> docs;
    for (int i = 0; i < n; ++i) docs.push_back(sample_paper("id" + std::to_string(i)));
    return docs;
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST_F(ChunkCorpus, WritesSplitsByPaperAndTheChunkFile) {
  std::vector<PaperDocument> docs = corpus(12);
  docs[3].status = "encrypted";
  docs[3].problems = {"the PDF is encrypted"};
  PaperDocument copy = docs[5];  // the same file parsed twice
  copy.file = "copy.pdf";
  docs.push_back(copy);
  SplitOptions s;
  s.val_count = 2;
  s.holdout_count = 3;
  const ChunkSummary r = write_chunked_corpus(docs, dir_ / "out", words(60, 6), s);
  EXPECT_EQ(r.papers, 11);
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(r.skipped[0].id, "id3");
  EXPECT_EQ(r.skipped[0].reason, "status \"encrypted\": the PDF is encrypted");
  EXPECT_EQ(r.skipped[1].file, "copy.pdf");
  EXPECT_THAT(r.skipped[1].reason, HasSubstr("duplicate of id5.pdf"));
  EXPECT_EQ(r.validation_papers, 2);
  EXPECT_EQ(r.holdout_papers, 3);
  EXPECT_EQ(r.train_papers, 6);

  std::map<std::string, std::string> split_of_paper;
  int64_t total = 0;
  for (const char* split : {"train", "validation", "holdout"}) {
    const auto rows = read_jsonl(dir_ / "out" / (std::string(split) + ".jsonl"));
    for (const auto& row : rows) {
      ASSERT_TRUE(row.contains("text") && row["text"].is_string());
      EXPECT_EQ(detect_layout(row), Layout::kText);
      const std::string paper = row["paper_id"];
      auto [it, fresh] = split_of_paper.emplace(paper, split);
      EXPECT_EQ(it->second, split) << paper << " is in " << it->second << " and " << split;
    }
    total += static_cast<int64_t>(rows.size());
  }
  EXPECT_EQ(split_of_paper.size(), 11u);
  EXPECT_EQ(split_of_paper.count("id3"), 0u);
  EXPECT_EQ(total, r.chunks);

  const auto chunks = read_jsonl(dir_ / "out/chunks.jsonl");
  ASSERT_EQ(static_cast<int64_t>(chunks.size()), r.chunks);
  const nlohmann::json& c = chunks.front();
  std::vector<std::string> keys;
  for (auto it = c.begin(); it != c.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()),
            (std::set<std::string>{"id", "paper_id", "split", "title", "section", "page_start", "page_end", "n_words",
                                   "n_tokens", "text"}));
  EXPECT_EQ(c["id"], "id0-0000");
  EXPECT_EQ(c["title"], "Protein folding kinetics");
  EXPECT_TRUE(c["n_tokens"].is_null());
  for (const auto& row : chunks) EXPECT_EQ(row["split"], split_of_paper.at(row["paper_id"].get<std::string>()));

  const nlohmann::json m = nlohmann::json::parse(read(dir_ / "out/manifest.json"));
  EXPECT_EQ(m["papers"], 11);
  EXPECT_EQ(m["splits"]["holdout"]["papers"].size(), 3u);
  EXPECT_EQ(m["skipped"].size(), 2u);
  EXPECT_EQ(m["options"]["by"], "words");
  EXPECT_EQ(m["options"]["val_count"], 2);
}

TEST_F(ChunkCorpus, DeterministicAndRefusesToOverwrite) {
  const std::vector<PaperDocument> docs = corpus(9);
  write_chunked_corpus(docs, dir_ / "a", words(40, 5), SplitOptions{});
  write_chunked_corpus(docs, dir_ / "b", words(40, 5), SplitOptions{});
  for (const char* f : kChunkFiles) EXPECT_EQ(read(dir_ / "a" / f), read(dir_ / "b" / f)) << f;
  const std::string before = read(dir_ / "a/train.jsonl");
  EXPECT_THAT(error_of([&] { write_chunked_corpus(docs, dir_ / "a", words(30, 5), SplitOptions{}); }),
              HasSubstr("already exists (use --force"));
  EXPECT_EQ(read(dir_ / "a/train.jsonl"), before);
  write_chunked_corpus(docs, dir_ / "a", words(30, 5), SplitOptions{}, Overwrite::kYes);
  EXPECT_NE(read(dir_ / "a/train.jsonl"), before);
  // A corpus with nothing usable is an error, not empty files.
  std::vector<PaperDocument> bad = corpus(2);
  for (auto& d : bad) d.status = "no text layer";
  EXPECT_THAT(error_of([&] { write_chunked_corpus(bad, dir_ / "c", words(30, 5), SplitOptions{}); }),
              HasSubstr("no paper to chunk: all 2 were skipped"));
  EXPECT_FALSE(fs::exists(dir_ / "c/train.jsonl"));
}

TEST_F(ChunkCorpus, TheTextDatasetIsPreparedWithoutRejects) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  ChunkOptions o;
  o.unit = ChunkUnit::kTokens;
  o.max_tokens = 64;
  o.overlap = 8;
  o.tokenizer = tok;
  SplitOptions s;
  s.val_count = 1;
  s.holdout_count = 1;
  const ChunkSummary r = write_chunked_corpus(corpus(5), dir_ / "out", o, s);
  EXPECT_EQ(r.oversized, 0);
  for (const char* split : {"train", "validation", "holdout"}) {
    const fs::path file = dir_ / "out" / (std::string(split) + ".jsonl");
    DatasetSpec spec;
    spec.sources.push_back(parse_data_source(file.string()));
    spec.tokenize.max_seq_length = 64 + 2;  // <bos> + chunk + <eos>
    spec.tokenize.overlong = Overlong::kDrop;
    spec.tokenize.threads = 2;
    spec.keep_order = true;
    spec.strict = true;  // any reject throws
    const PreparedDataset d = prepare_dataset(spec, *tok);
    EXPECT_EQ(d.report.rejected(), 0) << split;
    EXPECT_EQ(d.report.truncated(), 0) << split;
    EXPECT_EQ(d.report.sources[0].layout, "text");
    const auto rows = read_jsonl(file);
    ASSERT_EQ(d.train.size(), rows.size()) << split;
    // Each example is exactly <bos> + the chunk's n_tokens + <eos>.
    std::map<std::string, int64_t> n_tokens;
    for (const auto& c : read_jsonl(dir_ / "out/chunks.jsonl"))
      n_tokens[c["id"].get<std::string>()] = c["n_tokens"].get<int64_t>();
    for (size_t i = 0; i < rows.size(); ++i) {
      const TokenizedExample& ex = d.train[i];
      EXPECT_EQ(ex.source, file.string() + ":" + std::to_string(i + 1));
      EXPECT_EQ(static_cast<int64_t>(ex.input_ids.size()), n_tokens.at(rows[i]["id"].get<std::string>()) + 2);
      EXPECT_EQ(ex.input_ids.front(), *tok->bos_id());
      EXPECT_EQ(ex.input_ids.back(), *tok->eos_id());
    }
  }
}

}  // namespace
}  // namespace scitune
