// ScholarQABench single-paper tasks: file readers, OpenScholar's gold-context prompts, the script's scores.
// Sources (repo, path, commit) are listed in eval/benchmarks.h; tests/eval/benchmarks_test.cc holds the prompts
// and scores to the values the original Python code gives for the same records.
#include "eval/benchmarks.h"

#include "io/json_limits.h"

#include <unicode/uchar.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "eval/metrics.h"
#include "eval/py_str.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------- OpenScholar's wording
// Copied from OpenScholar src/instructions.py @0e9b8fb912273d3dae39e593da86e4f6d3bf8de1 by evaluating the module
// in Python and printing each value (so Python's "\%" in example_passages_single_paper is a backslash and a
// percent sign here too): task_instructions["claim_gold"][0], demonstrations["claim_gold"],
// task_instructions["boolean_question_gold"][0], demonstrations["boolean_question_gold"] and
// generation_demonstration_prompts_single_paper (prompts_w_references_single_paper filled with the PopQA example).
// Their odd spacing (no space between sentences, trailing spaces) is the original's.
constexpr std::string_view kClaimGoldInstruction =
    "Given a scientific claim and a gold paragraph that may support or contradict with the claim, answer if "
    "the scientific claim is factually correct or not. For each scientific claim provided, simply state "
    "whether it is true or false. If the statement is supported by the paragraph, answer true; otherwise "
    "answer false. You don't need to provide any explanation, just the label.";

constexpr std::string_view kClaimGoldDemonstration =
    "Your answer must be marked by special tokens, [Response_Start] and [Response_End]. For example, the "
    "input and output looks like this: \n"
    "References: \n"
    "[0] Title: Prevalent abnormal prion protein in human appendixes after bovine spongiform encephalopathy "
    "epizootic: large scale survey Text: OBJECTIVES To carry out a further survey of archived appendix "
    "samples to understand better the differences between existing estimates of the prevalence of "
    "subclinical infection with prions after the bovine spongiform encephalopathy epizootic and to see "
    "whether a broader birth cohort was affected, and to understand better the implications for the "
    "management of blood and blood products and for the handling of surgical instruments. DESIGN "
    "Irreversibly unlinked and anonymised large scale survey of archived appendix samples. SETTING Archived "
    "appendix samples from the pathology departments of 41 UK hospitals participating in the earlier survey, "
    "and additional hospitals in regions with lower levels of participation in that survey. SAMPLE 32,441 "
    "archived appendix samples fixed in formalin and embedded in paraffin and tested for the presence of "
    "abnormal prion protein (PrP). RESULTS Of the 32,441 appendix samples 16 were positive for abnormal PrP, "
    "indicating an overall prevalence of 493 per million population (95% confidence interval 282 to 801 per "
    "million). The prevalence in those born in 1941-60 (733 per million, 269 to 1596 per million) did not "
    "differ significantly from those born between 1961 and 1985 (412 per million, 198 to 758 per million) "
    "and was similar in both sexes and across the three broad geographical areas sampled. Genetic testing of "
    "the positive specimens for the genotype at PRNP codon 129 revealed a high proportion that were valine "
    "homozygous compared with the frequency in the normal population, and in stark contrast with confirmed "
    "clinical cases of vCJD, all of which were methionine homozygous at PRNP codon 129. CONCLUSIONS This "
    "study corroborates previous studies and suggests a high prevalence of infection with abnormal PrP, "
    "indicating vCJD carrier status in the population compared with the 177 vCJD cases to date. These "
    "findings have important implications for the management of blood and blood products and for the "
    "handling of surgical instruments.\n"
    "Claim: 1 in 5 million in UK have abnormal PrP positivity. \n"
    "[Response_Start]false[Response_End]\n"
    "Now please verify the following claim.\n";

constexpr std::string_view kBooleanGoldInstruction =
    "Given a question related to scientific literature and a gold paragraph that provides sufficient "
    "information to answer the question, answer yes or no. Simply state whether it is yes or no.";

constexpr std::string_view kBooleanGoldDemonstration =
    "Your answer must be marked by special tokens, [Response_Start] and [Response_End]. For example, the "
    "input and output looks like this: \n"
    "References: \n"
    "[0] The objective of the current study is to determine to what extent the reduction of Chile's traffic "
    "fatalities and injuries during 2000-2012 was related to the police traffic enforcement increment "
    "registered after the introduction of its 2005 traffic law reform. A unique dataset with assembled "
    "information from public institutions and analyses based on ordinary least square and robust random "
    "effects models was carried out. Dependent variables were traffic fatality and severe injury rates per "
    "population and vehicle fleet. Independent variables were: (1) presence of new national traffic law; (2) "
    "police officers per population; (3) number of traffic tickets per police officer; and (4) interaction "
    "effect of number of traffic tickets per police officer with traffic law reform. Oil prices, alcohol "
    "consumption, proportion of male population 15-24 years old, unemployment, road infrastructure "
    "investment, years' effects and regions' effects represented control variables. Empirical estimates from "
    "instrumental variables suggest that the enactment of the traffic law reform in interaction with number "
    "of traffic tickets per police officer is significantly associated with a decrease of 8% in traffic "
    "fatalities and 7% in severe injuries. Piecewise regression model results for the 2007-2012 period "
    "suggest that police traffic enforcement reduced traffic fatalities by 59% and severe injuries by 37%. \n"
    "Question: Did Chile's traffic law reform push police enforcement?\n"
    "[Response_Start]yes[Response_End]\n"
    "Now answer the following question. ";

constexpr std::string_view kSinglePaperDemonstration =
    "Answer a question based on the following scientific paper. Your answer should sufficiently answer the "
    "question, citing specific paragraphs from the papers that provide full support for the statement. Your "
    "answer is likely to be one or more than one sentences.All of citation-worthy statements in your answer "
    "need to be supported by one of the references we provide as 'References:'. References should be "
    "formatted as [0], [1], [2], ..., [n].Not all of the references are useful, and you only need to cite "
    "the references that support the sentences. You only need to cite one paragraph for each citation worthy "
    "statement.Your answer should be marked as [Response_Start] and [Response_End].Here's an example:\n"
    "##\n"
    "References: \n"
    "\n"
    "[0] We hypothesize that factual knowledge frequently discussed on the web is easily memorized by LMs, "
    "while the knowledge that is less discussed may not be well captured and thus they require retrieving "
    "external non-parametric memories. We evaluate ten large LMs of three families (i.e., GPT-Neo, OPT, and "
    "GPT-3) with varying scales on the open-domain question answering (QA) task in a zero- or few-shot "
    "prompting manner. \n"
    "[1] We construct a new dataset, PopQA, consisting of 14k questions to cover factual information in the "
    "long tail that might have been missed in popular QA datasets Kwiatkowski et al. (2019). We use "
    "Wikipedia page views as a measure of popularity and convert knowledge triples from Wikidata, with "
    "diverse levels of popularity, into natural language questions, anchored to the original entities and "
    "relationship types. We also use EntityQuestions Sciavolino et al. (2021), an open-domain QA dataset "
    "with a long-tail distribution.\n"
    "[2] Figure 4 (bottom) shows that there is a positive correlation between subject entity popularity and "
    "models' accuracy for almost all relationship types. This supports our hypothesis that subject entity "
    "popularity can be a reliable indicator of LMs' factual knowledge memorization. In general, the "
    "correlations between subject entity popularity and accuracy are stronger for larger LMs; GPT-3 003 "
    "shows the highest positive correlation (roughly 0.4) while GPT-Neo-1.3B shows relatively weak positive "
    "correlations (approximately 0.1).\n"
    "[3] As seen in the left column of Figure 4, there are clear overall performance improvements with scale "
    "on the PopQA dataset. However, Figure 5 shows that on both PopQA and EntityQuestions, most of scaling's "
    "positive effect on parametric knowledge comes from questions with high popularity. Specifically, for "
    "the questions about the entities whose log 10 (subject popularity) is larger than 4, there is an "
    "improvement in accuracy as model size increases (red and yellow lines), while performance on questions "
    "with lower popularity remains relatively constant (blue and green lines). For the 4,000 least popular "
    "questions, GPT-Neo 6B, 20B, and GPT-3 davinci-003 have 15\\%, 16\\%, and 19\\% accuracy, respectively.\n"
    "[4] Our analysis indicates that even the current state-of-the-art LMs struggle with less popular "
    "subjects or certain relationship types, and increasing the model size does not lead to further "
    "performance improvements. In light of this, we extend our analysis to non-parametric sources of "
    "knowledge, as outlined in Section 2. Specifically, we investigate the effectiveness of "
    "retrieval-augmented LMs Borgeaud et al. (2022); Lewis et al. (2020), which leverage non-parametric "
    "memories (i.e., retrieved text) to improve performance.\n"
    "[5] Figure 7 shows that augmenting LMs with non-parametric memories significantly outperforms "
    "unassisted vanilla LMs. A much smaller LM (e.g., GPT-Neo 2.7B) augmented by the Contriever retrieval "
    "results outperforms vanilla GPT-3. Large LMs such as GPT-3 also enjoy the benefits of non-parametric "
    "memories. Contriever gives 7\\% accuracy gains on top of GPT-3 davinci-003. GenRead shows little-to-no "
    "performance improvement over vanilla parametric knowledge for smaller models, while the technique shows "
    "sizeable gains for GPT-3, especially davinci-003. In addition to its limited effectiveness with smaller "
    "LMs, GenRead has potentially prohibitive inference time costs, with GPT-NeoX 20B taking 70 seconds per "
    "query.\n"
    "\n"
    "Question: What is the authors' conclusion about the effectiveness of language model scaling on "
    "long-tail factual knowledge memorization?\n"
    "[Response_Start]The authors found that on their newly constructed dataset, Pop QA [1], performance on "
    "questions with lower popularity (long tail facts) remains relatively constant [3]. The authors "
    "concluded model scaling may not help long-tail factual memorization [4].[Response_End]\n"
    "Now, please answer this question:\n"
    "##\n";

// task_instructions[...][1], the header before the claim / question (the boolean one has no trailing space).
constexpr std::string_view kClaimHeader = "\nClaim: ";
constexpr std::string_view kBooleanHeader = "\nQuestion:";

// run.py's --top_n default: generate_response formats item["ctxs"][:top_n].
constexpr size_t kTopN = 10;

struct TaskInfo {
  std::string_view name;     // as parse_benchmark reads it
  std::string_view display;  // in messages
  std::string_view file;     // ScholarQABench's file name
  std::string_view gold_field;
  std::string_view labels[2];  // empty for QASA
};

const TaskInfo& info(Benchmark b) {
  static const TaskInfo kSciFact{"scifact", "SciFact", "scifact_test.jsonl", "gold_ctx", {"true", "false"}};
  static const TaskInfo kPubMedQA{"pubmedqa", "PubMedQA", "pubmed_test.jsonl", "gold_ctx", {"yes", "no"}};
  static const TaskInfo kQasa{"qasa", "QASA", "qasa_test.jsonl", "gold_ctxs", {"", ""}};
  switch (b) {
    case Benchmark::kSciFact:
      return kSciFact;
    case Benchmark::kPubMedQA:
      return kPubMedQA;
    case Benchmark::kQasa:
      return kQasa;
  }
  throw InternalError("unknown Benchmark value " + std::to_string(static_cast<int>(b)));
}

// ---------------------------------------------------------------- Python str / re helpers over code points

// re's \d for str patterns: Unicode decimal digits (str.isdecimal, Numeric_Type=Decimal).
bool py_is_decimal(char32_t c) {
  return u_getIntPropertyValue(static_cast<UChar32>(c), UCHAR_NUMERIC_TYPE) == U_NT_DECIMAL;
}

std::string to_utf8(const std::u32string& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) append_utf8(out, c);
  return out;
}

// str.replace(from, to) with ASCII `from`: left to right, non-overlapping.
std::u32string replace_all(const std::u32string& s, std::u32string_view from, std::u32string_view to) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, from.size(), from) == 0) {
      out += to;
      i += from.size();
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// Length of a match of \[\d+(?:,\s*\d+)*\] at i, or 0. Greedy matching is exact here: giving back a repetition
// or a digit leaves a ',' or a digit where ']' is needed, so backtracking never finds another match.
size_t citation_marker_at(const std::u32string& s, size_t i) {
  if (s[i] != U'[') return 0;
  size_t j = i + 1;
  auto digits = [&](size_t k) {
    while (k < s.size() && py_is_decimal(s[k])) ++k;
    return k;
  };
  size_t k = digits(j);
  if (k == j) return 0;
  j = k;
  while (j < s.size() && s[j] == U',') {
    size_t m = j + 1;
    while (m < s.size() && py_isspace(s[m])) ++m;
    k = digits(m);
    if (k == m) break;
    j = k;
  }
  return j < s.size() && s[j] == U']' ? j + 1 - i : 0;
}

// re.sub(r" ?\[\d+", "", s) with the space required (with_space) or absent: OpenScholar's paragraph cleaning.
std::u32string remove_open_brackets(const std::u32string& s, bool with_space) {
  std::u32string out;
  out.reserve(s.size());
  const size_t lead = with_space ? 1 : 0;
  for (size_t i = 0; i < s.size();) {
    if ((!with_space || s[i] == U' ') && i + lead < s.size() && s[i + lead] == U'[' && i + lead + 1 < s.size() &&
        py_is_decimal(s[i + lead + 1])) {
      i += lead + 1;
      while (i < s.size() && py_is_decimal(s[i])) ++i;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// OpenScholar run.py process_paragraph: text.replace("<cit.>", ""), then its own remove_citations:
// re.sub(r"\[\d+", "", re.sub(r" \[\d+", "", t)).replace(" |", "").replace("]", ""). This is what OpenScholar
// does to every passage before it goes into a prompt, so it removes every ']' in a passage (and "[CI]" becomes
// "[CI"): that is the prompt the benchmark's numbers were made with.
std::string openscholar_clean_passage(std::string_view text) {
  std::u32string s = replace_all(utf8_to_code_points(text), U"<cit.>", U"");
  s = remove_open_brackets(remove_open_brackets(s, true), false);
  s = replace_all(replace_all(s, U" |", U""), U"]", U"");
  return to_utf8(s);
}

// ---------------------------------------------------------------- records

struct Passage {
  std::string title;
  std::string text;
};

// OpenScholar's passage list for the prompt: process_input_data cleans each text and drops repeats keyed by
// the first 100 code points of the cleaned text + the title (a dict comprehension: the first one's place, the
// last one's content), then generate_response numbers the first kTopN from 0:
// "[i] Title: {title} Text: {text}\n", or "[i] {text}\n" when the title is empty.
std::string format_references(const std::vector<Passage>& passages) {
  std::vector<Passage> kept;
  std::unordered_map<std::string, size_t> slot;
  for (const Passage& p : passages) {
    Passage cleaned{p.title, openscholar_clean_passage(p.text)};
    const std::u32string cps = utf8_to_code_points(cleaned.text);
    const std::string key = to_utf8(cps.substr(0, 100)) + cleaned.title;
    auto [it, inserted] = slot.emplace(key, kept.size());
    if (inserted) {
      kept.push_back(std::move(cleaned));
    } else {
      kept[it->second] = std::move(cleaned);
    }
  }
  std::string out;
  for (size_t i = 0; i < kept.size() && i < kTopN; ++i) {
    out += "[" + std::to_string(i) + "] ";
    if (!kept[i].title.empty()) out += "Title: " + kept[i].title + " Text: ";
    out += kept[i].text + "\n";
  }
  return out;
}

// generate_response with use_contexts and zero_shot off (run.py's defaults), for the task names
// claim_gold / boolean_question_gold ("{instruction}{demonstration}\nReferences:\n{refs}\n{header}{input}")
// and single_qa (generation_instance_prompts_w_references_single_paper:
// "{demonstration}References:\n {refs}\nQuestion: {input}\n").
std::string build_prompt(Benchmark b, const std::string& input, const std::vector<Passage>& passages) {
  const std::string refs = format_references(passages);
  std::string p;
  switch (b) {
    case Benchmark::kSciFact:
      p.append(kClaimGoldInstruction).append(kClaimGoldDemonstration);
      p.append("\nReferences:\n").append(refs).append("\n").append(kClaimHeader).append(input);
      break;
    case Benchmark::kPubMedQA:
      p.append(kBooleanGoldInstruction).append(kBooleanGoldDemonstration);
      p.append("\nReferences:\n").append(refs).append("\n").append(kBooleanHeader).append(input);
      break;
    case Benchmark::kQasa:
      p.append(kSinglePaperDemonstration).append("References:\n ").append(refs);
      p.append("\nQuestion: ").append(input).append("\n");
      break;
  }
  return p;
}

// One record's text and where it starts.
struct RawText {
  size_t line = 0;
  std::string_view text;
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_blank(std::string_view s) {
  for (char c : s)
    if (!is_json_space(c)) return false;
  return true;
}

// JSON lines: one record per non-blank line, a trailing '\r' dropped.
std::vector<RawText> split_lines(std::string_view text) {
  std::vector<RawText> out;
  size_t line = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (!is_blank(l)) out.push_back({line, l});
    pos = end + 1;
  }
  return out;
}

// One JSON array: each element's text cut out by bracket depth outside strings, with the line it starts on
// (the element itself is parsed and checked later).
std::vector<RawText> split_array(std::string_view text, size_t open, const std::string& name) {
  std::vector<RawText> out;
  size_t line = 1;
  for (size_t i = 0; i < open; ++i) line += text[i] == '\n';
  size_t pos = open + 1;
  auto skip_space = [&] {
    for (; pos < text.size() && is_json_space(text[pos]); ++pos) line += text[pos] == '\n';
  };
  skip_space();
  if (pos < text.size() && text[pos] == ']') {
    ++pos;
  } else {
    while (true) {
      skip_space();
      const size_t start = pos, start_line = line;
      int depth = 0;
      bool in_string = false;
      for (; pos < text.size(); ++pos) {
        const char c = text[pos];
        if (c == '\n') ++line;
        if (in_string) {
          if (c == '\\') {
            ++pos;
          } else if (c == '"') {
            in_string = false;
          }
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
          --depth;
        } else if ((c == ',' || c == ']') && depth == 0) {
          break;
        }
      }
      if (pos >= text.size())
        fail(name + ":" + std::to_string(start_line) + ": the JSON array is not closed (expected ',' or ']' after " +
             "the element starting on this line)");
      std::string_view element = text.substr(start, pos - start);
      while (!element.empty() && is_json_space(element.back())) element.remove_suffix(1);
      if (element.empty())
        fail(name + ":" + std::to_string(start_line) + ": empty element in the JSON array (a stray ',')");
      out.push_back({start_line, element});
      if (text[pos++] == ']') break;
    }
  }
  skip_space();
  if (pos < text.size()) fail(name + ":" + std::to_string(line) + ": text after the end of the JSON array");
  return out;
}

std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "a list";
    case json::value_t::string:
      return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer (" + v.dump() + ")";
    case json::value_t::number_float:
      return "a number (" + v.dump() + ")";
    case json::value_t::boolean:
      return v.dump();
    case json::value_t::null:
      return "null";
    default:
      return "an unsupported value";
  }
}

// A string that is not empty or only whitespace; `what` names the field ("field \"input\"").
std::string nonempty_string(const json& v, const std::string& where, const std::string& what) {
  if (!v.is_string()) fail(where + ": " + what + ": expected a non-empty string, found " + type_name(v));
  const std::string& s = v.get_ref<const std::string&>();
  if (is_blank(s)) fail(where + ": " + what + " is empty; expected a non-empty string");
  return s;
}

const json& required(const json& obj, std::string_view key, const std::string& where, const TaskInfo& task) {
  auto it = obj.find(key);
  if (it != obj.end()) return *it;
  std::string hint;
  for (std::string_view other : {"gold_ctx", "gold_ctxs"})
    if (other != key && obj.contains(other))
      hint = " (it has \"" + std::string(other) + "\": is this another task's file?)";
  fail(where + ": missing field \"" + std::string(key) + "\"; ScholarQABench's " + std::string(task.file) +
       " has it in every record" + hint);
}

// {"title": str (may be empty or absent), "text": str | {"contexts": [str, ...], ...}}.
Passage read_passage(const json& v, const std::string& where, const std::string& what) {
  if (!v.is_object()) fail(where + ": " + what + ": expected an object with \"text\", found " + type_name(v));
  Passage p;
  if (auto t = v.find("title"); t != v.end()) {
    if (!t->is_string()) fail(where + ": " + what + ".title: expected a string, found " + type_name(*t));
    p.title = t->get<std::string>();
  }
  auto t = v.find("text");
  if (t == v.end()) fail(where + ": " + what + ": missing field \"text\"");
  if (t->is_object()) {  // PubMedQA's own context object; OpenScholar uses " ".join(text["contexts"])
    auto c = t->find("contexts");
    if (c == t->end() || !c->is_array() || c->empty())
      fail(where + ": " + what + ".text: an object, so expected PubMedQA's non-empty \"contexts\" list of strings");
    for (size_t i = 0; i < c->size(); ++i) {
      if (i > 0) p.text += ' ';
      p.text += nonempty_string((*c)[i], where, what + ".text.contexts[" + std::to_string(i) + "]");
    }
  } else {
    p.text = nonempty_string(*t, where, what + ".text");
  }
  return p;
}

BenchmarkItem read_item(Benchmark b, const json& rec, const std::string& where, size_t index) {
  const TaskInfo& task = info(b);
  if (!rec.is_object()) fail(where + ": expected a JSON object, found " + type_name(rec));
  BenchmarkItem item;
  if (auto id = rec.find("id"); id != rec.end() && !id->is_null()) {
    if (id->is_number_integer()) {
      item.id = id->dump();
    } else {
      item.id = nonempty_string(*id, where, "field \"id\"");
    }
  } else {
    item.id = std::string(task.name) + "-" + std::to_string(index);
  }
  const std::string input = nonempty_string(required(rec, "input", where, task), where, "field \"input\"");
  item.gold = nonempty_string(required(rec, "answer", where, task), where, "field \"answer\"");
  if (!task.labels[0].empty() && item.gold != task.labels[0] && item.gold != task.labels[1])
    fail(where + ": field \"answer\": \"" + item.gold + "\" is not a " + std::string(task.display) +
         " label; expected \"" + std::string(task.labels[0]) + "\" or \"" + std::string(task.labels[1]) + "\"" +
         (b == Benchmark::kPubMedQA ? " (ScholarQABench's PubMedQA set has no \"maybe\")" : ""));

  const std::string field(task.gold_field);
  const json& gold = required(rec, field, where, task);
  if (!gold.is_array())
    fail(where + ": field \"" + field + "\": expected a list of passages, found " + type_name(gold));
  if (gold.empty()) fail(where + ": field \"" + field + "\" is an empty list; expected at least one gold passage");
  std::vector<Passage> passages;
  const json* ctxs = nullptr;
  for (size_t i = 0; i < gold.size(); ++i) {
    const std::string what = "field \"" + field + "\"[" + std::to_string(i) + "]";
    const json& g = gold[i];
    if (b != Benchmark::kQasa || g.is_object()) {
      passages.push_back(read_passage(g, where, what));
      continue;
    }
    // QASA: an index into "ctxs", a JSON integer or a string of digits.
    size_t index = 0;
    if (g.is_number_unsigned() || (g.is_number_integer() && g.get<int64_t>() >= 0)) {
      index = g.get<size_t>();
    } else if (g.is_string() && !g.get_ref<const std::string&>().empty() &&
               g.get_ref<const std::string&>().size() < 10 &&
               g.get_ref<const std::string&>().find_first_not_of("0123456789") == std::string::npos) {
      index = std::stoul(g.get<std::string>());
    } else {
      fail(where + ": " + what + ": expected an index into \"ctxs\" (a non-negative integer) or a passage object, " +
           "found " + type_name(g));
    }
    if (ctxs == nullptr) {
      ctxs = &required(rec, "ctxs", where, task);
      if (!ctxs->is_array()) fail(where + ": field \"ctxs\": expected a list of passages, found " + type_name(*ctxs));
    }
    if (index >= ctxs->size())
      fail(where + ": " + what + ": index " + std::to_string(index) + " is outside \"ctxs\" (" +
           std::to_string(ctxs->size()) + " passages)");
    passages.push_back(read_passage((*ctxs)[index], where, "field \"ctxs\"[" + std::to_string(index) + "]"));
  }
  item.prompt = build_prompt(b, input, passages);
  return item;
}

}  // namespace

Benchmark parse_benchmark(std::string_view name) {
  for (Benchmark b : {Benchmark::kSciFact, Benchmark::kPubMedQA, Benchmark::kQasa})
    if (name == info(b).name) return b;
  fail("unknown benchmark \"" + std::string(name) + "\"; expected scifact, pubmedqa or qasa");
}

std::string_view to_string(Benchmark benchmark) { return info(benchmark).name; }

std::string strip_citations(std::string_view text) {
  const std::u32string in = utf8_to_code_points(text);
  std::u32string s;
  s.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    if (const size_t n = citation_marker_at(in, i)) {
      i += n;
    } else {
      s.push_back(in[i++]);
    }
  }
  // re.sub(r'\s{2,}', ' ', s).strip()
  std::u32string folded;
  folded.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j < s.size() && py_isspace(s[j])) ++j;
    if (j - i >= 2) {
      folded.push_back(U' ');
      i = j;
    } else {
      folded.push_back(s[i++]);
    }
  }
  size_t begin = 0, end = folded.size();
  while (begin < end && py_isspace(folded[begin])) ++begin;
  while (end > begin && py_isspace(folded[end - 1])) --end;
  std::u32string out = folded.substr(begin, end - begin);
  out = replace_all(replace_all(out, U" .", U"."), U" ,", U",");
  return to_utf8(out);
}

double score_item(Benchmark benchmark, std::string_view output, std::string_view gold) {
  switch (benchmark) {
    case Benchmark::kSciFact:
    case Benchmark::kPubMedQA: {
      const std::string out = py_lower(strip_citations(strip_citations(output)));
      const std::string ans = py_lower(strip_citations(gold));
      return out.find(ans) != std::string::npos ? 1.0 : 0.0;
    }
    case Benchmark::kQasa:
      return rouge_l(py_lower(strip_citations(output)), py_lower(gold), Stemming::kPorter).fmeasure;
  }
  throw InternalError("unknown Benchmark value " + std::to_string(static_cast<int>(benchmark)));
}

std::string extract_response(std::string_view generated) {
  constexpr std::string_view kStart = "[Response_Start]", kEnd = "[Response_End]";
  std::string out(generated);
  if (out.find(kEnd) != std::string::npos) {
    // [t.split(end)[0] for t in out.split(start) if end in t][0]
    for (size_t pos = 0;;) {
      size_t next = out.find(kStart, pos);
      const std::string_view piece = std::string_view(out).substr(pos, next == std::string::npos ? next : next - pos);
      if (const size_t e = piece.find(kEnd); e != std::string_view::npos) {
        out = std::string(piece.substr(0, e));
        break;
      }
      SCITUNE_CHECK(next != std::string::npos, "an end marker outside every segment");
      pos = next + kStart.size();
    }
  }
  if (const size_t r = out.find("References:"); r != std::string::npos) out.resize(r);
  for (std::string_view marker : {kStart, kEnd})
    for (size_t p; (p = out.find(marker)) != std::string::npos;) out.erase(p, marker.size());
  if (const size_t r = out.find("\n### References"); r != std::string::npos) out.resize(r);
  return out;
}

std::vector<BenchmarkItem> load_benchmark(Benchmark benchmark, const std::filesystem::path& file) {
  const std::string name = file.string();
  const TaskInfo& task = info(benchmark);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    fail(name + ": no such file; expected ScholarQABench's data/single_paper_tasks/" + std::string(task.file));
  const MappedFile map(file);
  std::string_view text(reinterpret_cast<const char*>(map.data()), map.size());
  size_t skipped = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") skipped = 3;  // a UTF-8 BOM
  size_t first = skipped;
  while (first < text.size() && is_json_space(text[first])) ++first;
  std::vector<RawText> raw;
  if (first < text.size() && text[first] == '[') {
    raw = split_array(text, first, name);
  } else {
    raw = split_lines(text.substr(skipped));
  }
  if (raw.empty())
    fail(name + ": no records; expected " + std::string(task.display) + " records as JSON lines (as in " +
         std::string(task.file) + ") or a JSON list");
  std::vector<BenchmarkItem> items;
  items.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string where = name + ":" + std::to_string(raw[i].line);
    items.push_back(read_item(benchmark, parse_json_strict(raw[i].text, where), where, i));
  }
  return items;
}

}  // namespace scitune
