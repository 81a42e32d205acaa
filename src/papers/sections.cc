#include "papers/sections.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

namespace scitune {

namespace {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)); }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }

// Usual section names, lower case; `true` marks the reference list.
const std::vector<std::pair<std::string_view, bool>>& known_names() {
  static const std::vector<std::pair<std::string_view, bool>> names = {{"abstract", false},
                                                                       {"introduction", false},
                                                                       {"background", false},
                                                                       {"related work", false},
                                                                       {"related works", false},
                                                                       {"previous work", false},
                                                                       {"prior work", false},
                                                                       {"method", false},
                                                                       {"methods", false},
                                                                       {"methodology", false},
                                                                       {"materials and methods", false},
                                                                       {"material and methods", false},
                                                                       {"methods and materials", false},
                                                                       {"approach", false},
                                                                       {"experiments", false},
                                                                       {"experimental setup", false},
                                                                       {"experimental results", false},
                                                                       {"experimental section", false},
                                                                       {"evaluation", false},
                                                                       {"results", false},
                                                                       {"results and discussion", false},
                                                                       {"discussion", false},
                                                                       {"conclusion", false},
                                                                       {"conclusions", false},
                                                                       {"concluding remarks", false},
                                                                       {"conclusions and future work", false},
                                                                       {"summary", false},
                                                                       {"future work", false},
                                                                       {"limitations", false},
                                                                       {"acknowledgments", false},
                                                                       {"acknowledgements", false},
                                                                       {"acknowledgment", false},
                                                                       {"acknowledgement", false},
                                                                       {"funding", false},
                                                                       {"data availability", false},
                                                                       {"supplementary material", false},
                                                                       {"references", true},
                                                                       {"bibliography", true},
                                                                       {"literature cited", true},
                                                                       {"works cited", true},
                                                                       {"reference", true},
                                                                       {"literature", true}};
  return names;
}

// Length of a section number at the start: "2 ", "2.1 ", "2.1. ", "IV. ", "A. ", "A.1 "; 0 if none.
size_t number_prefix(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && is_digit(s[i])) {
    while (i < s.size() && (is_digit(s[i]) || (s[i] == '.' && i + 1 < s.size() && is_digit(s[i + 1])))) ++i;
    if (i < s.size() && s[i] == '.') ++i;
  } else {
    while (i < s.size() && std::string_view("IVX").find(s[i]) != std::string_view::npos) ++i;
    if (i == 0 && i < s.size() && is_upper(s[i])) ++i;  // "A." appendix letter
    if (i == 0 || i > 5 || i >= s.size() || s[i] != '.') {
      // "A.1 Proofs"
      if (i == 1 && i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
        ++i;
        while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) ++i;
      } else {
        return 0;
      }
    } else {
      ++i;
    }
  }
  if (i == 0 || i > 12 || i >= s.size() || s[i] != ' ') return 0;
  return i + 1;
}

std::string strip_end_punct(std::string s) {
  while (!s.empty() && (s.back() == ':' || s.back() == '.' || s.back() == ' ')) s.pop_back();
  return s;
}

int64_t words_in(std::string_view s) {
  int64_t n = 0;
  bool in = false;
  for (char c : s) {
    const bool sp = c == ' ';
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

}  // namespace

double body_font_size(const std::vector<Paragraph>& paras) {
  std::map<int64_t, int64_t> weight;  // font size in tenths of a point -> bytes
  for (const Paragraph& p : paras)
    weight[static_cast<int64_t>(p.font_size * 10 + 0.5)] += static_cast<int64_t>(p.text.size());
  int64_t best = 0, size = 0;
  for (const auto& [s, w] : weight)
    if (w > best) best = w, size = s;
  return static_cast<double>(size) / 10.0;
}

std::optional<Heading> detect_heading(const Paragraph& p, double body_size) {
  const std::string& t = p.text;
  // An abstract run into its own paragraph.
  if (t.size() > 9 && lower_ascii(t.substr(0, 8)) == "abstract") {
    const char c = t[8];
    const bool run_in = c == '.' || c == ':' || c == '-' || (static_cast<unsigned char>(c) == 0xE2);  // — –
    if (run_in || (c == ' ' && t.size() > 9 && is_upper(t[9]) && p.lines > 1)) return Heading{"Abstract", false};
  }
  if (p.lines > 2 || t.size() > 100 || words_in(t) > 12) return std::nullopt;
  const size_t num = number_prefix(t);
  const std::string rest = strip_end_punct(t.substr(num));
  if (rest.empty()) return std::nullopt;
  std::string name = lower_ascii(rest);
  if (name.rfind("appendix", 0) == 0 || name.rfind("appendices", 0) == 0) return Heading{strip_end_punct(t), false};
  for (const auto& [k, refs] : known_names())
    if (name == k) return Heading{strip_end_punct(t), refs};
  if (num == 0) return std::nullopt;
  // A numbered line: a heading only when set apart and shaped like a title.
  const bool apart = p.bold || (body_size > 0 && p.font_size >= 1.1 * body_size);
  if (!apart || !is_upper(rest[0])) return std::nullopt;
  if (t.back() == '.' && !p.bold) return std::nullopt;
  if (std::count_if(rest.begin(), rest.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }) < 3)
    return std::nullopt;
  return Heading{strip_end_punct(t), false};
}

AssembledText assemble_text(const std::vector<Paragraph>& paras, int64_t pages, bool drop_references) {
  AssembledText a;
  a.page_offsets.assign(static_cast<size_t>(std::max<int64_t>(pages, 0)), -1);
  int64_t next_unmarked = 0;  // 0-based page whose offset is not set yet
  auto mark = [&](int64_t page1, size_t off) {
    for (; next_unmarked < page1 && next_unmarked < pages; ++next_unmarked)
      a.page_offsets[static_cast<size_t>(next_unmarked)] = static_cast<int64_t>(off);
  };
  const double body = body_font_size(paras);
  bool in_refs = false;
  for (const Paragraph& p : paras) {
    const std::optional<Heading> h = detect_heading(p, body);
    if (h) in_refs = h->references;
    if (in_refs && drop_references) {
      ++a.dropped_reference_paragraphs;
      continue;
    }
    if (!a.text.empty()) a.text += "\n\n";
    const size_t off = a.text.size();
    mark(p.page, off);
    for (const auto& [o, pg] : p.page_starts) mark(pg, off + o);
    if (h) {
      if (!a.sections.empty()) a.sections.back().end = static_cast<int64_t>(off) - 2;
      a.sections.push_back({h->title, p.page, static_cast<int64_t>(off), 0});
    }
    a.text += p.text;
  }
  mark(pages, a.text.size());
  if (!a.sections.empty()) a.sections.back().end = static_cast<int64_t>(a.text.size());
  return a;
}

}  // namespace scitune
