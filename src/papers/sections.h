// Sections of a paper from its cleaned paragraphs, and the document text assembled from them. A heading is a
// short paragraph that either names a usual section (Abstract, Introduction, Methods, ..., References,
// Appendix; numbered or not, any case) or is numbered ("2.1 Data", "IV. RESULTS") and set apart by weight or
// size; an abstract run into its paragraph ("Abstract. We ...", "Abstract—We ...") counts too. Each section
// runs from its heading to the next one; text before the first heading (title, authors) is in no section.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "papers/clean_text.h"
#include "papers/corpus.h"

namespace scitune {

struct Heading {
  std::string title;        // as printed: "2.1 Data", "Abstract", "REFERENCES"
  bool references = false;  // the reference list (References, Bibliography, Literature cited, ...)
};

// Font size of most of the body text (paragraphs weighted by their length).
double body_font_size(const std::vector<Paragraph>& paras);

// The heading a paragraph is, if it is one.
std::optional<Heading> detect_heading(const Paragraph& p, double body_size);

struct AssembledText {
  std::string text;                   // paragraphs joined by "\n\n"
  std::vector<int64_t> page_offsets;  // size == pages, increasing
  std::vector<CorpusSection> sections;
  int64_t dropped_reference_paragraphs = 0;
};

// Joins paragraphs into one text with page offsets and sections; with drop_references the reference list
// (from its heading to the next heading) is left out.
AssembledText assemble_text(const std::vector<Paragraph>& paras, int64_t pages, bool drop_references);

}  // namespace scitune
