// ROUGE-L equal to Google's rouge-score 0.1.2 (rouge_scorer.RougeScorer(['rougeL'], use_stemmer=...)):
// tokenize.tokenize, _score_lcs, scoring.fmeasure and score_multi. Golden pairs in tests/golden/eval/.
#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "eval/metrics.h"
#include "eval/porter_stemmer.h"
#include "eval/py_str.h"
#include "util/error.h"

namespace scitune {
namespace {

// rouge-score lower-cases with Python's str.lower() and then keeps only [a-z0-9]. Besides A-Z only two code
// points lower-case to ASCII letters or digits (checked over all of Unicode in CPython 3.14): U+0130 to
// "i\u0307" (the combining dot then separates) and KELVIN SIGN U+212A to "k".
char ascii_after_lower(char32_t c) {
  if (c >= U'a' && c <= U'z') return static_cast<char>(c);
  if (c >= U'0' && c <= U'9') return static_cast<char>(c);
  if (c >= U'A' && c <= U'Z') return static_cast<char>(c - U'A' + U'a');
  if (c == 0x212A) return 'k';
  return 0;
}

// Length of the longest common subsequence, one DP row at a time (rouge-score's _lcs_table keeps it all).
size_t lcs_length(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (int x : a) {
    for (size_t j = 1; j <= b.size(); ++j) cur[j] = x == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

double fmeasure(double precision, double recall) {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

}  // namespace

std::vector<std::string> rouge_tokenize(std::string_view text, Stemming stemming) {
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    // Only words longer than 3 characters are stemmed; a stem is never empty, but rouge-score re-checks
    // [a-z0-9]+ afterwards, and so do we.
    if (stemming == Stemming::kPorter && cur.size() > 3) cur = porter_stem(cur, PorterMode::kNltk);
    if (!cur.empty()) tokens.push_back(std::move(cur));
    cur.clear();
  };
  for (char32_t c : utf8_to_code_points(text)) {
    if (c == 0x130) {  // "i" + U+0307: the i ends the token
      cur.push_back('i');
      flush();
    } else if (const char a = ascii_after_lower(c)) {
      cur.push_back(a);
    } else {
      flush();
    }
  }
  flush();
  return tokens;
}

RougeScore rouge_l(std::string_view prediction, std::string_view reference, Stemming stemming) {
  const std::vector<std::string> pred = rouge_tokenize(prediction, stemming);
  const std::vector<std::string> ref = rouge_tokenize(reference, stemming);
  if (pred.empty() || ref.empty()) return {};

  // Compare small integers, not strings, in the O(n m) table.
  std::unordered_map<std::string_view, int> ids;
  auto to_ids = [&](const std::vector<std::string>& tokens) {
    std::vector<int> out;
    out.reserve(tokens.size());
    for (const std::string& t : tokens) out.push_back(ids.emplace(t, static_cast<int>(ids.size())).first->second);
    return out;
  };
  const std::vector<int> ref_ids = to_ids(ref);
  const std::vector<int> pred_ids = to_ids(pred);
  const auto lcs = static_cast<double>(lcs_length(ref_ids, pred_ids));

  RougeScore s;
  s.precision = lcs / static_cast<double>(pred.size());
  s.recall = lcs / static_cast<double>(ref.size());
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

RougeScore rouge_l_max(std::string_view prediction, std::span<const std::string> references, Stemming stemming) {
  if (references.empty()) fail("rouge_l_max: no references; expected at least one");
  RougeScore best = rouge_l(prediction, references[0], stemming);
  for (size_t i = 1; i < references.size(); ++i) {
    const RougeScore s = rouge_l(prediction, references[i], stemming);
    if (s.fmeasure > best.fmeasure) best = s;  // strict: the first maximum wins, as np.argmax
  }
  return best;
}

}  // namespace scitune
