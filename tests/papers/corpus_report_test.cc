// papers report: one self-contained page with the words-per-paper chart, a cloud for the corpus and one per paper
// with text, top terms counted in the body only (back matter left out), pages / words / tokens per paper, every
// parse problem, everything from the corpus escaped, the same bytes for the same seed.
#include "papers/corpus_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tokenizer/tokenizer_test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using ::testing::HasSubstr;
using ::testing::Not;

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

PaperDocument paper(const std::string& id, const std::string& title, const std::string& body,
                    const std::string& references) {
  PaperDocument d;
  d.id = id;
  d.file = "pdfs/" + id + ".pdf";
  d.sha256 = std::string(64, 'a');
  d.title = title;
  d.authors = "A. Author, B. Author";
  d.status = "ok";
  d.text = "Introduction\n\n" + body;
  d.sections.push_back({"1 Introduction", 1, 0, static_cast<int64_t>(d.text.size())});
  d.page_offsets = {0};
  if (!references.empty()) {
    d.text += "\n\n";
    d.page_offsets.push_back(static_cast<int64_t>(d.text.size()));
    const int64_t b = static_cast<int64_t>(d.text.size());
    d.text += "References\n\n" + references;
    d.sections.push_back({"References", 2, b, static_cast<int64_t>(d.text.size())});
  }
  d.pages = static_cast<int64_t>(d.page_offsets.size());
  return d;
}

std::vector<PaperDocument> corpus() {
  std::vector<PaperDocument> docs;
  docs.push_back(paper("p1", "Membrane protein folding <kinetics>",
                       "Membrane protein folding kinetics were measured. The membrane protein unfolds; membrane "
                       "proteins fold in two states. Folding of the membrane protein is fast.",
                       "Journalofthings 12 (2001). Journalofthings 14 (2003)."));
  docs.push_back(
      paper("p2", "", "Ion channels gate ion flow across the membrane. Channels open; ion selectivity.", ""));
  PaperDocument bad;
  bad.id = "p3";
  bad.file = "pdfs/locked.pdf";
  bad.sha256 = std::string(64, 'b');
  bad.status = "encrypted";
  bad.problems = {"pdfs/locked.pdf: the document is encrypted <owner password>"};
  docs.push_back(bad);
  return docs;
}

TEST(CorpusReport, BackMatterSections) {
  for (const char* t : {"References", "REFERENCES", "7 References", "VII. References", "Bibliography",
                        "Acknowledgments", "Acknowledgements", "8. Acknowledgement", "Literature Cited"})
    EXPECT_TRUE(is_back_matter_section(t)) << t;
  for (const char* t : {"Introduction", "Reference frames", "2 Methods", "", "A. Proofs"})
    EXPECT_FALSE(is_back_matter_section(t)) << t;
  const PaperDocument p = corpus()[0];
  const std::string body = body_text(p);
  EXPECT_THAT(body, HasSubstr("membrane protein unfolds"));
  EXPECT_THAT(body, Not(HasSubstr("Journalofthings")));
  EXPECT_EQ(body_text(corpus()[1]), corpus()[1].text);
}

TEST(CorpusReport, StatsPerPaper) {
  const auto docs = corpus();
  const auto stats = paper_stats(docs, nullptr);
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].pages, 2);
  EXPECT_EQ(stats[0].words, docs[0].words());
  EXPECT_EQ(stats[0].body_words, docs[0].words() - 7);  // "References" and its 6 words
  EXPECT_EQ(stats[0].sections, 2);
  EXPECT_FALSE(stats[0].tokens.has_value());
  EXPECT_EQ(stats[2].words, 0);
}

TEST(CorpusReport, OnePageWithChartsCloudsTermsAndProblems) {
  CorpusReportOptions o;
  o.corpus_name = "corpus.jsonl";
  const CorpusReport r = render_corpus_report(corpus(), o);
  const std::string& h = r.html;
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(h, Not(HasSubstr("<script")));
  // Loads nothing: the only URLs are the SVG namespace.
  EXPECT_EQ(count_of(h, "http://"), count_of(h, "xmlns=\"http://www.w3.org/2000/svg\""));
  // Words per paper: one bar per paper, the untitled one named by its file.
  EXPECT_THAT(h, HasSubstr("data-bars=\"3\""));
  EXPECT_THAT(h, HasSubstr("#2 p2.pdf"));
  // A cloud for the corpus and one per paper with text (not the encrypted one).
  EXPECT_EQ(count_of(h, "class=\"chart cloud\""), 3u);
  EXPECT_THAT(h, HasSubstr("font-family=\"DejaVu Sans, sans-serif\""));
  // Top terms: membrane leads (4 in p1, 1 in p2); reference-only words and stop words are absent.
  EXPECT_THAT(h, HasSubstr("<td>membrane</td><td class=\"n\">5</td>"));
  EXPECT_THAT(h, HasSubstr("<td>ion</td>"));
  EXPECT_THAT(h, Not(HasSubstr("Journalofthings")));
  EXPECT_THAT(h, Not(HasSubstr("<td>the</td>")));
  // Escaped title and problem text.
  EXPECT_THAT(h, HasSubstr("Membrane protein folding &lt;kinetics&gt;"));
  EXPECT_THAT(h, Not(HasSubstr("<kinetics>")));
  EXPECT_THAT(h, HasSubstr("the document is encrypted &lt;owner password&gt;"));
  EXPECT_THAT(h, HasSubstr("<span class=\"bad\">encrypted</span>"));
  // No tokenizer: the tokens column says so.
  EXPECT_THAT(h, HasSubstr("run with --tokenizer"));
  // The same corpus and seed give the same bytes; another seed moves the clouds.
  EXPECT_EQ(render_corpus_report(corpus(), o).html, h);
  o.seed = 1;
  EXPECT_NE(render_corpus_report(corpus(), o).html, h);
}

TEST(CorpusReport, NoProblemsAndEmptyCorpus) {
  auto docs = corpus();
  docs.pop_back();
  const CorpusReport r = render_corpus_report(docs, CorpusReportOptions{});
  EXPECT_THAT(r.html, HasSubstr("No parse problems"));
  const CorpusReport e = render_corpus_report({}, CorpusReportOptions{});
  EXPECT_THAT(e.html, HasSubstr("No paper has body text"));
  EXPECT_THAT(e.html, HasSubstr(">no data</text>"));
}

TEST(CorpusReport, FontFallbackIsAWarningOnThePage) {
  CorpusReportOptions o;
  o.font = "/nonexistent/DejaVuSans.ttf";
  const CorpusReport r = render_corpus_report(corpus(), o);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("/nonexistent/DejaVuSans.ttf: cannot be read as a font"));
  EXPECT_THAT(r.html, HasSubstr("cannot be read as a font"));
  EXPECT_EQ(count_of(r.html, "class=\"chart cloud\""), 3u);
}

TEST(CorpusReport, TokensWithTheRealTokenizer) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const auto docs = corpus();
  const auto stats = paper_stats(docs, tok);
  for (size_t i = 0; i < docs.size(); ++i)
    EXPECT_EQ(*stats[i].tokens, static_cast<int64_t>(tok->encode(docs[i].text).size()));
  CorpusReportOptions o;
  o.tokenizer = tok;
  EXPECT_THAT(render_corpus_report(docs, o).html, Not(HasSubstr("run with --tokenizer")));
}

class CorpusReportFiles : public testing::TempDirTest {};

TEST_F(CorpusReportFiles, WritesIndexHtmlAndRefusesToOverwrite) {
  write_corpus(dir_ / "corpus.jsonl", corpus(), false);
  const auto warnings = write_corpus_report(dir_ / "corpus.jsonl", dir_ / "report", CorpusReportOptions{});
  const fs::path page = dir_ / "report/index.html";
  ASSERT_TRUE(fs::exists(page));
  std::stringstream s;
  s << std::ifstream(page, std::ios::binary).rdbuf();
  CorpusReportOptions o;
  o.corpus_name = (dir_ / "corpus.jsonl").string();
  EXPECT_EQ(s.str(), render_corpus_report(corpus(), o).html);
  EXPECT_THAT(error_of([&] { write_corpus_report(dir_ / "corpus.jsonl", dir_ / "report", CorpusReportOptions{}); }),
              HasSubstr("index.html: already exists (use --force"));
  write_corpus_report(dir_ / "corpus.jsonl", dir_ / "report", CorpusReportOptions{}, Overwrite::kYes);
  EXPECT_THAT(error_of([&] { write_corpus_report(dir_ / "missing.jsonl", dir_ / "r2", CorpusReportOptions{}); }),
              HasSubstr("missing.jsonl: cannot open"));
}

}  // namespace
}  // namespace scitune
