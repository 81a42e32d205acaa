// The Sampler against transformers' logits-processor rules (model/sampling.h): greedy ties, top-k (with ties),
// top-p's minimal nucleus, min-p, the repetition penalty's sign rule, seeds, and the law of the draws.
#include "model/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "test_util.h"

namespace scitune {
namespace {

using testing::error_of;
using testing::randn_mt64;  // the logits below: N(0, scale^2) over std::mt19937_64

SamplingOptions sampling(int64_t top_k = 0, double top_p = 1.0, double min_p = 0.0, double temperature = 1.0) {
  SamplingOptions o;
  o.do_sample = true;
  o.temperature = temperature;
  o.top_k = top_k;
  o.top_p = top_p;
  o.min_p = min_p;
  o.seed = 1234;
  return o;
}

// Every id drawn in `n` draws (fresh copies of the logits each time).
std::set<int32_t> drawn(Sampler& s, const std::vector<float>& logits, int n, std::span<const int32_t> history = {}) {
  std::set<int32_t> ids;
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = logits;
    ids.insert(s.sample(l, history));
  }
  return ids;
}

std::vector<float> log_probs(std::initializer_list<double> p) {
  std::vector<float> l;
  for (double x : p) l.push_back(static_cast<float>(std::log(x)));
  return l;
}

TEST(Sampler, GreedyIsArgmaxWithTheLowestIdOnTies) {
  SamplingOptions o;
  o.do_sample = false;
  Sampler s(o);
  std::vector<float> l = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
  EXPECT_EQ(s.sample(l, {}), 1);
  o.do_sample = true;
  o.temperature = 0;  // temperature 0 is greedy too
  Sampler t(o);
  l = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
  EXPECT_EQ(t.sample(l, {}), 1);
  for (double tiny : {1e-30, 1e-60}) {  // near-zero temperatures: no overflow, the argmax wins
    o.temperature = tiny;
    Sampler u(o);
    l = {0.5f, 2.0f, -1.0f, 1.9999f, 1.0f};
    EXPECT_EQ(u.sample(l, {}), 1) << tiny;
  }
  const auto big = randn_mt64(262144, 3, 3.0f);
  std::vector<float> copy = big;
  EXPECT_EQ(s.sample(copy, {}), std::max_element(big.begin(), big.end()) - big.begin());
}

TEST(Sampler, TopKOneIsGreedy) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto l = randn_mt64(5000, seed, 3.0f);
    SamplingOptions o = sampling(1);
    o.seed = seed;
    Sampler s(o);
    std::vector<float> copy = l;
    EXPECT_EQ(s.sample(copy, {}), std::max_element(l.begin(), l.end()) - l.begin()) << seed;
  }
}

TEST(Sampler, TopKKeepsTiesWithTheKthLogitAsHfDoes) {
  Sampler one(sampling(1));
  EXPECT_EQ(drawn(one, {1.0f, 3.0f, 3.0f, 2.0f}, 200), (std::set<int32_t>{1, 2}));
  Sampler three(sampling(3));
  EXPECT_EQ(drawn(three, {1.0f, 3.0f, 3.0f, 2.0f, 0.5f}, 400), (std::set<int32_t>{1, 2, 3}));
}

TEST(Sampler, TopKOnAFullVocabularyDrawsOnlyFromTheKBest) {
  const auto l = randn_mt64(262144, 7, 1.0f);
  std::vector<float> sorted = l;
  std::nth_element(sorted.begin(), sorted.begin() + 63, sorted.end(), std::greater<float>());
  const float kth = sorted[63];
  Sampler s(sampling(64, 1.0, 0.0, 5.0));  // a hot temperature spreads the draws over all 64
  const auto ids = drawn(s, l, 400);
  EXPECT_GT(ids.size(), 30u);
  for (int32_t id : ids) EXPECT_GE(l[id], kth) << id;
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOncePerId) {
  SamplingOptions o;
  o.do_sample = false;
  o.repetition_penalty = 2.0;
  Sampler s(o);
  std::vector<float> l = {2.0f, -2.0f, 1.5f, 0.5f};
  const std::vector<int32_t> history = {0, 1, 1, 0};  // repeats are penalised once
  EXPECT_EQ(s.sample(l, history), 2);                 // 2 / 2 = 1 < 1.5
  EXPECT_EQ(l, (std::vector<float>{1.0f, -4.0f, 1.5f, 0.5f}));
  std::vector<float> again = {2.0f, -2.0f, 1.5f, 0.5f};
  EXPECT_EQ(s.sample(again, std::vector<int32_t>{}), 0);  // no history, no penalty
  std::vector<float> bad = {1.0f, 2.0f};
  EXPECT_NE(error_of([&] { s.sample(bad, std::vector<int32_t>{5}); }).find("history token id 5"), std::string::npos);
}

TEST(Sampler, TopPKeepsTheMinimalNucleus) {
  const auto l = log_probs({0.5, 0.3, 0.15, 0.05});
  // Kept while the mass ranked above a token is < top_p.
  for (auto [top_p, want] :
       {std::pair{0.4, std::set<int32_t>{0}}, std::pair{0.75, std::set<int32_t>{0, 1}},
        std::pair{0.85, std::set<int32_t>{0, 1, 2}}, std::pair{0.99, std::set<int32_t>{0, 1, 2, 3}}}) {
    Sampler s(sampling(0, top_p));
    EXPECT_EQ(drawn(s, l, 3000), want) << top_p;
  }
  // The order is by probability, not by id.
  Sampler s(sampling(0, 0.75));
  EXPECT_EQ(drawn(s, log_probs({0.05, 0.15, 0.3, 0.5}), 2000), (std::set<int32_t>{2, 3}));
}

TEST(Sampler, TopPOverAFullVocabularySortsOnlyWhatItNeeds) {
  // Nearly flat logits: the nucleus spans ~half the vocabulary, past every partial-sort step.
  const auto l = randn_mt64(262144, 11, 0.01f);
  std::vector<float> sorted = l;
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  double sum = 0, before = 0;
  for (float x : sorted) sum += std::exp(static_cast<double>(x - sorted[0]));
  size_t keep = 0;
  while (keep < sorted.size() && (keep == 0 || before < 0.5))
    before += std::exp(static_cast<double>(sorted[keep++] - sorted[0])) / sum;
  const float cut = sorted[keep - 1];
  Sampler s(sampling(0, 0.5));
  for (int32_t id : drawn(s, l, 100)) EXPECT_GE(l[id], cut) << id;
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheTopProbability) {
  const auto l = log_probs({0.5, 0.3, 0.15, 0.05});
  Sampler a(sampling(0, 1.0, 0.25));  // threshold 0.125
  EXPECT_EQ(drawn(a, l, 3000), (std::set<int32_t>{0, 1, 2}));
  Sampler b(sampling(0, 1.0, 0.5));  // threshold 0.25
  EXPECT_EQ(drawn(b, l, 3000), (std::set<int32_t>{0, 1}));
  Sampler c(sampling(0, 1.0, 1.0));  // only the top token
  EXPECT_EQ(drawn(c, l, 500), (std::set<int32_t>{0}));
}

TEST(Sampler, TheSameSeedGivesTheSameDraws) {
  const auto l = randn_mt64(1000, 5, 1.0f);
  auto run = [&](uint64_t seed) {
    SamplingOptions o = sampling(50, 0.9, 0.0, 0.8);
    o.seed = seed;
    Sampler s(o);
    std::vector<int32_t> out;
    for (int i = 0; i < 300; ++i) {
      std::vector<float> copy = l;
      out.push_back(s.sample(copy, out));
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Sampler, DrawsFollowTheSoftmaxAtTemperatureT) {
  const std::vector<float> l = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -2.0f};
  const double T = 0.7;
  std::vector<double> p(l.size());
  double sum = 0;
  for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp(l[i] / T);
  for (double& x : p) x /= sum;
  Sampler s(sampling(0, 1.0, 0.0, T));
  const int n = 60000;
  std::vector<int> count(l.size());
  for (int i = 0; i < n; ++i) {
    std::vector<float> copy = l;
    ++count[s.sample(copy, {})];
  }
  double chi2 = 0;
  for (size_t i = 0; i < l.size(); ++i) chi2 += std::pow(count[i] - n * p[i], 2) / (n * p[i]);
  EXPECT_LT(chi2, 25.7);  // chi-square, 5 degrees of freedom, p = 1e-4
}

TEST(Sampler, NonFiniteLogitsAreRejectedButMinusInfinityBansAToken) {
  Sampler s(sampling(0));
  std::vector<float> nan = {1.0f, std::nanf(""), 0.0f};
  EXPECT_NE(error_of([&] { s.sample(nan, {}); }).find("token 1 is nan"), std::string::npos);
  std::vector<float> inf = {1.0f, 0.0f, std::numeric_limits<float>::infinity()};
  EXPECT_NE(error_of([&] { s.sample(inf, {}); }).find("token 2 is inf"), std::string::npos);
  const float ninf = -std::numeric_limits<float>::infinity();
  std::vector<float> none = {ninf, ninf};
  EXPECT_NE(error_of([&] { s.sample(none, {}); }).find("every logit is -inf"), std::string::npos);
  EXPECT_EQ(drawn(s, {0.0f, ninf, 0.0f}, 300), (std::set<int32_t>{0, 2}));
}

TEST(Sampler, OptionsAreChecked) {
  auto err = [](SamplingOptions o) { return error_of([&] { Sampler s(o); }); };
  SamplingOptions o;
  o.top_p = 0;
  EXPECT_NE(err(o).find("top_p"), std::string::npos);
  o = {};
  o.temperature = -1;
  EXPECT_NE(err(o).find("temperature"), std::string::npos);
  o = {};
  o.repetition_penalty = 0;
  EXPECT_NE(err(o).find("repetition_penalty"), std::string::npos);
  o = {};
  o.min_p = 1.5;
  EXPECT_NE(err(o).find("min_p"), std::string::npos);
  o = {};
  o.top_k = -3;
  EXPECT_NE(err(o).find("top_k"), std::string::npos);
  GenerationDefaults g;
  g.top_k = 5;
  g.do_sample = false;
  const SamplingOptions from = sampling_options_from(g, 9);
  EXPECT_EQ(from.top_k, 5);
  EXPECT_FALSE(from.do_sample);
  EXPECT_EQ(from.seed, 9u);
}

}  // namespace
}  // namespace scitune
