// Positioned PDF lines -> clean paragraphs: ligatures (ﬁ ﬂ ...) spelled out, control characters dropped,
// Unicode in NFC (ICU), running headers, footers and page numbers removed by comparing the page edges across
// the document, lines re-joined into paragraphs from their geometry (a justified line that reaches the column's
// right edge continues; a short line, an indented line, a gap, a change of size or weight starts anew, also
// across columns and pages), and words hyphenated at a line end joined again (the hyphen is kept where the
// document spells the word with one elsewhere).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "papers/pdf_text.h"

namespace scitune {

struct Paragraph {
  std::string text;  // cleaned, one line (no '\n'), never empty
  int64_t page = 1;  // 1-based page of its first line
  // Where text from a later page begins inside `text`: (byte offset, 1-based page), increasing.
  std::vector<std::pair<size_t, int64_t>> page_starts;
  double font_size = 0;  // of its first line
  bool bold = false;     // its first line is bold
  int lines = 0;         // PDF lines joined into it
};

struct CleanStats {
  int64_t edge_lines_removed = 0;  // running headers / footers / page numbers
  int64_t hyphens_joined = 0;      // words re-joined across a line break
};

// One PDF line's text: ligatures spelled out, spacing accents attached to their letter, control and zero-width
// characters dropped, odd spaces made plain, runs of spaces collapsed, ends trimmed, NFC. Invalid UTF-8 becomes
// U+FFFD, so the result is always valid UTF-8.
std::string clean_line(std::string_view s);

// Any bytes -> valid UTF-8 (invalid sequences become U+FFFD), NFC.
std::string to_nfc(std::string_view s);

// The whole cleaning pass over a document's pages (in reading order).
std::vector<Paragraph> clean_pages(const std::vector<PdfPage>& pages, CleanStats* stats = nullptr);

}  // namespace scitune
