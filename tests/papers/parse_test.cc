// papers parse: real PDFs from Debian's texlive-publishers-doc (tests/golden/papers/README.md) compared word by
// word with pdftotext's text of the same files (committed beside them), plus PDFs written here byte by byte:
// metadata, ligatures, hyphenation, two columns drawn out of order, running headers and page numbers, scans,
// and bad input (random bytes, truncated, huge page counts) that must give a record with a reason, never a crash.
#include "papers/parse.h"

#include <gtest/gtest.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "papers/clean_text.h"
#include "papers/corpus.h"
#include "papers/pdf_text.h"
#include "papers/sections.h"
#include "test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::TempDirTest;

const fs::path kDir = fs::path(SCITUNE_SOURCE_DIR) / "tests" / "golden" / "papers";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// ---- word-level F1, as SQuAD counts it: NFKC, lower case, words = runs of letters and digits ----

std::vector<std::string> words_of(const std::string& text) {
  UErrorCode st = U_ZERO_ERROR;
  const icu::UnicodeString u = icu::Normalizer2::getNFKCInstance(st)->normalize(icu::UnicodeString::fromUTF8(text), st);
  std::vector<std::string> out;
  icu::UnicodeString w;
  auto flush = [&] {
    if (w.isEmpty()) return;
    std::string s;
    w.toUTF8String(s);
    out.push_back(std::move(s));
    w.remove();
  };
  for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) {
    const UChar32 c = u.char32At(i);
    if (u_isalnum(c))
      w.append(u_tolower(c));
    else
      flush();
  }
  flush();
  return out;
}

double word_f1(const std::string& ours, const std::string& reference) {
  std::map<std::string, int64_t> a, b;
  int64_t na = 0, nb = 0, common = 0;
  for (auto& w : words_of(ours)) ++a[w], ++na;
  for (auto& w : words_of(reference)) ++b[w], ++nb;
  for (const auto& [w, n] : a)
    if (auto it = b.find(w); it != b.end()) common += std::min(n, it->second);
  if (common == 0) return 0;
  const double p = static_cast<double>(common) / na, r = static_cast<double>(common) / nb;
  return 2 * p * r / (p + r);
}

PaperDocument parse(const std::string& name, bool drop_references = false) {
  ParseOptions o;
  o.drop_references = drop_references;
  return parse_pdf_file(kDir / name, o);
}

// ---- a tiny PDF writer: Helvetica (WinAnsi, codes 128-130 = fi fl ffi ligature glyphs), one stream per page ----

struct PdfSpec {
  std::vector<std::string> pages;  // content streams
  std::string info;                // an Info dictionary, or empty
  int64_t count = -1;              // /Count to claim (default: the number of pages)
  std::string extra_resources;     // added to each page's /Resources
};

std::string make_pdf(const PdfSpec& spec) {
  std::vector<std::string> objs;
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (size_t i = 0; i < spec.pages.size(); ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " +
                 std::to_string(spec.count >= 0 ? spec.count : static_cast<int64_t>(spec.pages.size())) + " >>");
  objs.push_back(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /BaseEncoding "
      "/WinAnsiEncoding /Differences [128 /fi /fl /ffi] >> >>");
  for (size_t i = 0; i < spec.pages.size(); ++i) {
    objs.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> " +
                   spec.extra_resources + " >> /Contents " + std::to_string(5 + 2 * i) + " 0 R >>");
    objs.push_back("<< /Length " + std::to_string(spec.pages[i].size()) + " >>\nstream\n" + spec.pages[i] +
                   "\nendstream");
  }
  if (!spec.info.empty()) objs.push_back(spec.info);
  std::string out = "%PDF-1.4\n";
  std::vector<size_t> offs;
  for (size_t i = 0; i < objs.size(); ++i) {
    offs.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  const size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  char buf[32];
  for (size_t o : offs) {
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", o);
    out += buf;
  }
  out += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R";
  if (!spec.info.empty()) out += " /Info " + std::to_string(objs.size()) + " 0 R";
  out += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

// Text lines at (x, y) in 10-point Helvetica.
std::string text_at(const std::vector<std::tuple<double, double, std::string>>& lines, double size = 10) {
  std::string s = "BT /F1 " + std::to_string(size) + " Tf\n";
  for (const auto& [x, y, t] : lines)
    s += "1 0 0 1 " + std::to_string(x) + " " + std::to_string(y) + " Tm (" + t + ") Tj\n";
  return s + "ET";
}

PaperDocument parse_bytes(const std::string& pdf, bool drop_references = false) {
  ParseOptions o;
  o.drop_references = drop_references;
  return parse_pdf_bytes(as_bytes(pdf), "generated.pdf", o);
}

// Every record must survive the corpus writer and reader (valid UTF-8, offsets inside the text, ...).
void expect_valid_record(const PaperDocument& d) {
  ASSERT_EQ(static_cast<int64_t>(d.page_offsets.size()), d.pages) << d.file;
  const PaperDocument back = paper_from_json(nlohmann::json::parse(to_json(d).dump()), d.file);
  EXPECT_EQ(back.text, d.text);
  EXPECT_EQ(d.id, d.sha256.substr(0, 16));
  EXPECT_FALSE(d.status.empty());
  if (!d.ok()) {
    EXPECT_FALSE(d.problems.empty()) << d.file << " " << d.status;
  }
}

// ---- real PDFs ----

TEST(PapersParse, WordF1AgainstPdftotextPerFile) {
  const std::vector<std::string> files = {"revtex4-1_apssamp", "elsarticle_elstest-5p", "llncs_llncsdoc", "acmconf",
                                          "acmart_sample-acmcp"};
  std::printf("%-28s %6s %7s %7s %8s\n", "file", "pages", "words", "ref", "F1");
  for (const std::string& f : files) {
    const PaperDocument d = parse(f + ".pdf");
    const std::string ref = slurp(kDir / (f + ".pdftotext.txt"));
    ASSERT_TRUE(d.ok()) << f << ": " << d.status;
    const double f1 = word_f1(d.text, ref);
    std::printf("%-28s %6lld %7zu %7zu %8.4f\n", f.c_str(), static_cast<long long>(d.pages), words_of(d.text).size(),
                words_of(ref).size(), f1);
    EXPECT_GE(f1, 0.98) << f;
    expect_valid_record(d);
    ::testing::Test::RecordProperty("f1_" + f, std::to_string(f1));
  }
}

TEST(PapersParse, TwoColumnsReadLeftColumnFirst) {
  const PaperDocument d = parse("revtex4-1_apssamp.pdf");
  // Left column of page 1, one paragraph across its lines, before the right column's first paragraph.
  const size_t left = d.text.find(
      "When commands are referred to in this example file, they are always shown with their required arguments, "
      "using normal TEX format.");
  const size_t right = d.text.find("This file may be formatted in either the preprint or reprint style.");
  ASSERT_NE(left, std::string::npos) << d.text.substr(0, 3000);
  ASSERT_NE(right, std::string::npos);
  EXPECT_LT(left, right);
  // The full-width abstract comes before both columns.
  EXPECT_LT(d.text.find("An article usually includes an abstract"), left);
}

TEST(PapersParse, HyphenatedWordsAreJoined) {
  const PaperDocument d = parse("revtex4-1_apssamp.pdf");
  EXPECT_NE(d.text.find("arguments to commands. For example"), std::string::npos);  // com- / mands
  EXPECT_NE(d.text.find("can be introduced using"), std::string::npos);             // in- / troduced
  EXPECT_EQ(d.text.find("com- mands"), std::string::npos);
  // A compound the paper spells with a hyphen mid-line keeps it at a line break too.
  PdfSpec s;
  s.pages = {text_at({{72, 600, "a self-consistent field and then a self-"}, {72, 586, "consistent one"}})};
  const PaperDocument g = parse_bytes(make_pdf(s));
  EXPECT_EQ(g.text, "a self-consistent field and then a self-consistent one");
}

TEST(PapersParse, LigaturesBecomeLetters) {
  const PaperDocument d = parse("llncs_llncsdoc.pdf");
  const std::string ref = slurp(kDir / "llncs_llncsdoc.pdftotext.txt");
  ASSERT_NE(ref.find("\xEF\xAC\x81"), std::string::npos);  // pdftotext keeps U+FB01
  for (const char* lig : {"\xEF\xAC\x80", "\xEF\xAC\x81", "\xEF\xAC\x82", "\xEF\xAC\x83", "\xEF\xAC\x84"})
    EXPECT_EQ(d.text.find(lig), std::string::npos);
  EXPECT_NE(d.text.find("first"), std::string::npos);
  EXPECT_NE(d.text.find("defining"), std::string::npos);
}

TEST(PapersParse, NonAsciiNamesInNfc) {
  const PaperDocument a = parse("acmconf.pdf");                        // accents drawn apart from their letters by TeX
  EXPECT_NE(a.text.find("J\xC3\xBCrgen Vollmer"), std::string::npos);  // ü as one character
  EXPECT_NE(a.text.find("Tolu\xC5\xA1is"), std::string::npos);         // š
  EXPECT_EQ(to_nfc(a.text), a.text);
  const PaperDocument b = parse("acmart_sample-acmcp.pdf");
  EXPECT_NE(b.text.find("The Th\xC3\xB8rv\xC3\xA4ld Group"), std::string::npos);
  EXPECT_NE(b.text.find("VALERIE B\xC3\x89RANGER"), std::string::npos);
  const PaperDocument c = parse("elsarticle_elstest-5p.pdf");
  EXPECT_NE(c.text.find("A. Lema\xC3\xAEtre"), std::string::npos);  // \^{\i}
}

TEST(PapersParse, MetadataAndTitleFallback) {
  const PaperDocument e = parse("elsarticle_elstest-5p.pdf");
  EXPECT_EQ(e.authors, "Jos Migchielsen; CV Radhakrishnan; CV Rajagopal;");
  EXPECT_EQ(e.date, "2018-06-08");
  EXPECT_EQ(e.pages, 4);
  const PaperDocument a = parse("acmconf.pdf");  // metadata Title "acmconf.dvi": the first page's biggest type
  EXPECT_EQ(a.title, "The acmconf Class Typesetting Papers for Proceedings of the ACM");
  EXPECT_FALSE(plausible_title("Microsoft Word - draft3.docx"));
  EXPECT_FALSE(plausible_title("paper.dvi"));
  EXPECT_TRUE(plausible_title("Bose-Einstein condensation of excitons"));
}

TEST(PapersParse, SectionsAndDroppingReferences) {
  const PaperDocument d = parse("elsarticle_elstest-5p.pdf");
  std::vector<std::string> titles;
  for (const auto& s : d.sections) titles.push_back(s.title);
  const std::vector<std::string> want = {"Abstract",
                                         "1. Introduction",
                                         "2. Evanescent vs. conventional quadrupole light-matter coupling",
                                         "3. Results and discussion",
                                         "4. Appendix",
                                         "References"};
  EXPECT_EQ(titles, want);
  for (size_t i = 0; i < d.sections.size(); ++i) {
    const auto& s = d.sections[i];
    EXPECT_EQ(d.text.compare(static_cast<size_t>(s.begin), s.title.size(), s.title), 0) << s.title;
    EXPECT_EQ(d.page_of(s.begin), s.first_page);
    if (i + 1 < d.sections.size()) {
      EXPECT_LT(s.end, d.sections[i + 1].begin);
    }
  }
  EXPECT_EQ(d.sections.back().first_page, 4);
  EXPECT_NE(d.text.find("A. J. Leggett, Rev. Mod. Phys."), std::string::npos);

  const PaperDocument n = parse("elsarticle_elstest-5p.pdf", true);
  EXPECT_EQ(n.text.find("A. J. Leggett, Rev. Mod. Phys."), std::string::npos);
  EXPECT_EQ(n.sections.size(), d.sections.size() - 1);
  EXPECT_LT(n.text.size(), d.text.size());
  expect_valid_record(n);
}

TEST(PapersParse, PageOffsetsPointAtEachPage) {
  const PaperDocument d = parse("llncs_llncsdoc.pdf");
  ASSERT_EQ(d.pages, 7);
  ASSERT_EQ(d.page_offsets.size(), 7u);
  EXPECT_EQ(d.page_offsets[0], 0);
  // Page 3 begins with the registry paragraph (pdftotext: first body line of page 3).
  const size_t at = d.text.find("The ORCID (Open Researcher and Contributor ID) registry");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(d.page_of(static_cast<int64_t>(at)), 3);
  // Running page numbers at the top of pages 2..7 are gone.
  EXPECT_EQ(d.text.find("\n\n2\n\n"), std::string::npos);
}

TEST(PapersParse, EncryptedFiles) {
  const PaperDocument u = parse("elsarticle_elstest-5p_user-password.pdf");
  EXPECT_EQ(u.status, "encrypted");
  ASSERT_FALSE(u.problems.empty());
  EXPECT_NE(u.problems[0].find("password"), std::string::npos);
  EXPECT_TRUE(u.text.empty());
  expect_valid_record(u);
  // Encrypted with an owner password only: opens without one, same text as the plain file.
  const PaperDocument o = parse("acmconf_owner-password.pdf");
  EXPECT_TRUE(o.ok()) << o.status;
  EXPECT_EQ(o.text, parse("acmconf.pdf").text);
}

TEST(PapersParse, NoTextLayer) {
  const PaperDocument d = parse("aiaa_figure_magnet.pdf");  // an image only
  EXPECT_EQ(d.status, "no text layer");
  EXPECT_EQ(d.pages, 1);
  expect_valid_record(d);
  // A generated "scan": one page painting an 8x8 grey inline image, no text.
  PdfSpec s;
  s.pages = {"q 400 0 0 500 100 100 cm BI /W 8 /H 8 /CS /G /BPC 8 ID " + std::string(64, '\x80') + " EI Q"};
  const PaperDocument g = parse_bytes(make_pdf(s));
  EXPECT_EQ(g.status, "no text layer");
  ASSERT_FALSE(g.problems.empty());
  EXPECT_NE(g.problems[0].find("OCR"), std::string::npos);
}

// ---- generated PDFs ----

TEST(PapersParse, GeneratedMetadataAndLigatureGlyphs) {
  PdfSpec s;
  s.pages = {text_at({{72, 700,
                       "The \x80nal \x81ow of e\x82"
                       "cient work"}})};
  s.info = "<< /Title (A Generated Paper) /Author (Ann Author) /CreationDate (D:20240102030405Z) >>";
  const PaperDocument d = parse_bytes(make_pdf(s));
  ASSERT_TRUE(d.ok()) << d.status;
  EXPECT_EQ(d.text, "The final flow of efficient work");
  EXPECT_EQ(d.title, "A Generated Paper");
  EXPECT_EQ(d.authors, "Ann Author");
  EXPECT_EQ(d.date, "2024-01-02");
  EXPECT_EQ(d.id.size(), 16u);
}

TEST(PapersParse, GeneratedTwoColumnsDrawnOutOfOrder) {
  // The content stream alternates left and right lines, row by row; reading order must not.
  std::vector<std::tuple<double, double, std::string>> lines = {
      {100, 740, "A Title Across The Whole Page Of The Paper"}};
  for (int i = 0; i < 12; ++i) {
    lines.emplace_back(300 + 20, 700 - 14 * i, "right" + std::to_string(i) + " rrrr rrrr rrrr rrrr rrrr rr");
    lines.emplace_back(72, 700 - 14 * i, "left" + std::to_string(i) + " llll llll llll llll llll lll");
  }
  PdfSpec s;
  s.pages = {text_at(lines)};
  const PaperDocument d = parse_bytes(make_pdf(s));
  std::vector<size_t> pos;
  for (int i = 0; i < 12; ++i) pos.push_back(d.text.find("left" + std::to_string(i) + " "));
  for (int i = 0; i < 12; ++i) pos.push_back(d.text.find("right" + std::to_string(i) + " "));
  for (size_t i = 0; i < pos.size(); ++i) {
    ASSERT_NE(pos[i], std::string::npos) << i << "\n" << d.text;
    if (i > 0) {
      EXPECT_LT(pos[i - 1], pos[i]) << i << "\n" << d.text;
    }
  }
  EXPECT_LT(d.text.find("A Title Across The Whole Page Of The Paper"), pos[0]);
}

TEST(PapersParse, GeneratedRunningHeadersPageNumbersAndHyphens) {
  PdfSpec s;
  const std::vector<std::string> nth = {"one", "two", "three"};
  for (int p = 1; p <= 3; ++p) {
    s.pages.push_back(text_at({{72, 760, "Journal of Generated Tests 12 \\(2024\\) " + std::to_string(p * 7)},
                               {72, 600, "Body text of page " + nth[p - 1] + " goes on with an exam-"},
                               {72, 586, "ple of hyphenation and more words"},
                               {300, 40, std::to_string(p)}}));
  }
  const PaperDocument d = parse_bytes(make_pdf(s));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.text.find("Journal of Generated Tests"), std::string::npos) << d.text;
  EXPECT_NE(d.text.find("goes on with an example of hyphenation"), std::string::npos) << d.text;
  ASSERT_EQ(d.page_offsets.size(), 3u);
  EXPECT_EQ(d.text.compare(static_cast<size_t>(d.page_offsets[1]), 21, "Body text of page two"), 0) << d.text;
  EXPECT_EQ(d.words(), 3 * 15);  // nothing but the body: headers and page numbers gone
}

TEST(PapersParse, CleanLine) {
  EXPECT_EQ(clean_line("e\xEF\xAC\x83"
                       "cient \xEF\xAC\x81nal"),
            "efficient final");
  EXPECT_EQ(clean_line("a\x01"
                       "b\x7f"
                       "c\xC2\x85"
                       "d"),
            "abcd");                                                      // C0, DEL, C1
  EXPECT_EQ(clean_line("  two\xC2\xA0\xC2\xA0spaces\t "), "two spaces");  // nbsp, tab, trim
  EXPECT_EQ(clean_line("Caf"
                       "e\xCC\x81"),
            "Caf\xC3\xA9");                                  // NFC
  EXPECT_EQ(clean_line("J\xC2\xA8urgen"), "J\xC3\xBCrgen");  // spacing diaeresis before u
  EXPECT_EQ(clean_line("/\xCB\x9C"
                       "Charlie"),
            "/\xCB\x9C"
            "Charlie");  // no precomposed C-tilde: kept
  EXPECT_EQ(clean_line("soft\xC2\xADhyphen"), "softhyphen");
  EXPECT_EQ(clean_line("bad\xFF\xFEutf8"), "bad\xEF\xBF\xBD\xEF\xBF\xBDutf8");
}

TEST(PapersParse, Headings) {
  auto h = [](const std::string& t, bool bold = false, double size = 10, int lines = 1) {
    Paragraph p;
    p.text = t, p.bold = bold, p.font_size = size, p.lines = lines;
    const auto r = detect_heading(p, 10);
    return r ? r->title + (r->references ? " [refs]" : "") : std::string("-");
  };
  EXPECT_EQ(h("1 Introduction"), "1 Introduction");
  EXPECT_EQ(h("INTRODUCTION"), "INTRODUCTION");
  EXPECT_EQ(h("IV. RESULTS"), "IV. RESULTS");
  EXPECT_EQ(h("References"), "References [refs]");
  EXPECT_EQ(h("Bibliography"), "Bibliography [refs]");
  EXPECT_EQ(h("Appendix A: Proofs"), "Appendix A: Proofs");
  EXPECT_EQ(h("2.1 Data Collection", true), "2.1 Data Collection");
  EXPECT_EQ(h("2.1 Data Collection", false, 12), "2.1 Data Collection");
  EXPECT_EQ(h("2.1 Data Collection"), "-");  // numbered but set like the body: a list item
  EXPECT_EQ(h("Abstract. We show that the method works on every case we tried so far.", false, 10, 3), "Abstract");
  EXPECT_EQ(h("The results are in Table 2."), "-");
}

TEST(PapersParse, LayoutOfSyntheticWords) {
  // A full-width title, then two columns of four lines; words given right column first.
  std::vector<PdfWord> words;
  auto word = [&](const std::string& t, double x, double y) {
    PdfWord w;
    w.text = t, w.x0 = x, w.x1 = x + 6.0 * static_cast<double>(t.size()), w.y0 = y, w.y1 = y + 10, w.font_size = 10;
    words.push_back(w);
  };
  word("Title", 250, 50);
  for (int i = 0; i < 6; ++i) word("R" + std::to_string(i) + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 320, 100 + 12.0 * i);
  for (int i = 0; i < 6; ++i) word("L" + std::to_string(i) + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 60, 100 + 12.0 * i);
  const std::vector<PdfLine> lines = layout_page(words);
  std::string order;
  for (const auto& l : lines) order += l.text.substr(0, 2) + " ";
  EXPECT_EQ(order, "Ti L0 L1 L2 L3 L4 L5 R0 R1 R2 R3 R4 R5 ");
  EXPECT_EQ(lines[1].column, 1);
  EXPECT_EQ(lines[7].column, 2);
}

// ---- bad input ----

TEST(PapersParse, BadBytesGiveAReasonNotACrash) {
  std::mt19937 rng(7);
  std::string random(4096, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  const PaperDocument r = parse_bytes(random);
  EXPECT_EQ(r.status, "malformed");
  EXPECT_NE(r.problems[0].find("not a PDF"), std::string::npos);
  expect_valid_record(r);

  EXPECT_EQ(parse_bytes("").status, "malformed");
  const PaperDocument g = parse_bytes("%PDF-1.7\n" + random);
  EXPECT_EQ(g.status, "malformed");
  expect_valid_record(g);

  // Truncated: the last 40% of a real file is gone.
  const std::string full = slurp(kDir / "revtex4-1_apssamp.pdf");
  const PaperDocument t = parse_bytes(full.substr(0, full.size() * 6 / 10));
  EXPECT_EQ(t.status, "truncated");
  expect_valid_record(t);
  for (size_t cut : {size_t{10}, size_t{100}, size_t{1000}, full.size() / 3, full.size() - 10}) {
    const PaperDocument c = parse_bytes(full.substr(0, cut));
    EXPECT_FALSE(c.ok()) << cut;
    expect_valid_record(c);
  }
}

TEST(PapersParse, HugePageCounts) {
  PdfSpec s;
  s.pages = {text_at({{72, 700, "only one real page"}})};
  s.count = 2000000000;
  const PaperDocument d = parse_bytes(make_pdf(s));
  EXPECT_FALSE(d.ok());
  EXPECT_LE(d.pages, 1);
  EXPECT_FALSE(d.problems.empty());
  expect_valid_record(d);
  // A real page count over --max-pages: the first pages are read and the rest reported.
  PdfSpec many;
  for (int i = 0; i < 5; ++i) many.pages.push_back(text_at({{72, 700, "page " + std::to_string(i + 1) + " text"}}));
  ParseOptions o;
  o.read.max_pages = 2;
  const PaperDocument m = parse_pdf_bytes(as_bytes(make_pdf(many)), "many.pdf", o);
  EXPECT_TRUE(m.ok());
  EXPECT_EQ(m.pages, 2);
  ASSERT_FALSE(m.problems.empty());
  EXPECT_NE(m.problems[0].find("5 pages; read the first 2"), std::string::npos) << m.problems[0];
}

class PapersBatch : public TempDirTest {};

TEST_F(PapersBatch, BadFilesDoNotStopTheBatchAndOrderIsKept) {
  std::ofstream(dir_ / "random.pdf") << "this is not a pdf at all";
  const std::string full = slurp(kDir / "acmconf.pdf");
  std::ofstream(dir_ / "truncated.pdf", std::ios::binary) << full.substr(0, full.size() / 2);
  std::vector<fs::path> paths = {kDir / "acmconf.pdf",
                                 dir_ / "random.pdf",
                                 kDir / "aiaa_figure_magnet.pdf",
                                 dir_ / "truncated.pdf",
                                 kDir / "elsarticle_elstest-5p_user-password.pdf",
                                 kDir / "llncs_llncsdoc.pdf",
                                 dir_ / "missing.pdf"};
  ParseOptions one, three;
  one.jobs = 1, three.jobs = 3;
  size_t calls = 0;
  const auto a = parse_pdf_files(paths, three, [&](size_t, const PaperDocument&) { ++calls; });
  const auto b = parse_pdf_files(paths, one);
  EXPECT_EQ(calls, paths.size());
  ASSERT_EQ(a.size(), paths.size());
  const std::vector<std::string> want = {"ok",        "malformed", "no text layer", "truncated",
                                         "encrypted", "ok",        "unreadable"};
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(a[i].status, want[i]) << paths[i];
    EXPECT_EQ(a[i].text, b[i].text) << paths[i];
    EXPECT_EQ(a[i].file, paths[i].string());
  }
  // The whole batch round-trips through corpus.jsonl.
  write_corpus(dir_ / "corpus.jsonl", a, false);
  const auto back = read_corpus(dir_ / "corpus.jsonl");
  ASSERT_EQ(back.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(back[i].text, a[i].text);
    EXPECT_EQ(back[i].page_offsets, a[i].page_offsets);
    EXPECT_EQ(back[i].sections.size(), a[i].sections.size());
  }
}

TEST_F(PapersBatch, CollectInputs) {
  fs::create_directories(dir_ / "a" / "b");
  std::ofstream(dir_ / "a" / "x.pdf") << "x";
  std::ofstream(dir_ / "a" / "b" / "Y.PDF") << "y";
  std::ofstream(dir_ / "a" / "notes.txt") << "z";
  const auto got = collect_pdf_inputs({(dir_ / "a").string(), (dir_ / "a" / "x.pdf").string()});
  ASSERT_EQ(got.size(), 2u);  // x.pdf once
  EXPECT_EQ(got[0].filename(), "Y.PDF");
  EXPECT_EQ(got[1].filename(), "x.pdf");
  EXPECT_NE(testing::error_of([&] { collect_pdf_inputs({(dir_ / "nope").string()}); }).find("no such file"),
            std::string::npos);
  fs::create_directories(dir_ / "empty");
  EXPECT_NE(testing::error_of([&] { collect_pdf_inputs({(dir_ / "empty").string()}); }).find("no *.pdf"),
            std::string::npos);
}

}  // namespace
}  // namespace scitune
