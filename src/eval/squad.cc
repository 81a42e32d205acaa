// SQuAD v1.1 exact match and token F1, equal to the official evaluate-v1.1.py run under Python 3 (golden
// pairs in tests/golden/eval/). The order of the normalisation steps matters and is the script's: lower,
// strip punctuation, drop articles, fold whitespace ("the-end" loses its hyphen and is then no article).
#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "eval/metrics.h"
#include "eval/py_str.h"
#include "util/error.h"

namespace scitune {
namespace {

// Python's string.punctuation; every character is ASCII, so removing code points equals removing bytes.
constexpr std::u32string_view kPunctuation = U"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

bool is_article(std::u32string_view w) { return w == U"a" || w == U"an" || w == U"the"; }

// Whitespace tokens of an already normalised text (single spaces, no ends to trim).
std::vector<std::string_view> tokens_of(std::string_view normalized) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < normalized.size()) {
    size_t end = normalized.find(' ', start);
    if (end == std::string_view::npos) end = normalized.size();
    out.push_back(normalized.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string squad_normalize(std::string_view text) {
  std::u32string s;
  for (char32_t c : utf8_to_code_points(py_lower(text)))
    if (kPunctuation.find(c) == std::u32string_view::npos) s.push_back(c);

  // re.sub(r'\b(a|an|the)\b', ' ', ...): a, n, t, h, e are word characters, so a match starts and ends
  // exactly at the ends of a maximal run of \w characters; the run must be the whole article.
  std::u32string no_articles;
  for (size_t i = 0; i < s.size();) {
    if (!py_is_word(s[i])) {
      no_articles.push_back(s[i++]);
      continue;
    }
    size_t j = i;
    while (j < s.size() && py_is_word(s[j])) ++j;
    const std::u32string_view run(s.data() + i, j - i);
    if (is_article(run))
      no_articles.push_back(U' ');
    else
      no_articles.append(run);
    i = j;
  }

  // ' '.join(text.split())
  std::string out;
  bool in_token = false;
  for (char32_t c : no_articles) {
    if (py_isspace(c)) {
      in_token = false;
      continue;
    }
    if (!in_token && !out.empty()) out.push_back(' ');
    in_token = true;
    append_utf8(out, c);
  }
  return out;
}

double exact_match(std::string_view prediction, std::string_view reference) {
  return squad_normalize(prediction) == squad_normalize(reference) ? 1.0 : 0.0;
}

double token_f1(std::string_view prediction, std::string_view reference) {
  const std::string pred_norm = squad_normalize(prediction);
  const std::string ref_norm = squad_normalize(reference);
  const std::vector<std::string_view> pred = tokens_of(pred_norm);
  const std::vector<std::string_view> ref = tokens_of(ref_norm);

  // Counter(pred) & Counter(ref): each token counts min(times in pred, times in ref).
  std::unordered_map<std::string_view, int> ref_count;
  for (std::string_view t : ref) ++ref_count[t];
  int num_same = 0;
  for (std::string_view t : pred) {
    auto it = ref_count.find(t);
    if (it != ref_count.end() && it->second > 0) {
      --it->second;
      ++num_same;
    }
  }
  if (num_same == 0) return 0.0;
  // Same operations in the same order as the script, so the doubles are bit-identical.
  const double precision = 1.0 * num_same / static_cast<double>(pred.size());
  const double recall = 1.0 * num_same / static_cast<double>(ref.size());
  return (2 * precision * recall) / (precision + recall);
}

namespace {

template <class Metric>
double max_over(std::string_view name, std::string_view prediction, std::span<const std::string> references,
                Metric metric) {
  if (references.empty()) fail(std::string(name) + ": no references; expected at least one");
  double best = metric(prediction, references[0]);
  for (size_t i = 1; i < references.size(); ++i) best = std::max(best, metric(prediction, references[i]));
  return best;
}

}  // namespace

double exact_match_max(std::string_view prediction, std::span<const std::string> references) {
  return max_over("exact_match_max", prediction, references, exact_match);
}

double token_f1_max(std::string_view prediction, std::span<const std::string> references) {
  return max_over("token_f1_max", prediction, references, token_f1);
}

}  // namespace scitune
