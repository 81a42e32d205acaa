// arXiv identifiers: both schemes (new YYMM.NNNN[N] since April 2007, old archive/YYMMNNN before), with or
// without a version, to the PDF URL and a file name. Parsing is strict so a typo is named instead of becoming a
// 404 after a network round trip.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace scitune {

struct ArxivId {
  std::string id;       // canonical, as arXiv spells it: "2101.01234v2", "hep-th/9901001", "math.GT/0309136v1"
  std::string version;  // "v2", or "" for the latest
  bool old_style = false;
};

// Parses "2101.01234", "2101.01234v2", "hep-th/9901001", "cs/0112017v1", with an optional "arXiv:" prefix.
// On failure returns nullopt and, if `why` is given, says what is wrong ("month 13 is not 01-12", ...).
std::optional<ArxivId> parse_arxiv_id(std::string_view text, std::string* why = nullptr);

// The PDF on arXiv or a mirror serving the same paths (export.arxiv.org, a local test server): BASE/pdf/ID.
std::string arxiv_pdf_url(const ArxivId& id, std::string_view base = "https://arxiv.org");

// File name for the PDF: "2101.01234v2.pdf", "hep-th_9901001.pdf" (the slash cannot be in a file name).
std::string arxiv_file_name(const ArxivId& id);

}  // namespace scitune
