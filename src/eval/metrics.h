// Evaluation metrics for generated answers, each equal to the implementation people report numbers with:
//   - SQuAD v1.1 exact match and token F1: the official evaluate-v1.1.py (normalize_answer, f1_score,
//     exact_match_score, metric_max_over_ground_truths), with Python 3 str semantics for non-ASCII text.
//   - ROUGE-L: Google's rouge-score 0.1.2, RougeScorer(['rougeL'], use_stemmer=...) with its default
//     tokenizer and NLTK's Porter stemmer (eval/porter_stemmer.h).
//   - a percentile bootstrap confidence interval of a mean, deterministic for a seed.
// tests/eval/metrics_test.cc holds them to the reference implementations on tests/golden/eval/ (made by
// tools/oracle/make_metric_golden.py in the oracle). Arguments are (prediction, reference) throughout;
// note rouge-score's own score() takes (target, prediction). Text is UTF-8; invalid bytes read as U+FFFD.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scitune {

// ---- SQuAD v1.1

// Lower-cased (full Unicode), ASCII punctuation (Python's string.punctuation) removed, whole words a / an /
// the removed, whitespace runs folded to one space and trimmed: evaluate-v1.1.py's normalize_answer.
std::string squad_normalize(std::string_view text);

// 1 when the normalised texts are equal, else 0 (two empty answers match).
double exact_match(std::string_view prediction, std::string_view reference);

// Harmonic mean of token precision and recall over the multiset intersection of normalised whitespace
// tokens. 0 when no token is shared, including when both sides are empty (as the official script does).
double token_f1(std::string_view prediction, std::string_view reference);

// Best score over several references (metric_max_over_ground_truths). Throws UserError when there are none.
double exact_match_max(std::string_view prediction, std::span<const std::string> references);
double token_f1_max(std::string_view prediction, std::span<const std::string> references);

// ---- ROUGE-L

enum class Stemming { kNone, kPorter };

struct RougeScore {
  double precision = 0;  // LCS / prediction tokens
  double recall = 0;     // LCS / reference tokens
  double fmeasure = 0;   // 2PR / (P + R), 0 when P + R = 0
};

// rouge-score's default tokenizer: lower case, every character outside [a-z0-9] a separator, and with
// kPorter each token longer than 3 characters replaced by its Porter stem.
std::vector<std::string> rouge_tokenize(std::string_view text, Stemming stemming);

// ROUGE-L from the longest common token subsequence; all zeros when either side has no tokens.
RougeScore rouge_l(std::string_view prediction, std::string_view reference, Stemming stemming);

// The score against the reference with the highest F-measure, the first on ties (RougeScorer.score_multi).
// Throws UserError when there are no references.
RougeScore rouge_l_max(std::string_view prediction, std::span<const std::string> references, Stemming stemming);

// ---- bootstrap

struct BootstrapCi {
  double mean = 0;   // mean of the values themselves
  double lower = 0;  // 2.5th percentile of the resampled means
  double upper = 0;  // 97.5th percentile of the resampled means
};

// Percentile bootstrap of the mean. Resample b (b = 0 .. n_resamples-1) draws n = values.size() indices in
// order from one std::mt19937_64(seed) stream, index = (draw * n) >> 64 (128-bit product: no standard-library
// distribution, so every platform draws the same), and averages those values (summed in draw order, / n).
// The bounds are the 0.025 and 0.975 quantiles of the sorted resample means, linearly interpolated at
// q * (n_resamples - 1) (numpy.percentile's default). Throws UserError on no values, a non-finite value or
// n_resamples < 1.
BootstrapCi bootstrap_ci(std::span<const double> values, int n_resamples = 1000, uint64_t seed = 0);

// The q-quantile (0 <= q <= 1) of ascending `sorted`, linear between closest ranks (numpy's "linear").
double percentile_linear(std::span<const double> sorted, double q);

}  // namespace scitune
