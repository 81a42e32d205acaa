#include "papers/clean_text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "util/error.h"

namespace scitune {

namespace {

const icu::Normalizer2& nfc() {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
  SCITUNE_CHECK(U_SUCCESS(status) && n, "ICU NFC normaliser unavailable");
  return *n;
}

std::string nfc_utf8(const icu::UnicodeString& u) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString out = nfc().normalize(u, status);
  SCITUNE_CHECK(U_SUCCESS(status), "ICU NFC normalisation failed");
  std::string s;
  out.toUTF8String(s);
  return s;
}

const char* ligature(UChar32 c) {
  switch (c) {
    case 0xFB00:
      return "ff";
    case 0xFB01:
      return "fi";
    case 0xFB02:
      return "fl";
    case 0xFB03:
      return "ffi";
    case 0xFB04:
      return "ffl";
    case 0xFB05:
      return "st";  // long s + t
    case 0xFB06:
      return "st";
    case 0x0132:
      return nullptr;  // IJ is a letter of Dutch, not a typesetting ligature
    default:
      return nullptr;
  }
}

// Spacing accents that TeX's OT1 fonts draw as separate glyphs, and their combining forms.
UChar32 combining_for(UChar32 c) {
  switch (c) {
    case 0x00B4:
      return 0x0301;  // acute
    case 0x0060:
      return 0x0300;  // grave
    case 0x00A8:
      return 0x0308;  // diaeresis
    case 0x02C6:
      return 0x0302;  // circumflex
    case 0x02DC:
      return 0x0303;  // tilde
    case 0x02C7:
      return 0x030C;  // caron
    case 0x02D8:
      return 0x0306;  // breve
    case 0x00B8:
      return 0x0327;  // cedilla
    case 0x02DA:
      return 0x030A;  // ring
    case 0x02DD:
      return 0x030B;  // double acute
    case 0x02D9:
      return 0x0307;  // dot above
    default:
      return 0;
  }
}

bool dropped(UChar32 c) {
  return (c < 0x20 && c != '\t') || (c >= 0x7F && c <= 0x9F) || c == 0xFEFF || c == 0x200B || c == 0x2060 ||
         c == 0x00AD || (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
}

bool odd_space(UChar32 c) {
  return c == '\t' || c == 0x00A0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_letter_byte(unsigned char c) { return std::isalpha(c) || c >= 0x80; }

UChar32 first_char(std::string_view s) {
  UChar32 c = 0;
  int32_t i = 0;
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, static_cast<int32_t>(s.size()), c);
  return c;
}

UChar32 last_char(std::string_view s, size_t* start = nullptr) {
  if (s.empty()) return 0;
  int32_t i = static_cast<int32_t>(s.size());
  UChar32 c = 0;
  U8_PREV(reinterpret_cast<const uint8_t*>(s.data()), 0, i, c);
  if (start) *start = static_cast<size_t>(i);
  return c;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // nearest rank: of two values the 90th percentile is the larger
  const double rank = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size()));
  return v[static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(v.size()))) - 1];
}

// A column's left or right edge: where most of its lines start or end (justified text lines up exactly),
// else the 10th / 90th percentile.
double edge(const std::vector<double>& xs, bool right) {
  std::map<int64_t, int> bins;  // 2-point bins
  for (double x : xs) bins[static_cast<int64_t>(std::floor(x / 2))]++;
  int best = 0;
  double at = 0;
  for (const auto& [b, n] : bins)
    if (n > best || (n == best && (right ? b * 2.0 > at : b * 2.0 < at))) best = n, at = b * 2.0;
  if (best >= 3 && best * 5 >= static_cast<int>(xs.size())) {
    // the extreme of the values in the winning bin and its neighbours
    double e = right ? -INFINITY : INFINITY;
    for (double x : xs)
      if (std::abs(x - (at + 1)) <= 3) e = right ? std::max(e, x) : std::min(e, x);
    return e;
  }
  return percentile(xs, right ? 0.9 : 0.1);
}

// ---- running headers, footers, page numbers ----

std::string edge_key(const std::string& s) {
  std::string k;
  for (unsigned char c : s) {
    if (std::isdigit(c)) {
      if (k.empty() || k.back() != '#') k += '#';
    } else if (c == ' ') {
      if (!k.empty() && k.back() != ' ') k += ' ';
    } else {
      k += static_cast<char>(std::tolower(c));
    }
  }
  while (!k.empty() && k.back() == ' ') k.pop_back();
  return k;
}

bool roman(std::string_view s) {
  if (s.empty() || s.size() > 7) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::string_view("ivxlcdmIVXLCDM").find(c) != std::string_view::npos; });
}

// "12", "- 12 -", "Page 3", "3 of 10", "3/10", "xii".
bool page_number_like(const std::string& text) {
  std::string s;
  for (char c : text)
    if (c != ' ' && c != '-' && c != '[' && c != ']' && c != '(' && c != ')' && c != '|')
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.rfind("page", 0) == 0) s = s.substr(4);
  if (s.empty()) return false;
  if (roman(s)) return true;
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0 || i > 5) return false;
  if (i == s.size()) return true;
  std::string_view rest(s);
  rest.remove_prefix(i);
  if (rest.rfind("of", 0) == 0)
    rest.remove_prefix(2);
  else if (rest.rfind("/", 0) == 0)
    rest.remove_prefix(1);
  else
    return false;
  return !rest.empty() && rest.size() <= 5 &&
         std::all_of(rest.begin(), rest.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Indices of lines in the top and bottom bands of a page: the two highest and two lowest lines there.
std::vector<size_t> edge_lines(const PdfPage& p, const std::vector<std::string>& texts) {
  std::vector<size_t> idx;
  if (p.height <= 0) return idx;
  std::vector<size_t> order(p.lines.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p.lines[a].y0 < p.lines[b].y0; });
  int top = 0, bottom = 0;
  for (size_t k = 0; k < order.size() && top < 2; ++k) {
    const PdfLine& l = p.lines[order[k]];
    if (texts[order[k]].empty()) continue;
    if (l.y1 > 0.14 * p.height) break;
    idx.push_back(order[k]), ++top;
  }
  for (size_t k = order.size(); k-- > 0 && bottom < 2;) {
    const PdfLine& l = p.lines[order[k]];
    if (texts[order[k]].empty()) continue;
    if (l.y0 < 0.86 * p.height) break;
    if (std::find(idx.begin(), idx.end(), order[k]) == idx.end()) idx.push_back(order[k]);
    ++bottom;
  }
  return idx;
}

// ---- joining ----

struct ColumnBox {
  double left = 0, right = 0;
};

struct LineRef {
  const PdfLine* line;
  int64_t page;  // 0-based
  const ColumnBox* col;
  double pitch;  // usual distance between consecutive baselines in its page
};

constexpr char kHyphenMark = '\x01';  // a line-end hyphen whose fate is decided once the whole text is known

// "[12]", "12.", "(a)", "•", "–": a list item or reference whose later lines hang indented.
bool starts_with_label(std::string_view t) {
  if (t.rfind("\xE2\x80\xA2", 0) == 0 || t.rfind("\xE2\x80\x93", 0) == 0 || t.rfind("- ", 0) == 0) return true;
  const size_t sp = t.find(' ');
  if (sp == std::string_view::npos || sp > 6) return false;
  const std::string_view w = t.substr(0, sp);
  const char open = w.front(), close = w.back();
  return (open == '[' && close == ']') || (open == '(' && close == ')') ||
         ((close == '.' || close == ')') && std::isdigit(static_cast<unsigned char>(w.front())));
}

bool ends_hyphenated(std::string_view t) {
  size_t start = 0;
  const UChar32 c = last_char(t, &start);
  return (c == '-' || c == 0x2010) && start > 0 && u_isalpha(last_char(t.substr(0, start)));
}

// first: the first line of the paragraph being built.
bool starts_new_paragraph(const LineRef& first, const LineRef& prev, const LineRef& cur, std::string_view prev_text,
                          std::string_view cur_text) {
  const PdfLine& a = *prev.line;
  const PdfLine& b = *cur.line;
  const double fs = std::max(1.0, std::max(a.font_size, b.font_size));
  if (std::abs(a.font_size - b.font_size) > 0.15 * fs) return true;
  if (a.bold != b.bold) return true;
  // A word hyphenated at the line end goes on, whatever the indentation.
  if (ends_hyphenated(prev_text) && u_islower(first_char(cur_text)) && prev.page + 1 >= cur.page) return false;
  const bool hanging = first.line == prev.line && b.x0 > a.x0 && starts_with_label(prev_text);
  const bool full = a.x1 >= prev.col->right - std::max(1.5 * fs, 0.04 * (prev.col->right - prev.col->left));
  if (!full) return true;
  const bool same_block = prev.page == cur.page && a.block == b.block;
  if (same_block) {
    if (b.x0 > a.x0 + 0.5 * fs && !hanging) return true;                  // indented first line or display
    if (b.y0 - a.y0 > 1.45 * std::max(cur.pitch, 0.5 * fs)) return true;  // a gap between the lines
    if (b.y0 < a.y0) return true;                                         // went back up: not a continuation
    return false;
  }
  // A new column or page that starts indented starts a paragraph, unless the line above starts there too.
  return b.x0 > cur.col->left + 0.5 * fs && std::abs(b.x0 - a.x0) > 0.5 * fs;
}

void append_line(Paragraph& p, const std::string& t) {
  size_t start = 0;
  const UChar32 end = last_char(p.text, &start);
  const UChar32 first = first_char(t);
  const bool hyphen = end == '-' || end == 0x2010;
  size_t before = start;
  const UChar32 prev_letter = start > 0 ? last_char(std::string_view(p.text).substr(0, start), &before) : 0;
  if (hyphen && u_isalpha(prev_letter)) {
    p.text.erase(start);
    if (u_islower(first))
      p.text += kHyphenMark;
    else
      p.text += '-';  // "Fermi-" + "Dirac"
  } else if (end == 0x2013 || end == 0x2014 || end == '/') {
    // a dash or slash at the end of a line joins without a space
  } else {
    p.text += ' ';
  }
  p.text += t;
}

void resolve_hyphens(std::vector<Paragraph>& paras, CleanStats* stats) {
  // Count each word and each hyphenated compound as the document spells them mid-line.
  std::unordered_map<std::string, int64_t> count;
  auto lower = [](std::string_view w) {
    std::string s(w);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const Paragraph& p : paras) {
    const std::string& t = p.text;
    size_t i = 0;
    while (i < t.size()) {
      if (!is_letter_byte(static_cast<unsigned char>(t[i]))) {
        ++i;
        continue;
      }
      size_t j = i;
      bool marked = false;
      while (j < t.size() && (is_letter_byte(static_cast<unsigned char>(t[j])) ||
                              ((t[j] == '-' || t[j] == kHyphenMark) && j + 1 < t.size() &&
                               is_letter_byte(static_cast<unsigned char>(t[j + 1]))))) {
        if (t[j] == kHyphenMark) marked = true;
        ++j;
      }
      if (!marked) {
        const std::string w = lower(std::string_view(t).substr(i, j - i));
        ++count[w];
        // A compound also counts its parts' joined spelling as "seen with a hyphen".
      }
      i = j;
    }
  }
  for (Paragraph& p : paras) {
    if (p.text.find(kHyphenMark) == std::string::npos) continue;
    std::string out;
    out.reserve(p.text.size());
    std::vector<std::pair<size_t, int64_t>> starts = p.page_starts;
    for (size_t i = 0; i < p.text.size(); ++i) {
      if (p.text[i] != kHyphenMark) {
        out += p.text[i];
        continue;
      }
      size_t a = i, b = i + 1;
      while (a > 0 && (is_letter_byte(static_cast<unsigned char>(p.text[a - 1])) || p.text[a - 1] == '-')) --a;
      while (b < p.text.size() && is_letter_byte(static_cast<unsigned char>(p.text[b]))) ++b;
      const std::string left = lower(std::string_view(p.text).substr(a, i - a));
      const std::string right = lower(std::string_view(p.text).substr(i + 1, b - i - 1));
      const auto joined = count.find(left + right), hyph = count.find(left + "-" + right);
      const int64_t nj = joined == count.end() ? 0 : joined->second, nh = hyph == count.end() ? 0 : hyph->second;
      if (nh > nj) {
        out += '-';
      } else {
        for (size_t k = 0; k < starts.size(); ++k)
          if (p.page_starts[k].first > i) --starts[k].first;
        if (stats) ++stats->hyphens_joined;
      }
    }
    p.text = std::move(out);
    p.page_starts = std::move(starts);
  }
}

}  // namespace

std::string to_nfc(std::string_view s) {
  return nfc_utf8(icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size()))));
}

std::string clean_line(std::string_view s) {
  const icu::UnicodeString in =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  icu::UnicodeString out;
  const int32_t n = in.length();
  bool space = true;  // trims leading spaces
  for (int32_t i = 0; i < n;) {
    UChar32 c = in.char32At(i);
    i = in.moveIndex32(i, 1);
    if (const char* lig = ligature(c)) {
      out.append(icu::UnicodeString(lig));
      space = false;
      continue;
    }
    if (odd_space(c)) c = ' ';
    if (c == ' ') {
      if (!space) out.append(static_cast<UChar32>(' '));
      space = true;
      continue;
    }
    if (dropped(c)) continue;
    // TeX writes î as \^{\i}: a dotless i under an accent is a plain i for NFC to compose.
    if ((c == 0x0131 || c == 0x0237) && i < n && in.char32At(i) >= 0x0300 && in.char32At(i) <= 0x036F)
      c = c == 0x0131 ? 'i' : 'j';
    if (const UChar32 comb = combining_for(c); comb != 0 && i < n) {
      const UChar32 next = in.char32At(i);
      // "¨u" drawn as accent then letter -> "ü"; only where the pair is one letter ("˜C" in a URL stays).
      if (u_isalpha(next) && nfc().composePair(next, comb) >= 0) {
        out.append(next);
        out.append(comb);
        i = in.moveIndex32(i, 1);
        space = false;
        continue;
      }
    }
    out.append(c);
    space = false;
  }
  while (out.length() > 0 && out.charAt(out.length() - 1) == ' ') out.truncate(out.length() - 1);
  return nfc_utf8(out);
}

std::vector<Paragraph> clean_pages(const std::vector<PdfPage>& pages, CleanStats* stats) {
  // Clean every line first; the edge comparison and the joining work on cleaned text.
  std::vector<std::vector<std::string>> texts(pages.size());
  for (size_t p = 0; p < pages.size(); ++p)
    for (const PdfLine& l : pages[p].lines) texts[p].push_back(clean_line(l.text));

  // Running headers and footers: an edge line whose text (digits aside) recurs at the edge of other pages.
  std::vector<std::vector<size_t>> edges(pages.size());
  std::map<std::string, std::unordered_set<size_t>> pages_of_key;
  int64_t pages_with_text = 0;
  for (size_t p = 0; p < pages.size(); ++p) {
    edges[p] = edge_lines(pages[p], texts[p]);
    if (!pages[p].lines.empty()) ++pages_with_text;
    for (size_t i : edges[p]) pages_of_key[edge_key(texts[p][i])].insert(p);
  }
  const size_t recur = static_cast<size_t>(std::max<int64_t>(2, (pages_with_text * 3 + 9) / 10));
  for (size_t p = 0; p < pages.size(); ++p)
    for (size_t i : edges[p]) {
      const std::string k = edge_key(texts[p][i]);
      if (page_number_like(texts[p][i]) || (!k.empty() && pages_of_key[k].size() >= recur)) {
        texts[p][i].clear();
        if (stats) ++stats->edge_lines_removed;
      }
    }

  // Column boxes and line pitch per page.
  std::vector<std::array<ColumnBox, 3>> cols(pages.size());
  std::vector<double> pitch(pages.size(), 0);
  for (size_t p = 0; p < pages.size(); ++p) {
    std::array<std::vector<double>, 3> x0s, x1s;
    std::vector<double> steps;
    const auto& ls = pages[p].lines;
    for (size_t i = 0; i < ls.size(); ++i) {
      const int c = std::clamp(ls[i].column, 0, 2);
      x0s[c].push_back(ls[i].x0), x1s[c].push_back(ls[i].x1);
      if (i > 0 && ls[i].block == ls[i - 1].block && ls[i].y0 > ls[i - 1].y0) steps.push_back(ls[i].y0 - ls[i - 1].y0);
    }
    for (int c = 0; c < 3; ++c) cols[p][c] = {edge(x0s[c], false), edge(x1s[c], true)};
    pitch[p] = percentile(steps, 0.5);
  }

  std::vector<Paragraph> paras;
  Paragraph cur;
  LineRef prev{nullptr, 0, nullptr, 0}, first = prev;
  std::string_view prev_text;
  for (size_t p = 0; p < pages.size(); ++p) {
    const auto& ls = pages[p].lines;
    for (size_t i = 0; i < ls.size(); ++i) {
      const std::string& t = texts[p][i];
      if (t.empty()) continue;
      const LineRef ref{&ls[i], static_cast<int64_t>(p), &cols[p][std::clamp(ls[i].column, 0, 2)], pitch[p]};
      if (prev.line && !starts_new_paragraph(first, prev, ref, prev_text, t)) {
        append_line(cur, t);
        if (static_cast<int64_t>(p) + 1 != (cur.page_starts.empty() ? cur.page : cur.page_starts.back().second))
          cur.page_starts.emplace_back(cur.text.size() - t.size(), static_cast<int64_t>(p) + 1);
        ++cur.lines;
      } else {
        if (!cur.text.empty()) paras.push_back(std::move(cur));
        cur = Paragraph{};
        cur.text = t;
        cur.page = static_cast<int64_t>(p) + 1;
        cur.font_size = ls[i].font_size;
        cur.bold = ls[i].bold;
        cur.lines = 1;
        first = ref;
      }
      prev = ref;
      prev_text = t;
    }
  }
  if (!cur.text.empty()) paras.push_back(std::move(cur));
  resolve_hyphens(paras, stats);
  return paras;
}

}  // namespace scitune
