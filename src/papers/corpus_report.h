// `scitune papers report`: one self-contained HTML page about a corpus.jsonl — summary cards, words per paper
// (bar chart), a word cloud of the corpus and one per paper, the top terms, pages / words / tokens per paper,
// and every parse problem. All figures are inline SVG; the page holds no scripts and loads nothing.
//
// Terms (clouds and the top-terms table) are counted in the body text: sections titled References,
// Bibliography or Acknowledgements are left out, since author names, journals and grant numbers would
// otherwise lead every cloud. The same corpus, options and seed give the same bytes.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "papers/corpus.h"
#include "papers/word_cloud.h"
#include "tokenizer/tokenizer.h"
#include "util/atomic_file.h"

namespace scitune {

struct CorpusReportOptions {
  uint64_t seed = 42;                    // word-cloud layouts
  const Tokenizer* tokenizer = nullptr;  // tokens per paper; the column shows "–" without one
  std::filesystem::path font = TextMeasurer::kDefaultFont;
  std::string corpus_name;  // shown under the heading (the corpus file)
  size_t top_terms = 40;
  size_t corpus_cloud_words = 150, paper_cloud_words = 60;
  size_t max_bars = 80;           // papers in the words-per-paper chart (the most words first beyond this)
  size_t max_paper_clouds = 200;  // per-paper clouds, in corpus order; the rest are left out and counted
};

// True for a section the term counts skip ("References", "7. Bibliography", "Acknowledgments", ...).
bool is_back_matter_section(const std::string& title);
// The paper's text without its back-matter sections.
std::string body_text(const PaperDocument& paper);

struct PaperStats {
  int64_t pages = 0, words = 0, body_words = 0, sections = 0;
  std::optional<int64_t> tokens;
};
// Per paper, in corpus order; tokens with the tokenizer (encoded on all cores).
std::vector<PaperStats> paper_stats(const std::vector<PaperDocument>& papers, const Tokenizer* tokenizer);

struct CorpusReport {
  std::string html;
  std::vector<std::string> warnings;  // also on the page: the font fallback, clouds left out
};
CorpusReport render_corpus_report(const std::vector<PaperDocument>& papers, const CorpusReportOptions& options);

// Reads the corpus and writes DIR/index.html (DIR created if needed); an existing page is replaced only with
// Overwrite::kYes. Returns the warnings.
std::vector<std::string> write_corpus_report(const std::filesystem::path& corpus, const std::filesystem::path& dir,
                                             CorpusReportOptions options, Overwrite overwrite = Overwrite::kNo);

}  // namespace scitune
