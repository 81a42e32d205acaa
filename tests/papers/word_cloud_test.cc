// Word clouds: stop words never reach a cloud, terms keep their usual spelling, FreeType measures real extents,
// and the layout's word boxes never overlap, stay inside the canvas, contain the ink, grow with the count and are
// the same for the same seed.
#include "papers/word_cloud.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace scitune {
namespace {

using ::testing::HasSubstr;

bool have_font() { return std::filesystem::exists(TextMeasurer::kDefaultFont); }

std::map<std::string, int64_t> as_map(const std::vector<TermCount>& v) {
  std::map<std::string, int64_t> m;
  for (const auto& t : v) m[t.term] = t.count;
  return m;
}

TEST(TermCounter, StopWordsNumbersAndBoilerplateAreNotTerms) {
  EXPECT_TRUE(is_stop_word("the"));
  EXPECT_TRUE(is_stop_word("yourselves"));  // Snowball
  EXPECT_TRUE(is_stop_word("however"));     // Snowball's "commonest" list
  EXPECT_TRUE(is_stop_word("et"));          // ours
  EXPECT_FALSE(is_stop_word("protein"));
  EXPECT_FALSE(is_stop_word("|"));  // comments are not words
  EXPECT_GT(stop_word_count(), 250u);
  TermCounter t;
  t.add_text("The protein and the DNA of the cell; the cell's DNA (Smith et al., 2020, Fig. 3). It is what it is.");
  EXPECT_EQ(as_map(t.top(100)),
            (std::map<std::string, int64_t>{{"DNA", 2}, {"cell", 2}, {"protein", 1}, {"Smith", 1}}));
  EXPECT_EQ(t.total(), 6);
  // Most frequent first, ties by term.
  const auto top = t.top(2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].term, "cell");
  EXPECT_EQ(top[1].term, "DNA");
}

TEST(TermCounter, WordsHyphensApostrophesAndScripts) {
  TermCounter t;
  t.add_text(
      "β-catenin signalling—cross-entropy loss; Earth’s orbit, earth's core. dna DNA DNA 3D 42 x-- -ray "
      "na\xC3\xAFve ﬁnd");
  const auto m = as_map(t.top(100));
  EXPECT_EQ(m.at("β-catenin"), 1);
  EXPECT_EQ(m.at("signalling"), 1);  // an em dash splits
  EXPECT_EQ(m.at("cross-entropy"), 1);
  EXPECT_EQ(m.at("Earth"), 2);  // "'s" and "’s" removed, one term in any case
  EXPECT_EQ(m.at("DNA"), 3);    // the most frequent spelling is shown
  EXPECT_EQ(m.at("3D"), 1);
  EXPECT_EQ(m.at("ray"), 1);
  EXPECT_EQ(m.at("naïve"), 1);
  EXPECT_EQ(m.count("42"), 0u);  // numbers are not terms
  EXPECT_EQ(m.count("x"), 0u);   // one letter is not a term
  EXPECT_EQ(t.count_of("dna"), 3);
  TermCounter u;
  u.add_text("dna dna dna dna");
  t.merge(u);
  EXPECT_EQ(t.count_of("DNA"), 7);
  EXPECT_EQ(as_map(t.top(100)).count("dna"), 1u);  // now spelled "dna" more often
}

TEST(TextMeasurer, FreeTypeExtentsOfDejaVuSans) {
  if (!have_font()) GTEST_SKIP() << TextMeasurer::kDefaultFont << " not found (Debian: fonts-dejavu-core)";
  const TextMeasurer m;
  ASSERT_TRUE(m.uses_font()) << m.fallback_reason();
  const TextExtent w = m.measure("W", 20), i = m.measure("i", 20);
  EXPECT_GT(w.advance, 2 * i.advance);
  // Linear in the size.
  EXPECT_NEAR(m.measure("protein", 40).advance, 2 * m.measure("protein", 20).advance, 1e-9);
  // Ink: "x" sits on the baseline, "g" goes below it, "T" is taller than "x".
  const TextExtent x = m.measure("x", 100), g = m.measure("g", 100), t = m.measure("T", 100);
  EXPECT_NEAR(x.y_min, 0, 0.5);
  EXPECT_LT(g.y_min, -15);
  EXPECT_GT(t.y_max, x.y_max + 15);
  EXPECT_GT(x.x_max, x.x_min);
  // DejaVu Sans is 2048 units per em with "0" 1303 units wide (its tabular digits).
  EXPECT_NEAR(m.measure("0", 2048).advance, 1303, 1e-9);
  EXPECT_NEAR(m.measure("00000", 2048).advance, 5 * 1303, 1e-9);
}

TEST(TextMeasurer, AMissingFontFallsBackToAnEstimate) {
  const TextMeasurer m("/nonexistent/font.ttf");
  EXPECT_FALSE(m.uses_font());
  EXPECT_THAT(m.fallback_reason(), HasSubstr("/nonexistent/font.ttf: cannot be read as a font"));
  const TextExtent e = m.measure("protein", 20);
  EXPECT_GT(e.advance, 0);
  EXPECT_GT(e.y_max, e.y_min);
}

// 150 terms with Zipf counts, some ties, long and short words.
std::vector<TermCount> zipf_terms(size_t n) {
  const char* stems[] = {"protein",        "cell", "membrane", "spectroscopy", "kinetics", "DNA",   "β-sheet", "model",
                         "thermodynamics", "ion",  "binding",  "receptor",     "enzyme",   "lipid", "folding"};
  std::vector<TermCount> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back({std::string(stems[i % std::size(stems)]) + (i < std::size(stems) ? "" : std::to_string(i)),
                   static_cast<int64_t>(std::llround(2000.0 / double(i / 2 + 1)))});
  return out;
}

void expect_valid_layout(const WordCloud& c, const TextMeasurer& m, const WordCloudOptions& o) {
  EXPECT_EQ(c.width, o.width);
  EXPECT_EQ(c.height, o.height);
  EXPECT_EQ(static_cast<int64_t>(c.words.size()) + c.dropped, c.offered);
  for (size_t a = 0; a < c.words.size(); ++a) {
    const PlacedWord& w = c.words[a];
    const WordBox& b = w.box;
    EXPECT_GE(b.x0, 0) << w.text;
    EXPECT_GE(b.y0, 0) << w.text;
    EXPECT_LE(b.x1, c.width) << w.text;
    EXPECT_LE(b.y1, c.height) << w.text;
    // The box holds the word's ink and its advance, with the margin on every side.
    const TextExtent e = m.measure(w.text, w.font_size);
    EXPECT_NEAR(w.advance, e.advance, 1e-9);
    EXPECT_NEAR(w.margin, o.margin + o.margin_per_size * w.font_size, 1e-9);
    EXPECT_LE(b.x0, w.x + std::min(0.0, e.x_min) - w.margin + 1e-9);
    EXPECT_GE(b.x1, w.x + std::max(e.advance, e.x_max) + w.margin - 1e-9);
    EXPECT_LE(b.y0, w.y - e.y_max - w.margin + 1e-9);
    EXPECT_GE(b.y1, w.y - e.y_min + w.margin - 1e-9);
    for (size_t k = a + 1; k < c.words.size(); ++k)
      EXPECT_FALSE(boxes_overlap(b, c.words[k].box)) << w.text << " overlaps " << c.words[k].text;
  }
  // Sizes are monotone in the count: a more frequent word is never smaller.
  for (const PlacedWord& p : c.words)
    for (const PlacedWord& q : c.words) {
      if (p.count > q.count) {
        EXPECT_GE(p.font_size, q.font_size) << p.text << " vs " << q.text;
      } else if (p.count == q.count) {
        EXPECT_EQ(p.font_size, q.font_size) << p.text << " vs " << q.text;
      }
    }
}

TEST(WordCloudLayout, NoOverlapInsideTheCanvasMonotoneSizes) {
  for (const char* font : {TextMeasurer::kDefaultFont, "/nonexistent/font.ttf"}) {
    if (std::string(font) == TextMeasurer::kDefaultFont && !have_font()) continue;
    SCOPED_TRACE(font);
    const TextMeasurer m(font);
    WordCloudOptions o;
    const auto terms = zipf_terms(150);
    const WordCloud c = layout_word_cloud(terms, m, o);
    expect_valid_layout(c, m, o);
    EXPECT_EQ(c.offered, 150);
    EXPECT_GT(c.words.size(), m.uses_font() ? 100u : 60u);  // the estimate errs wide: fewer fit
    EXPECT_EQ(c.words.front().text, "cell");  // the most frequent words (ties by term) go first, at the largest size
    EXPECT_GT(c.words.front().font_size, 2 * c.words.back().font_size);
    // A small canvas drops and counts what does not fit; what is placed is still valid.
    WordCloudOptions tiny = o;
    tiny.width = 220;
    tiny.height = 90;
    const WordCloud t = layout_word_cloud(terms, m, tiny);
    expect_valid_layout(t, m, tiny);
    EXPECT_GT(t.dropped, 0);
    EXPECT_GT(t.words.size(), 3u);
  }
}

TEST(WordCloudLayout, DeterministicForASeed) {
  const TextMeasurer m;
  const auto terms = zipf_terms(80);
  WordCloudOptions o;
  o.width = 600;
  o.height = 300;
  const std::string a = render_word_cloud(layout_word_cloud(terms, m, o), "t");
  // Order of the input does not matter either.
  auto reversed = terms;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(render_word_cloud(layout_word_cloud(reversed, m, o), "t"), a);
  o.seed = 7;
  EXPECT_NE(render_word_cloud(layout_word_cloud(terms, m, o), "t"), a);
}

TEST(WordCloudLayout, EqualCountsAndEmptyInput) {
  const TextMeasurer m;
  WordCloudOptions o;
  const std::vector<TermCount> same = {{"alpha", 3}, {"beta", 3}, {"gamma", 3}};
  const WordCloud c = layout_word_cloud(same, m, o);
  ASSERT_EQ(c.words.size(), 3u);
  EXPECT_EQ(c.words[0].font_size, c.words[2].font_size);
  EXPECT_EQ(c.words[0].text, "alpha");
  const WordCloud e = layout_word_cloud({}, m, o);
  EXPECT_TRUE(e.words.empty());
  EXPECT_THAT(render_word_cloud(e, "Empty"), HasSubstr(">no words</text>"));
  o.max_words = 2;
  EXPECT_EQ(layout_word_cloud(same, m, o).offered, 2);
}

TEST(WordCloudLayout, StopWordsNeverReachTheCloud) {
  TermCounter t;
  for (int i = 0; i < 50; ++i)
    t.add_text(
        "the of and to in is was for with that this by on are we from our which these can may also et al "
        "fig however");
  t.add_text("membrane protein membrane");
  const TextMeasurer m;
  const WordCloud c = layout_word_cloud(t.top(100), m, WordCloudOptions{});
  ASSERT_EQ(c.words.size(), 2u);
  for (const PlacedWord& w : c.words) EXPECT_FALSE(is_stop_word(w.text)) << w.text;
}

TEST(WordCloudRender, SvgWithTheMeasuredFontAndEscapedWords) {
  const TextMeasurer m;
  const WordCloud c = layout_word_cloud(std::vector<TermCount>{{"a<b>&c", 5}, {"protein", 9}}, m, WordCloudOptions{});
  const std::string svg = render_word_cloud(c, "Terms & more");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart cloud\"", 0), 0u);
  EXPECT_THAT(svg, HasSubstr("font-family=\"DejaVu Sans, sans-serif\""));
  EXPECT_THAT(svg, HasSubstr("data-words=\"2\" data-dropped=\"0\""));
  EXPECT_THAT(svg, HasSubstr("<title>Terms &amp; more</title>"));
  EXPECT_THAT(svg, HasSubstr(">a&lt;b&gt;&amp;c</text>"));
  EXPECT_THAT(svg, HasSubstr("lengthAdjust=\"spacingAndGlyphs\""));
  EXPECT_THAT(svg, HasSubstr("<title>protein: 9</title>"));
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
}

}  // namespace
}  // namespace scitune
