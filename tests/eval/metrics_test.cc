// src/eval against the reference implementations: SQuAD v1.1 EM / F1 (official definitions), rouge-score's
// ROUGE-L with and without NLTK's Porter stemmer, NLTK's stems in both modes, CPython's str facts, and
// Snowball's porter (libstemmer) as an independent check of the stemmer's shared steps. Golden data:
// tests/golden/eval/, made in the oracle by tools/oracle/make_metric_golden.py from Debian documentation.
#include "eval/metrics.h"

#include <gtest/gtest.h>
#include <libstemmer.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eval/porter_stemmer.h"
#include "eval/py_str.h"
#include "test_util.h"

namespace scitune {
namespace {

using scitune::testing::error_of;

const std::filesystem::path kGolden = std::filesystem::path(SCITUNE_SOURCE_DIR) / "tests/golden/eval";

std::vector<nlohmann::json> read_jsonl(const std::string& name) {
  std::ifstream in(kGolden / name);
  EXPECT_TRUE(in) << "missing " << (kGolden / name);
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// ---------------------------------------------------------------- SQuAD edge cases

TEST(Squad, NormalizeFollowsTheOfficialOrder) {
  EXPECT_EQ(squad_normalize("The Quick, brown  fox!"), "quick brown fox");
  EXPECT_EQ(squad_normalize("an apple a day\tthe end"), "apple day end");
  EXPECT_EQ(squad_normalize("the-end"), "theend");  // punctuation goes before articles
  EXPECT_EQ(squad_normalize("a_b the_"), "ab");     // '_' is punctuation, "the_" becomes "the"
  EXPECT_EQ(squad_normalize("théâtre thé the1 1the"), "théâtre thé the1 1the");  // \w is Unicode
  EXPECT_EQ(squad_normalize("ΟΔΟΣ ΣΑΣ"), "οδος σας");                            // final sigma
  EXPECT_EQ(squad_normalize("İ"), "i\u0307");
  EXPECT_EQ(squad_normalize("x\u00a0y\u3000z\u200bw"), "x y z\u200bw");  // U+200B is no space to Python
  EXPECT_EQ(squad_normalize(""), "");
  EXPECT_EQ(squad_normalize(" the a an ... "), "");
  EXPECT_EQ(squad_normalize("bad \xff byte"), "bad \ufffd byte");
}

TEST(Squad, ExactMatchAndF1Boundaries) {
  EXPECT_EQ(exact_match("", ""), 1.0);
  EXPECT_EQ(exact_match("The", "..."), 1.0);  // both normalise to ""
  EXPECT_EQ(exact_match("Paris", "paris."), 1.0);
  EXPECT_EQ(exact_match("Paris", "Paris France"), 0.0);
  EXPECT_EQ(token_f1("", ""), 0.0);  // no common token: 0 even for two empty answers
  EXPECT_EQ(token_f1("the", ""), 0.0);
  EXPECT_EQ(token_f1("Paris", "paris!"), 1.0);
  EXPECT_EQ(token_f1("cat dog", "cat"), (2 * 0.5 * 1.0) / 1.5);
  EXPECT_EQ(token_f1("x x y", "x y y"), (2 * (2.0 / 3) * (2.0 / 3)) / (4.0 / 3));  // min counts: x 1, y 1
}

TEST(Squad, MaxOverReferences) {
  const std::vector<std::string> refs = {"London", "in Paris", "Paris"};
  EXPECT_EQ(exact_match_max("paris", refs), 1.0);
  EXPECT_EQ(token_f1_max("Paris", refs), 1.0);
  EXPECT_EQ(token_f1_max("in London", refs), token_f1("in London", "London"));
  EXPECT_NE(error_of([] { exact_match_max("x", {}); }).find("no references"), std::string::npos);
  EXPECT_NE(error_of([] { token_f1_max("x", {}); }).find("no references"), std::string::npos);
}

// ---------------------------------------------------------------- ROUGE-L edge cases

TEST(Rouge, TokenizerKeepsOnlyLowerCaseAsciiAlphanumerics) {
  using V = std::vector<std::string>;
  EXPECT_EQ(rouge_tokenize("Hello, WORLD! 42x  a_b", Stemming::kNone), (V{"hello", "world", "42x", "a", "b"}));
  EXPECT_EQ(rouge_tokenize("İstanbul 20\u212a café", Stemming::kNone), (V{"i", "stanbul", "20k", "caf"}));
  EXPECT_EQ(rouge_tokenize("", Stemming::kNone), V{});
  EXPECT_EQ(rouge_tokenize("... \u00e9 !", Stemming::kNone), V{});
  // Only tokens longer than 3 characters are stemmed ("was" would otherwise become "wa").
  EXPECT_EQ(rouge_tokenize("Running dogs was using", Stemming::kPorter), (V{"run", "dog", "was", "use"}));
}

TEST(Rouge, ScoresAndEmptyInputs) {
  // rouge-score's own example: score(target='The quick brown fox ...', prediction='The quick brown dog ...').
  const RougeScore s =
      rouge_l("The quick brown dog jumps on the log.", "The quick brown fox jumps over the lazy dog", Stemming::kNone);
  EXPECT_EQ(s.precision, 0.625);
  EXPECT_EQ(s.recall, 5.0 / 9);
  EXPECT_EQ(s.fmeasure, 2 * 0.625 * (5.0 / 9) / (0.625 + 5.0 / 9));
  for (const auto& [p, r] : {std::pair{"", "a b"}, {"a b", ""}, {"...", "!!"}, {"", ""}}) {
    const RougeScore z = rouge_l(p, r, Stemming::kPorter);
    EXPECT_EQ(z.precision, 0.0);
    EXPECT_EQ(z.recall, 0.0);
    EXPECT_EQ(z.fmeasure, 0.0);
  }
  const RougeScore none = rouge_l("alpha beta", "gamma delta", Stemming::kNone);  // tokens, no LCS
  EXPECT_EQ(none.fmeasure, 0.0);
  const RougeScore same = rouge_l("A b, c!", "a B c", Stemming::kNone);
  EXPECT_EQ(same.fmeasure, 1.0);
}

TEST(Rouge, MaxTakesTheFirstBestReference) {
  const std::vector<std::string> refs = {"x y", "a b c d", "a b c e", "a b"};
  const RougeScore best = rouge_l_max("a b c", refs, Stemming::kNone);
  const RougeScore first = rouge_l("a b c", refs[1], Stemming::kNone);
  EXPECT_EQ(best.fmeasure, first.fmeasure);
  EXPECT_EQ(best.recall, first.recall);  // refs[3] has recall 1 but a lower F-measure
  EXPECT_NE(error_of([] { rouge_l_max("x", {}, Stemming::kNone); }).find("no references"), std::string::npos);
}

// ---------------------------------------------------------------- Porter stemmer edge cases

TEST(Porter, NltkExtensions) {
  const std::pair<const char*, const char*> cases[] = {
      {"using", "use"},
      {"ones", "one"},
      {"they", "they"},
      {"days", "day"},
      {"trying", "tri"},
      {"ties", "tie"},
      {"died", "die"},
      {"dying", "die"},
      {"news", "news"},
      {"proceed", "proceed"},
      {"possibly", "possibl"},
      {"carefully", "care"},
      {"technology", "technolog"},
      {"conditionally", "condit"},
      {"Running", "run"},
      {"at", "at"},
  };
  for (const auto& [word, stem] : cases) EXPECT_EQ(porter_stem(word), stem) << word;
  EXPECT_EQ(porter_stem("using", PorterMode::kOriginal), "us");
  EXPECT_EQ(porter_stem("they", PorterMode::kOriginal), "thei");
  // Long runs of y's (y after y alternates consonant / vowel): no deep recursion, NLTK 3.10.3's answers.
  EXPECT_EQ(porter_stem(std::string(100000, 'y')), std::string(99999, 'y') + "i");
  EXPECT_EQ(porter_stem(std::string(100001, 'y')), std::string(100001, 'y'));
}

// ---------------------------------------------------------------- bootstrap

TEST(Bootstrap, FollowsTheWrittenResamplingRule) {
  const std::vector<double> v = {0.0, 1.0, 0.5, 0.25, 1.0, 0.0, 0.75};
  // One resample: both bounds are its mean, drawn exactly as metrics.h specifies.
  std::mt19937_64 rng(7);
  double s = 0;
  for (size_t k = 0; k < v.size(); ++k)
    s += v[static_cast<size_t>((static_cast<unsigned __int128>(rng()) * v.size()) >> 64)];
  const BootstrapCi one = bootstrap_ci(v, 1, 7);
  EXPECT_EQ(one.lower, s / v.size());
  EXPECT_EQ(one.upper, s / v.size());

  const BootstrapCi a = bootstrap_ci(v, 1000, 42);
  const BootstrapCi b = bootstrap_ci(v, 1000, 42);
  const BootstrapCi c = bootstrap_ci(v, 1000, 43);
  EXPECT_EQ(a.mean, 3.5 / 7);
  EXPECT_EQ(a.lower, b.lower);
  EXPECT_EQ(a.upper, b.upper);
  EXPECT_TRUE(a.lower != c.lower || a.upper != c.upper);
  EXPECT_LE(a.lower, a.mean);
  EXPECT_GE(a.upper, a.mean);
}

TEST(Bootstrap, WidthMatchesTheNormalApproximation) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> v(400);
  for (double& x : v) x = normal(rng);
  const BootstrapCi ci = bootstrap_ci(v, 2000, 5);
  const double expected = 2 * 1.959964 / std::sqrt(400.0);  // about 0.196 for unit variance
  EXPECT_NEAR(ci.upper - ci.lower, expected, 0.2 * expected);
}

TEST(Bootstrap, DegenerateAndBadInputs) {
  const std::vector<double> same(10, 0.3);
  const BootstrapCi ci = bootstrap_ci(same, 100, 1);
  EXPECT_DOUBLE_EQ(ci.lower, 0.3);
  EXPECT_DOUBLE_EQ(ci.upper, 0.3);
  EXPECT_NE(error_of([] { bootstrap_ci({}, 10, 1); }).find("no values"), std::string::npos);
  const std::vector<double> one = {1.0};
  EXPECT_NE(error_of([&] { bootstrap_ci(one, 0, 1); }).find("n_resamples 0"), std::string::npos);
  const std::vector<double> nan = {1.0, std::nan("")};
  EXPECT_NE(error_of([&] { bootstrap_ci(nan, 10, 1); }).find("value 1 is not finite"), std::string::npos);
}

TEST(Bootstrap, PercentileIsNumpyLinear) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_linear(v, 0.025), 1.075);  // numpy.percentile([1,2,3,4], 2.5)
  EXPECT_DOUBLE_EQ(percentile_linear(v, 0.975), 3.925);
  EXPECT_EQ(percentile_linear(v, 0.0), 1);
  EXPECT_EQ(percentile_linear(v, 1.0), 4);
}

// ---------------------------------------------------------------- golden: the reference implementations

void expect_rouge(const nlohmann::json& want, const RougeScore& got, double& max_diff, const std::string& where) {
  const double d[3] = {got.precision - want[0].get<double>(), got.recall - want[1].get<double>(),
                       got.fmeasure - want[2].get<double>()};
  for (double x : d) {
    max_diff = std::max(max_diff, std::abs(x));
    EXPECT_LE(std::abs(x), 1e-6) << where;
  }
}

TEST(Golden, PairsEqualSquadScriptAndRougeScore) {
  const auto rows = read_jsonl("pairs.jsonl");
  ASSERT_GE(rows.size(), 1000u);
  double d_em = 0, d_f1 = 0, d_rl = 0, d_rls = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const auto pred = r["pred"].get<std::string>();
    const auto ref = r["ref"].get<std::string>();
    const std::string where =
        "pair " + std::to_string(i) + " pred=" + nlohmann::json(pred).dump() + " ref=" + nlohmann::json(ref).dump();
    const double em = exact_match(pred, ref), f1 = token_f1(pred, ref);
    d_em = std::max(d_em, std::abs(em - r["em"].get<double>()));
    d_f1 = std::max(d_f1, std::abs(f1 - r["f1"].get<double>()));
    EXPECT_NEAR(em, r["em"].get<double>(), 1e-12) << where;
    EXPECT_NEAR(f1, r["f1"].get<double>(), 1e-12) << where;
    expect_rouge(r["rl"], rouge_l(pred, ref, Stemming::kNone), d_rl, where + " (rougeL)");
    expect_rouge(r["rls"], rouge_l(pred, ref, Stemming::kPorter), d_rls, where + " (rougeL, stemmed)");
  }
  std::printf("[ golden  ] %zu pairs: max |diff| EM %g, F1 %g, ROUGE-L %g, ROUGE-L stemmed %g\n", rows.size(), d_em,
              d_f1, d_rl, d_rls);
}

TEST(Golden, MultiReferenceEqualsMaxOverGroundTruthsAndScoreMulti) {
  const auto rows = read_jsonl("multi_ref.jsonl");
  ASSERT_GE(rows.size(), 100u);
  double d_rl = 0, d_rls = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const auto pred = r["pred"].get<std::string>();
    const auto refs = r["refs"].get<std::vector<std::string>>();
    const std::string where = "case " + std::to_string(i);
    EXPECT_NEAR(exact_match_max(pred, refs), r["em"].get<double>(), 1e-12) << where;
    EXPECT_NEAR(token_f1_max(pred, refs), r["f1"].get<double>(), 1e-12) << where;
    expect_rouge(r["rl"], rouge_l_max(pred, refs, Stemming::kNone), d_rl, where);
    expect_rouge(r["rls"], rouge_l_max(pred, refs, Stemming::kPorter), d_rls, where + " (stemmed)");
  }
  std::printf("[ golden  ] %zu multi-reference cases: max |diff| ROUGE-L %g, stemmed %g\n", rows.size(), d_rl, d_rls);
}

struct StemRow {
  std::string word, nltk, original;
};

std::vector<StemRow> read_stems() {
  std::ifstream in(kGolden / "stems.tsv");
  EXPECT_TRUE(in);
  std::vector<StemRow> rows;
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find('\t'), b = line.find('\t', a + 1);
    rows.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return rows;
}

TEST(Golden, StemsEqualNltkInBothModes) {
  const auto rows = read_stems();
  ASSERT_GE(rows.size(), 10000u);
  int nltk_vs_original = 0;
  for (const auto& r : rows) {
    EXPECT_EQ(porter_stem(r.word, PorterMode::kNltk), r.nltk) << r.word;
    EXPECT_EQ(porter_stem(r.word, PorterMode::kOriginal), r.original) << r.word;
    nltk_vs_original += r.nltk != r.original;
  }
  std::printf("[ golden  ] %zu words stemmed as NLTK does (the two modes differ on %d)\n", rows.size(),
              nltk_vs_original);
}

// Snowball's porter is the paper's algorithm except that step 1b undoubles only bb dd ff gg mm nn pp rr tt
// ("docced" -> "docc"; the paper and NLTK undouble any consonant but l, s, z).
TEST(Golden, OriginalModeEqualsSnowballPorter) {
  sb_stemmer* sb = sb_stemmer_new("porter", nullptr);
  ASSERT_NE(sb, nullptr);
  const auto rows = read_stems();
  int checked = 0;
  for (const auto& r : rows) {
    const sb_symbol* out =
        sb_stemmer_stem(sb, reinterpret_cast<const sb_symbol*>(r.word.data()), static_cast<int>(r.word.size()));
    const std::string snowball(reinterpret_cast<const char*>(out), static_cast<size_t>(sb_stemmer_length(sb)));
    const std::string ours = porter_stem(r.word, PorterMode::kOriginal);
    if (snowball != ours) {
      // Allowed only as Snowball's narrower undoubling: it keeps one more copy of a consonant outside its list.
      const bool undoubling = snowball.size() == ours.size() + 1 && snowball.compare(0, ours.size(), ours) == 0 &&
                              snowball.back() == ours.back() &&
                              std::string_view("bdfgmnprt").find(ours.back()) == std::string_view::npos;
      EXPECT_TRUE(undoubling) << r.word << ": snowball " << snowball << ", ours " << ours;
    }
    ++checked;
  }
  sb_stemmer_delete(sb);
  EXPECT_GE(checked, 10000);
}

// CPython 3.14 (Unicode 16) vs ICU 72 (Unicode 15) for every code point: only characters ICU does not know yet
// may differ.
TEST(Golden, PythonStrFactsForEveryCodePoint) {
  std::ifstream in(kGolden / "unicode.json");
  ASSERT_TRUE(in);
  const auto j = nlohmann::json::parse(in);
  std::vector<std::u32string> lower(0x110000);
  std::vector<bool> space(0x110000), word(0x110000);
  for (const auto& e : j["lower"]) {
    std::u32string s;
    for (size_t k = 1; k < e.size(); ++k) s.push_back(static_cast<char32_t>(e[k].get<uint32_t>()));
    lower[e[0].get<size_t>()] = s;
  }
  for (const auto& [key, table] : {std::pair{"isspace", &space}, {"word", &word}})
    for (const auto& r : j[key])
      for (auto c = r[0].get<size_t>(); c <= r[1].get<size_t>(); ++c) (*table)[c] = true;

  int compared = 0, unknown_to_icu = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    std::string one;
    append_utf8(one, c);
    const std::u32string want = lower[c].empty() ? std::u32string(1, c) : lower[c];
    const bool same =
        utf8_to_code_points(py_lower(one)) == want && py_isspace(c) == space[c] && py_is_word(c) == word[c];
    if (u_charType(static_cast<UChar32>(c)) == U_UNASSIGNED) {
      unknown_to_icu += !same;
      continue;
    }
    EXPECT_TRUE(same) << "U+" << std::hex << static_cast<uint32_t>(c);
    ++compared;
  }
  std::printf("[ golden  ] %d code points as CPython %s (Unicode %s); %d new in Unicode 16 differ\n", compared,
              j["python"].get<std::string>().c_str(), j["unicode_version"].get<std::string>().c_str(), unknown_to_icu);
}

}  // namespace
}  // namespace scitune
