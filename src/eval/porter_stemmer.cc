// NLTK's Porter stemmer (NLTK_EXTENSIONS and ORIGINAL_ALGORITHM modes); why a port and not Snowball: see
// porter_stemmer.h. Step names and rule tables follow Porter's paper; "m" is the paper's measure, the number
// of vowel-consonant sequences in a stem. Each rule list is first-match-decides: the first suffix the word
// ends with picks the rule, and when that rule's condition fails the word is left as it is.
#include "eval/porter_stemmer.h"

#include <iterator>
#include <span>
#include <utility>
#include <vector>

namespace scitune {
namespace {

bool is_vowel_letter(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// The paper's consonant: not a vowel letter, where a 'y' is a consonant unless it follows a consonant. A run
// of y's alternates, so walk back over it instead of recursing (a token of 10,000 y's must not blow the stack).
bool is_consonant(std::string_view w, size_t i) {
  bool flip = false;
  while (i > 0 && w[i] == 'y') {
    flip = !flip;
    --i;
  }
  return !is_vowel_letter(w[i]) != flip;
}

// m: count of vowel->consonant transitions, classifying left to right in one pass.
int measure(std::string_view stem) {
  int m = 0;
  bool prev_consonant = true;
  for (size_t i = 0; i < stem.size(); ++i) {
    const char c = stem[i];
    const bool consonant = is_vowel_letter(c) ? false : c == 'y' ? (i == 0 || !prev_consonant) : true;
    if (i > 0 && !prev_consonant && consonant) ++m;
    prev_consonant = consonant;
  }
  return m;
}

bool contains_vowel(std::string_view stem) {
  for (size_t i = 0; i < stem.size(); ++i)
    if (!is_consonant(stem, i)) return true;
  return false;
}

bool ends_with(std::string_view w, std::string_view suffix) {
  return w.size() >= suffix.size() && w.substr(w.size() - suffix.size()) == suffix;
}

// *d: ends with a double consonant.
bool ends_double_consonant(std::string_view w) {
  const size_t n = w.size();
  return n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1);
}

// *o: ends consonant-vowel-consonant, the last not w, x or y. NLTK also accepts a whole 2-letter stem that is
// vowel-consonant (any consonant), which keeps the e of "use", "one", "axe".
bool ends_cvc(std::string_view w, PorterMode mode) {
  const size_t n = w.size();
  if (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) && w[n - 1] != 'w' &&
      w[n - 1] != 'x' && w[n - 1] != 'y')
    return true;
  return mode == PorterMode::kNltk && n == 2 && !is_consonant(w, 0) && is_consonant(w, 1);
}

using Condition = bool (*)(std::string_view stem);
struct Rule {
  std::string_view suffix;
  std::string_view replacement;
  Condition condition;  // on the word without the suffix
};

bool m_positive(std::string_view stem) { return measure(stem) > 0; }
bool m_above_1(std::string_view stem) { return measure(stem) > 1; }

std::string apply_first(const std::string& w, std::span<const Rule> rules) {
  for (const Rule& r : rules) {
    if (!ends_with(w, r.suffix)) continue;
    const std::string_view stem = std::string_view(w).substr(0, w.size() - r.suffix.size());
    return r.condition(stem) ? std::string(stem) + std::string(r.replacement) : w;
  }
  return w;
}

std::string without(const std::string& w, size_t n) { return w.substr(0, w.size() - n); }

std::string step1a(const std::string& w, PorterMode mode) {
  // NLTK: "ties" -> "tie" rather than "ti" (but "flies" -> "fli").
  if (mode == PorterMode::kNltk && w.size() == 4 && ends_with(w, "ies")) return without(w, 3) + "ie";
  if (ends_with(w, "sses")) return without(w, 2);
  if (ends_with(w, "ies")) return without(w, 2);
  if (ends_with(w, "ss")) return w;
  if (ends_with(w, "s")) return without(w, 1);
  return w;
}

std::string step1b(const std::string& w, PorterMode mode) {
  // NLTK: "died" -> "die", "spied" -> "spi", with none of the clean-up below.
  if (mode == PorterMode::kNltk && ends_with(w, "ied")) return without(w, 3) + (w.size() == 4 ? "ie" : "i");
  if (ends_with(w, "eed")) return measure(std::string_view(w).substr(0, w.size() - 3)) > 0 ? without(w, 1) : w;

  std::string stem;
  if (ends_with(w, "ed") && contains_vowel(std::string_view(w).substr(0, w.size() - 2)))
    stem = without(w, 2);
  else if (ends_with(w, "ing") && contains_vowel(std::string_view(w).substr(0, w.size() - 3)))
    stem = without(w, 3);
  else
    return w;

  // Clean-up after -ed / -ing: restore an e that step 4 may remove, undouble, or add e to a short stem.
  if (ends_with(stem, "at") || ends_with(stem, "bl") || ends_with(stem, "iz")) return stem + "e";
  if (ends_double_consonant(stem)) {
    const char last = stem.back();
    return last == 'l' || last == 's' || last == 'z' ? stem : without(stem, 1);
  }
  if (measure(stem) == 1 && ends_cvc(stem, mode)) return stem + "e";
  return stem;
}

std::string step1c(const std::string& w, PorterMode mode) {
  if (!ends_with(w, "y")) return w;
  const std::string_view stem = std::string_view(w).substr(0, w.size() - 1);
  // NLTK: only after a consonant that is not the whole stem ("happy" -> "happi", "enjoy" and "by" stay);
  // the paper: whenever the stem has a vowel.
  const bool change =
      mode == PorterMode::kNltk ? stem.size() > 1 && is_consonant(stem, stem.size() - 1) : contains_vowel(stem);
  return change ? std::string(stem) + "i" : w;
}

std::string step2(const std::string& w, PorterMode mode) {
  // NLTK: -alli -> -al first, then step 2 again ("conditionalli" -> "conditional" -> "condition").
  if (mode == PorterMode::kNltk && ends_with(w, "alli") && m_positive(std::string_view(w).substr(0, w.size() - 4)))
    return step2(without(w, 4) + "al", mode);

  static constexpr Rule kHead[] = {
      {"ational", "ate", m_positive}, {"tional", "tion", m_positive}, {"enci", "ence", m_positive},
      {"anci", "ance", m_positive},   {"izer", "ize", m_positive},
  };
  // The paper's ABLI -> ABLE; NLTK (like Porter's later versions) BLI -> BLE.
  static constexpr Rule kOriginalBli[] = {{"abli", "able", m_positive}};
  static constexpr Rule kNltkBli[] = {{"bli", "ble", m_positive}};
  static constexpr Rule kTail[] = {
      {"alli", "al", m_positive},     {"entli", "ent", m_positive},   {"eli", "e", m_positive},
      {"ousli", "ous", m_positive},   {"ization", "ize", m_positive}, {"ation", "ate", m_positive},
      {"ator", "ate", m_positive},    {"alism", "al", m_positive},    {"iveness", "ive", m_positive},
      {"fulness", "ful", m_positive}, {"ousness", "ous", m_positive}, {"aliti", "al", m_positive},
      {"iviti", "ive", m_positive},   {"biliti", "ble", m_positive},
  };
  // NLTK's additions, tried last. -logi keeps its 'l' in the measured stem, so "geology" -> "geolog".
  static constexpr Rule kNltkExtra[] = {
      {"fulli", "ful", m_positive},
      {"logi", "log", [](std::string_view stem) { return measure(std::string(stem) + "l") > 0; }},
  };

  auto build = [&](bool nltk) {
    std::vector<Rule> rules(std::begin(kHead), std::end(kHead));
    if (nltk)
      rules.insert(rules.end(), std::begin(kNltkBli), std::end(kNltkBli));
    else
      rules.insert(rules.end(), std::begin(kOriginalBli), std::end(kOriginalBli));
    rules.insert(rules.end(), std::begin(kTail), std::end(kTail));
    if (nltk) rules.insert(rules.end(), std::begin(kNltkExtra), std::end(kNltkExtra));
    return rules;
  };
  static const std::vector<Rule> kNltkRules = build(true), kOriginalRules = build(false);
  return apply_first(w, mode == PorterMode::kNltk ? kNltkRules : kOriginalRules);
}

std::string step3(const std::string& w) {
  static constexpr Rule kRules[] = {
      {"icate", "ic", m_positive}, {"ative", "", m_positive}, {"alize", "al", m_positive}, {"iciti", "ic", m_positive},
      {"ical", "ic", m_positive},  {"ful", "", m_positive},   {"ness", "", m_positive},
  };
  return apply_first(w, kRules);
}

std::string step4(const std::string& w) {
  static constexpr Rule kRules[] = {
      {"al", "", m_above_1},
      {"ance", "", m_above_1},
      {"ence", "", m_above_1},
      {"er", "", m_above_1},
      {"ic", "", m_above_1},
      {"able", "", m_above_1},
      {"ible", "", m_above_1},
      {"ant", "", m_above_1},
      {"ement", "", m_above_1},
      {"ment", "", m_above_1},
      {"ent", "", m_above_1},
      {"ion", "", [](std::string_view s) { return measure(s) > 1 && (s.back() == 's' || s.back() == 't'); }},
      {"ou", "", m_above_1},
      {"ism", "", m_above_1},
      {"ate", "", m_above_1},
      {"iti", "", m_above_1},
      {"ous", "", m_above_1},
      {"ive", "", m_above_1},
      {"ize", "", m_above_1},
  };
  return apply_first(w, kRules);
}

// Step 5a tries both e rules (m > 1, then m = 1 and not *o), unlike a first-match list.
std::string step5a(const std::string& w, PorterMode mode) {
  if (!ends_with(w, "e")) return w;
  const std::string_view stem = std::string_view(w).substr(0, w.size() - 1);
  const int m = measure(stem);
  if (m > 1 || (m == 1 && !ends_cvc(stem, mode))) return std::string(stem);
  return w;
}

std::string step5b(const std::string& w) {
  if (ends_with(w, "ll") && measure(std::string_view(w).substr(0, w.size() - 1)) > 1) return without(w, 1);
  return w;
}

// NLTK's irregular forms, looked up before any step.
std::string_view irregular(std::string_view w) {
  static constexpr std::pair<std::string_view, std::string_view> kPool[] = {
      {"sky", "sky"},        {"skies", "sky"},       {"dying", "die"},        {"lying", "lie"},
      {"tying", "tie"},      {"news", "news"},       {"innings", "inning"},   {"inning", "inning"},
      {"outings", "outing"}, {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},      {"proceed", "proceed"}, {"exceed", "exceed"},    {"succeed", "succeed"},
  };
  for (const auto& [form, stem] : kPool)
    if (form == w) return stem;
  return {};
}

}  // namespace

std::string porter_stem(std::string_view word, PorterMode mode) {
  std::string w(word);
  for (char& c : w)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (mode == PorterMode::kNltk) {
    if (const std::string_view s = irregular(w); !s.empty()) return std::string(s);
    if (w.size() <= 2) return w;  // NLTK leaves 1- and 2-letter words alone
  }
  if (w.empty()) return w;
  w = step1a(w, mode);
  w = step1b(w, mode);
  w = step1c(w, mode);
  w = step2(w, mode);
  w = step3(w);
  w = step4(w);
  w = step5a(w, mode);
  return step5b(w);
}

}  // namespace scitune
