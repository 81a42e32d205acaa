// Word clouds for the corpus report: term counts without stop words, text extents measured with FreeType, and
// a spiral layout in which no two words' boxes overlap.
//
// Terms: runs of letters and digits (UTF-8 beyond ASCII counts as a letter, so "β-catenin" stays whole), with
// inner hyphens and apostrophes kept; lower-cased (ASCII) for counting, a trailing "'s" removed; dropped when
// shorter than 3 bytes, made of digits only, or an English stop word (stopwords_en.inc: the Snowball list and
// research-paper boilerplate). Each term is shown in its most frequent spelling ("DNA", not "dna").
//
// Layout (as d3-cloud and amueller/wordcloud do it): words from the most to the least frequent, the font size
// monotone in the count; each word starts near the centre and walks out along an Archimedean spiral (its
// starting angle drawn from the seed) until its box — the word's ink extent measured glyph by glyph with
// FreeType in DejaVu Sans, plus a margin — fits inside the canvas without touching any placed box. A word
// whose spiral leaves the canvas is dropped and counted. The SVG sets textLength to the measured advance, so a
// browser without DejaVu Sans stretches its fallback font to the same width instead of overlapping.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace scitune {

// The lower-cased word is an English stop word.
bool is_stop_word(std::string_view lower);
size_t stop_word_count();

struct TermCount {
  std::string term;  // the most frequent spelling
  int64_t count = 0;
};

class TermCounter {
 public:
  void add_text(std::string_view text);
  void merge(const TermCounter& other);
  // At most n terms by count (descending), ties by lower-cased term (ascending): the same text gives the same list.
  std::vector<TermCount> top(size_t n) const;
  int64_t total() const { return total_; }  // counted words (stop words excluded)
  size_t distinct() const { return terms_.size(); }
  // How often a term was counted, in any spelling ("DNA" and "dna" are one term).
  int64_t count_of(std::string_view term) const;

 private:
  struct Entry {
    int64_t count = 0;
    std::map<std::string, int64_t> spellings;
  };
  std::unordered_map<std::string, Entry> terms_;
  int64_t total_ = 0;
};

// Where a word's ink lies, in pixels, relative to the start of its baseline (y up, as fonts measure it).
struct TextExtent {
  double advance = 0;           // pen movement: the width the SVG text takes
  double x_min = 0, x_max = 0;  // ink left and right
  double y_min = 0, y_max = 0;  // ink below (negative) and above the baseline
};

// Glyph metrics of one font file, read once with FreeType (unscaled, in font units) and cached per code point.
// Without a usable font file it falls back to a conservative estimate (svg_chart's text_width and a full-height
// box) and says so in fallback_reason(). Not thread-safe (the cache fills on use).
class TextMeasurer {
 public:
  static constexpr const char* kDefaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  explicit TextMeasurer(const std::filesystem::path& font = kDefaultFont);
  ~TextMeasurer();
  TextMeasurer(TextMeasurer&&) noexcept;
  TextMeasurer& operator=(TextMeasurer&&) noexcept;

  TextExtent measure(std::string_view utf8, double font_size) const;
  bool uses_font() const { return face_ != nullptr; }
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  struct Glyph {
    double advance, x_min, x_max, y_min, y_max;  // font units
  };
  const Glyph& glyph(char32_t cp) const;
  struct Library;
  std::unique_ptr<Library> library_;
  void* face_ = nullptr;  // FT_Face
  double units_per_em_ = 2048;
  std::string fallback_reason_;
  mutable std::unordered_map<char32_t, Glyph> cache_;
};

struct WordCloudOptions {
  int width = 900, height = 420;
  double min_font = 11, max_font = 64;  // max_font shrinks when the most frequent word would not fit
  double margin = 2;                    // added on every side of a word's ink box, plus
  double margin_per_size = 0.04;        // this share of the font size (large words need more air)
  size_t max_words = 150;
  uint64_t seed = 42;
};

struct WordBox {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // SVG pixels, y down
};
inline bool boxes_overlap(const WordBox& a, const WordBox& b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

struct PlacedWord {
  std::string text;
  int64_t count = 0;
  double font_size = 0;
  double x = 0, y = 0;  // start of the baseline (SVG text x, y)
  double advance = 0;   // SVG textLength
  WordBox box;          // ink extent plus the margin; pairwise disjoint and inside the canvas
  double margin = 0;    // the margin of this word's box (margin + margin_per_size * font_size)
  std::string color;
};

struct WordCloud {
  int width = 0, height = 0;
  std::vector<PlacedWord> words;  // in placement order (largest first)
  int64_t dropped = 0;            // words that found no free place
  int64_t offered = 0;            // words given to the layout (after max_words)
};

// Lays out the terms (any order; sorted here by count, then term). Deterministic for the same terms, measurer
// and options.
WordCloud layout_word_cloud(std::span<const TermCount> terms, const TextMeasurer& measurer,
                            const WordCloudOptions& options);

// The cloud as one <svg> element (class "cloud", data-words / data-dropped attributes), font-family
// "DejaVu Sans, sans-serif", each word a <text> with its count in a <title>.
std::string render_word_cloud(const WordCloud& cloud, const std::string& title);

}  // namespace scitune
