// PDF -> positioned text lines in reading order, through poppler (poppler-cpp for the document, its
// TextOutputDev for the word boxes with their fonts). Each page's words are grouped into lines, the page is split into columns where a vertical gutter runs between many
// lines, and lines are ordered region by region: full-width lines (title, abstract, wide figures) cut the page
// into bands, and inside a band the left column is read before the right one. What went wrong (encrypted, no
// text layer, malformed, truncated, too many pages) is a status plus problems, never an exception, so one bad
// file cannot stop a batch. Cleaning (ligatures, hyphens, headers) is clean_text.h's job.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace scitune {

// One word box as poppler reports it; coordinates in points, origin top-left, y growing down.
struct PdfWord {
  std::string text;  // UTF-8
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double font_size = 0;
  bool bold = false;
  bool space_after = true;  // poppler saw a space between this word and the next on its line
};

struct PdfLine {
  std::string text;  // UTF-8, words joined with single spaces (none where poppler saw none)
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double font_size = 0;  // of most of its characters
  bool bold = false;     // most of its characters are in a bold face
  int column = 0;        // 0: spans the page (or a one-column page); 1: left column; 2: right column
  int block = 0;         // reading-order block: lines of one column within one band share it
};

struct PdfPage {
  double width = 0, height = 0;
  std::vector<PdfLine> lines;  // reading order
};

struct PdfReadOptions {
  int64_t max_pages = 10000;            // pages read per file; the rest are reported, not read
  int64_t max_words_per_page = 200000;  // a page beyond this is skipped with a problem (hostile content)
};

struct PdfText {
  std::string title, author, date;  // metadata (Info dictionary); date is the creation date, YYYY-MM-DD
  int64_t page_count = 0;           // pages the document says it has
  std::vector<PdfPage> pages;       // pages read (page_count or max_pages of them); empty when not opened
  std::string status = "ok";        // "ok", "encrypted", "malformed", "truncated", "no text layer", "empty"
  std::vector<std::string> problems;
};

// Never throws for bad bytes: status and problems say what happened. `bytes` must outlive the call only.
PdfText read_pdf_text(std::span<const uint8_t> bytes, const PdfReadOptions& options = {});

// Words of one page (in poppler's order) -> lines in reading order with column and block set. Exposed so the
// layout can be tested on synthetic pages.
std::vector<PdfLine> layout_page(const std::vector<PdfWord>& words);

}  // namespace scitune
