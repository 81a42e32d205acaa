#include "papers/word_cloud.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <unordered_set>
#include <utility>

#include "report/html_text.h"
#include "tokenizer/utf8.h"
#include "report/svg_chart.h"
#include "util/splitmix.h"

namespace scitune {

namespace {

constexpr const char* kStopWordData =
#include "papers/stopwords_en.inc"
    ;

const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words = [] {
    std::unordered_set<std::string> s;
    std::string_view data = kStopWordData;
    while (!data.empty()) {
      const size_t nl = data.find('\n');
      std::string_view line = data.substr(0, nl);
      data = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
      line = line.substr(0, line.find('|'));
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      if (!line.empty()) s.emplace(line);
    }
    return s;
  }();
  return words;
}

// One code point from UTF-8 at s[i] (advancing i); U+FFFD for a byte that does not start a valid sequence.
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = n == 1 ? c : c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  i += n;
  return cp;
}

// Letters and digits of the scripts a paper's words are written in; punctuation, symbols, dashes, quotes and
// mathematical operators (U+2000..U+2BFF) separate words.
bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  if (c >= 0xC0 && c <= 0x24F) return c != 0xD7 && c != 0xF7;     // Latin-1 letters and Latin Extended
  if (c >= 0x370 && c <= 0x3FF) return c != 0x37E && c != 0x387;  // Greek
  if (c >= 0x400 && c <= 0x52F) return true;                      // Cyrillic
  if (c >= 0x1E00 && c <= 0x1FFF) return true;                    // Latin and Greek Extended
  if (c >= 0xFB00 && c <= 0xFB06) return true;                    // ligatures a PDF may leave (ﬁ, ﬂ)
  if (c >= 0x3040 && c <= 0x9FFF) return true;                    // kana and CJK
  if (c >= 0xAC00 && c <= 0xD7AF) return true;                    // Hangul
  return false;
}
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_joiner(char32_t c) { return c == '-' || c == 0x2010 || c == 0x2011 || c == '\'' || c == 0x2019; }

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The counted form of a raw word, or "" when it is not counted.
std::string normalise_term(std::string& word, size_t code_points, bool has_letter) {
  if (word.size() >= 2 && (word.ends_with("'s") || word.ends_with("'S"))) {
    word.resize(word.size() - 2);
    code_points -= 2;
  }
  if (code_points < 2 || !has_letter) return "";
  std::string lower = lower_ascii(word);
  if (is_stop_word(lower)) return "";
  return lower;
}

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::fabs(v) < 0.05 ? 0.0 : v);
  return buf;
}

constexpr const char* kPalette[] = {"#1f4e79", "#2e7d32", "#b23c17", "#6a1b9a",
                                    "#00695c", "#8d5a00", "#ad1457", "#37474f"};

}  // namespace

bool is_stop_word(std::string_view lower) { return stop_words().count(std::string(lower)) > 0; }
size_t stop_word_count() { return stop_words().size(); }

// ---- terms ----

void TermCounter::add_text(std::string_view text) {
  std::string word;
  size_t code_points = 0;
  bool has_letter = false;
  auto flush = [&] {
    if (!word.empty()) {
      std::string key = normalise_term(word, code_points, has_letter);
      if (!key.empty()) {
        Entry& e = terms_[key];
        ++e.count;
        ++e.spellings[word];
        ++total_;
      }
    }
    word.clear();
    code_points = 0;
    has_letter = false;
  };
  for (size_t i = 0; i < text.size();) {
    const char32_t c = next_code_point(text, i);
    if (is_word_char(c)) {
      tok::append_utf8(word, c);
      ++code_points;
      has_letter |= !is_digit(c);
      continue;
    }
    // A hyphen or apostrophe joins two word characters ("cross-entropy", "Earth's"); anywhere else it splits.
    if (is_joiner(c) && !word.empty() && i < text.size()) {
      size_t j = i;
      if (is_word_char(next_code_point(text, j))) {
        word += (c == '\'' || c == 0x2019) ? '\'' : '-';
        ++code_points;
        continue;
      }
    }
    flush();
  }
  flush();
}

void TermCounter::merge(const TermCounter& other) {
  for (const auto& [key, e] : other.terms_) {
    Entry& mine = terms_[key];
    mine.count += e.count;
    for (const auto& [s, n] : e.spellings) mine.spellings[s] += n;
  }
  total_ += other.total_;
}

int64_t TermCounter::count_of(std::string_view term) const {
  const auto it = terms_.find(lower_ascii(term));
  return it == terms_.end() ? 0 : it->second.count;
}

std::vector<TermCount> TermCounter::top(size_t n) const {
  std::vector<std::pair<const std::string*, const Entry*>> all;
  all.reserve(terms_.size());
  for (const auto& [key, e] : terms_) all.emplace_back(&key, &e);
  const size_t k = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const auto& a, const auto& b) {
    return a.second->count != b.second->count ? a.second->count > b.second->count : *a.first < *b.first;
  });
  std::vector<TermCount> out;
  for (size_t i = 0; i < k; ++i) {
    const std::string* best = nullptr;
    int64_t best_n = 0;
    for (const auto& [s, c] : all[i].second->spellings)  // ties: the first spelling in byte order
      if (c > best_n) best = &s, best_n = c;
    out.push_back({*best, all[i].second->count});
  }
  return out;
}

// ---- text extents ----

struct TextMeasurer::Library {
  FT_Library lib = nullptr;
  ~Library() {
    if (lib) FT_Done_FreeType(lib);
  }
};

TextMeasurer::TextMeasurer(const std::filesystem::path& font) : library_(std::make_unique<Library>()) {
  if (FT_Init_FreeType(&library_->lib) != 0) {
    library_->lib = nullptr;
    fallback_reason_ = "FreeType could not be initialised";
    return;
  }
  FT_Face face = nullptr;
  if (FT_New_Face(library_->lib, font.c_str(), 0, &face) != 0 || !face) {
    fallback_reason_ =
        font.string() + ": cannot be read as a font (Debian: fonts-dejavu-core); word sizes are estimated";
    return;
  }
  if (!FT_IS_SCALABLE(face) || face->units_per_EM == 0) {
    FT_Done_Face(face);
    fallback_reason_ = font.string() + ": not a scalable font; word sizes are estimated";
    return;
  }
  face_ = face;
  units_per_em_ = face->units_per_EM;
}

TextMeasurer::~TextMeasurer() {
  if (face_) FT_Done_Face(static_cast<FT_Face>(face_));
}

TextMeasurer::TextMeasurer(TextMeasurer&& o) noexcept
    : library_(std::move(o.library_)),
      face_(std::exchange(o.face_, nullptr)),
      units_per_em_(o.units_per_em_),
      fallback_reason_(std::move(o.fallback_reason_)),
      cache_(std::move(o.cache_)) {}

TextMeasurer& TextMeasurer::operator=(TextMeasurer&& o) noexcept {
  if (this != &o) {
    if (face_) FT_Done_Face(static_cast<FT_Face>(face_));
    face_ = std::exchange(o.face_, nullptr);
    library_ = std::move(o.library_);
    units_per_em_ = o.units_per_em_;
    fallback_reason_ = std::move(o.fallback_reason_);
    cache_ = std::move(o.cache_);
  }
  return *this;
}

const TextMeasurer::Glyph& TextMeasurer::glyph(char32_t cp) const {
  if (auto it = cache_.find(cp); it != cache_.end()) return it->second;
  Glyph g{0, 0, 0, 0, 0};
  const FT_Face face = static_cast<FT_Face>(face_);
  // A code point the font lacks is measured as its .notdef box (index 0): the browser draws some other font's
  // glyph there, and textLength keeps the word's width.
  const FT_UInt index = FT_Get_Char_Index(face, cp);
  if (FT_Load_Glyph(face, index, FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING) == 0) {
    const FT_Glyph_Metrics& m = face->glyph->metrics;
    g.advance = static_cast<double>(m.horiAdvance);
    if (m.width > 0 && m.height > 0) {
      g.x_min = static_cast<double>(m.horiBearingX);
      g.x_max = static_cast<double>(m.horiBearingX + m.width);
      g.y_max = static_cast<double>(m.horiBearingY);
      g.y_min = static_cast<double>(m.horiBearingY - m.height);
    }
  } else {
    g.advance = units_per_em_ * 0.6;
  }
  return cache_.emplace(cp, g).first->second;
}

TextExtent TextMeasurer::measure(std::string_view utf8, double font_size) const {
  TextExtent e;
  if (!face_) {
    // svg_chart's width estimate errs wide; the height is DejaVu Sans' ascender and descender.
    e.advance = text_width(utf8, font_size);
    e.x_max = e.advance;
    e.y_max = 0.93 * font_size;
    e.y_min = -0.24 * font_size;
    return e;
  }
  const double scale = font_size / units_per_em_;
  double pen = 0;
  bool ink = false;
  for (size_t i = 0; i < utf8.size();) {
    const Glyph& g = glyph(next_code_point(utf8, i));
    if (g.x_max > g.x_min) {
      const double x0 = (pen + g.x_min) * scale, x1 = (pen + g.x_max) * scale;
      const double y0 = g.y_min * scale, y1 = g.y_max * scale;
      if (!ink) {
        e.x_min = x0, e.x_max = x1, e.y_min = y0, e.y_max = y1;
        ink = true;
      } else {
        e.x_min = std::min(e.x_min, x0), e.x_max = std::max(e.x_max, x1);
        e.y_min = std::min(e.y_min, y0), e.y_max = std::max(e.y_max, y1);
      }
    }
    pen += g.advance;
  }
  e.advance = pen * scale;
  return e;
}

// ---- layout ----

namespace {

// A word's box relative to its baseline origin, SVG orientation (y down), margin included.
WordBox relative_box(const TextExtent& e, double margin) {
  return {std::min(0.0, e.x_min) - margin, -e.y_max - margin, std::max(e.advance, e.x_max) + margin, -e.y_min + margin};
}

}  // namespace

WordCloud layout_word_cloud(std::span<const TermCount> terms, const TextMeasurer& measurer, const WordCloudOptions& o) {
  WordCloud cloud;
  cloud.width = std::max(1, o.width);
  cloud.height = std::max(1, o.height);
  std::vector<TermCount> words;
  for (const TermCount& t : terms)
    if (t.count > 0 && !t.term.empty()) words.push_back(t);
  std::sort(words.begin(), words.end(), [](const TermCount& a, const TermCount& b) {
    return a.count != b.count ? a.count > b.count : a.term < b.term;
  });
  if (words.size() > o.max_words) words.resize(o.max_words);
  cloud.offered = static_cast<int64_t>(words.size());
  if (words.empty()) return cloud;

  const double W = cloud.width, H = cloud.height;
  // The largest word must fit: at most 90% of the width and 45% of the height.
  double max_font = o.max_font;
  {
    const TextExtent unit = measurer.measure(words[0].term, 1.0);
    const WordBox b = relative_box(unit, o.margin_per_size);
    if (b.x1 - b.x0 > 0) max_font = std::min(max_font, (0.9 * W - 2 * o.margin) / (b.x1 - b.x0));
    if (b.y1 - b.y0 > 0) max_font = std::min(max_font, (0.45 * H - 2 * o.margin) / (b.y1 - b.y0));
  }
  max_font = std::max(1.0, max_font);
  const double min_font = std::clamp(o.min_font, 1.0, max_font);
  const double c_max = static_cast<double>(words.front().count), c_min = static_cast<double>(words.back().count);
  // Square root of the count: Zipf-distributed counts would otherwise leave all but a few words at min_font.
  // Rounded to 0.1 px (monotone, and the SVG shows exactly the size that was measured).
  auto font_size = [&](int64_t count) {
    const double f = c_max > c_min ? std::sqrt((static_cast<double>(count) - c_min) / (c_max - c_min)) : 0.5;
    return std::round((min_font + (max_font - min_font) * f) * 10) / 10;
  };

  const double cx = W / 2, cy = H / 2;
  const double aspect = W / H;
  constexpr double kTurn = 3.0;  // pixels the spiral moves out per turn (vertically; x by the aspect ratio)
  constexpr double kStep = 2.0;  // pixels along the spiral between tries
  const double a = kTurn / (2 * std::numbers::pi);
  std::vector<WordBox> placed;
  size_t last_hit = 0;
  for (const TermCount& t : words) {
    const double size = font_size(t.count);
    const TextExtent e = measurer.measure(t.term, size);
    const double margin = o.margin + o.margin_per_size * size;
    const WordBox rel = relative_box(e, margin);
    const double bw = rel.x1 - rel.x0, bh = rel.y1 - rel.y0;
    bool done = false;
    if (bw <= W && bh <= H) {
      const uint64_t h = splitmix64(o.seed ^ fnv1a(lower_ascii(t.term)));
      const double phase = static_cast<double>(h >> 11) * 0x1.0p-53 * 2 * std::numbers::pi;
      // Once a * theta passes H no point of the spiral is inside the canvas: every later try would fail.
      for (double theta = 0; a * theta <= H && !done;) {
        const double r = a * theta;
        const double px_c = cx + aspect * r * std::cos(theta + phase), py_c = cy + r * std::sin(theta + phase);
        theta += std::clamp(kStep / (std::max(aspect, 1.0) * r + 1e-9), 0.002, 0.5);
        // Whole-pixel baseline origins: the SVG states them exactly, so the boxes are the drawn ones.
        const double ox = std::round(px_c - (rel.x0 + rel.x1) / 2), oy = std::round(py_c - (rel.y0 + rel.y1) / 2);
        const WordBox b{ox + rel.x0, oy + rel.y0, ox + rel.x1, oy + rel.y1};
        if (b.x0 < 0 || b.y0 < 0 || b.x1 > W || b.y1 > H) continue;
        // The box that blocked the last try usually blocks this one too.
        if (last_hit < placed.size() && boxes_overlap(b, placed[last_hit])) continue;
        bool free = true;
        for (size_t k = 0; k < placed.size(); ++k)
          if (boxes_overlap(b, placed[k])) {
            free = false;
            last_hit = k;
            break;
          }
        if (!free) continue;
        placed.push_back(b);
        const std::string color = kPalette[splitmix64(h) % (sizeof kPalette / sizeof kPalette[0])];
        cloud.words.push_back({t.term, t.count, size, ox, oy, e.advance, b, margin, color});
        done = true;
      }
    }
    if (!done) ++cloud.dropped;
  }
  return cloud;
}

std::string render_word_cloud(const WordCloud& c, const std::string& title) {
  constexpr double kHeader = 28;
  const double W = c.width, H = c.height + kHeader;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart cloud\" width=\"" + px(W) +
                    "\" height=\"" + px(H) + "\" viewBox=\"0 0 " + px(W) + " " + px(H) +
                    "\" role=\"img\" aria-label=\"" + html_escape(title) + "\" data-words=\"" +
                    std::to_string(c.words.size()) + "\" data-dropped=\"" + std::to_string(c.dropped) + "\">\n<title>" +
                    html_escape(title) + "</title>\n";
  out += "<rect width=\"" + px(W) + "\" height=\"" + px(H) + "\" fill=\"#fff\"/>\n";
  // The heading, shortened so that it never runs into the note on the right (widths are upper estimates).
  const std::string note = c.dropped > 0 ? thousands(c.dropped) + " more did not fit" : "";
  const double room = W - 24 - (note.empty() ? 0 : text_width(note, 12) + 12);
  std::string heading = title;
  for (size_t chars = heading.size(); text_width(heading, 14) > room && chars > 1; --chars)
    heading = truncate_utf8(title, chars - 1);
  constexpr const char* kUiFont = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif";
  out += "<text x=\"8\" y=\"18\" font-family=\"" + std::string(kUiFont) +
         "\" font-size=\"14\" font-weight=\"600\" fill=\"#222\">" + html_escape(heading) + "</text>\n";
  if (!note.empty())
    out += "<text x=\"" + px(W - 8) + "\" y=\"18\" text-anchor=\"end\" font-family=\"" + std::string(kUiFont) +
           "\" font-size=\"12\" fill=\"#555\">" + note + "</text>\n";
  out += "<g transform=\"translate(0," + px(kHeader) + ")\" font-family=\"DejaVu Sans, sans-serif\">\n";
  if (c.words.empty())
    out += "<text x=\"" + px(W / 2) + "\" y=\"" + px(c.height / 2.0) +
           "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">no words</text>\n";
  for (const PlacedWord& w : c.words)
    out += "<text x=\"" + px(w.x) + "\" y=\"" + px(w.y) + "\" font-size=\"" + px(w.font_size) + "\" fill=\"" + w.color +
           "\" textLength=\"" + px(w.advance) + "\" lengthAdjust=\"spacingAndGlyphs\" data-count=\"" +
           std::to_string(w.count) + "\"><title>" + html_escape(w.text) + ": " + thousands(w.count) + "</title>" +
           html_escape(w.text) + "</text>\n";
  out += "</g>\n</svg>\n";
  return out;
}

}  // namespace scitune
