// eval/benchmarks.h against the benchmark's own Python code. The expected prompts (SHA-256 and length), scores,
// stripped texts and extracted responses were computed in the oracle from the same records with the original
// functions lifted out of OpenScholar @0e9b8fb912273d3dae39e593da86e4f6d3bf8de1 (run.py process_input_data,
// OpenScholar.run / generate_response with the model's reply stubbed, src/instructions.py) and ScholarQABench
// @95e6fc52b0a8a0ce0a74956029991e3bb00c38b9 (scripts/citation_correctness_eval.py remove_citations,
// compute_match, compute_rouge with rouge-score 0.1.2; nltk's punkt_tab is absent there, so an untrained Punkt
// split the sentences, and the script's rougeL was checked equal to the score without that split). The records
// follow the real files' layouts (scifact_test.jsonl and pubmed_test.jsonl rows as json.dumps writes them,
// PubMedQA's context object included; QASA as described in eval/benchmarks.h) with short made-up texts.
#include "eval/benchmarks.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.h"
#include "util/error.h"
#include "util/sha256.h"

namespace scitune {
namespace {

using json = nlohmann::json;
using scitune::testing::error_of;

// Two rows each, byte for byte as Python's json.dumps(row, ensure_ascii=False) writes them (the real files'
// layout). The passages carry citation markers, "<cit.>" and bracketed abbreviations, which OpenScholar's
// passage cleaning rewrites; the second PubMedQA row has a plain string text, the first PubMedQA's own object.
const std::string kSciFactJsonl =
    R"json({"input": "Rare genetic variants can create synthetic associations with common variants in genome-wide association studies.", "gold_ctx": [{"title": "Rare Variants Create Synthetic Genome-Wide Associations", "text": "Genome-wide association studies (GWAS) have identified at least 2,000 common variants [3] associated with common diseases (odds ratio [OR] 1.2, 95% CI [1.1-1.4]) <cit.>. We show by simulation that rare causal variants create synthetic associations [12, 14]."}], "answer": "true"}
{"input": "A high microerythrocyte count raises vulnerability to severe anemia in homozygous alpha (+)- thalassemia trait subjects.", "gold_ctx": [{"title": "Increased Microerythrocyte Count in Homozygous α+-Thalassaemia Contributes to Protection against Severe Malarial Anaemia", "text": "BACKGROUND The heritable haemoglobinopathy alpha(+)-thalassaemia is caused by the reduced synthesis of alpha-globin chains. Individuals homozygous for alpha(+)-thalassaemia have microcytosis and an increased erythrocyte count, which protects against severe malarial anaemia."}], "answer": "false"}
)json";

const std::string kPubMedQAJsonl =
    R"json({"input": "Do older men benefit from curative therapy of localized prostate cancer?", "gold_ctx": [{"title": "", "text": {"contexts": ["Prior decision-analytic models are based on outdated data.", "We evaluated three treatments using a Markov model [2]."], "labels": ["PURPOSE", "METHODS"], "meshes": ["Aged", "Male"], "reasoning_required_pred": ["y", "e", "s"], "reasoning_free_pred": ["y", "e", "s"]}}], "answer": "yes"}
{"input": "Is grandmultiparity an independent risk factor for adverse perinatal outcomes?", "gold_ctx": [{"title": "", "text": "To compare maternal and neonatal outcomes among grandmultiparous women to those of multiparous women 30 years or older. Grandmultiparous women were at higher risk of abruptio placentae (odds ratio OR: 1.3; 95% CI: 1.2-1.5)."}], "answer": "no"}
)json";

// The QASA records. The first refers to its gold passages by index into "ctxs" (ids "<paper>_all_<k>", as in the
// released file); the second lists 13 gold passages as objects (the README's wording), two of which share their
// first 100 characters and title (OpenScholar keeps the first one's place and the second one's text) and of
// which only the first 10 that remain reach the prompt.
std::vector<json> qasa_rows() {
  const std::string title = "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices";
  const std::vector<std::string> paras = {
      "We introduce an extremely computation-efficient CNN architecture named ShuffleNet, designed for mobile "
      "devices.",
      "Group convolution reduces computation, but outputs from a certain channel group only relate to the inputs "
      "within the group [21]. This property blocks information flow between channel groups and weakens "
      "representation.",
      "We evaluate ShuffleNet on ImageNet classification and MS COCO object detection.",
      "The channel shuffle operation makes it possible to build more powerful structures with multiple group "
      "convolutional layers."};
  json ctxs = json::array();
  for (size_t k = 0; k < paras.size(); ++k)
    ctxs.push_back({{"id", "paper_12_all_" + std::to_string(k)}, {"title", title}, {"text", paras[k]}});
  json first = {{"input", "What are the side effects of using group convolutions?"},
                {"answer",
                 "Outputs from a channel group only depend on inputs of that group, which blocks information flow "
                 "between groups and weakens representation."},
                {"ctxs", ctxs},
                {"gold_ctxs", {1, 3}}};

  const std::string filler =
      "The passages below share their first hundred characters so that OpenScholar's dedup key collides right "
      "here: ";
  json gold = json::array();
  for (int k = 0; k < 11; ++k) {
    const std::string n = (k < 10 ? "0" : "") + std::to_string(k);
    gold.push_back({{"title", "Dense Passage Retrieval"},
                    {"text", "Passage " + n + " describes how the corpus is split into disjoint 100-word blocks."}});
  }
  gold.insert(gold.begin() + 2, json{{"title", "Dense Passage Retrieval"}, {"text", filler + "first version."}});
  gold.insert(gold.begin() + 5, json{{"title", "Dense Passage Retrieval"}, {"text", filler + "second version [4]."}});
  json second = {{"input", "How is the retrieval corpus chunked?"},
                 {"answer",
                  "Each article is split into disjoint text blocks of 100 words, which serve as the basic retrieval "
                  "units."},
                 {"gold_ctxs", gold}};
  return {first, second};
}

std::string jsonl(const std::vector<json>& rows) {
  std::string out;
  for (const json& r : rows) out += r.dump() + "\n";
  return out;
}

std::vector<json> parse_lines(const std::string& text) {
  std::vector<json> rows;
  size_t pos = 0;
  for (size_t end; (end = text.find('\n', pos)) != std::string::npos; pos = end + 1)
    if (end > pos) rows.push_back(json::parse(text.substr(pos, end - pos)));
  return rows;
}

class BenchmarksTest : public scitune::testing::TempDirTest {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::vector<BenchmarkItem> load(Benchmark b, const std::string& name, const std::string& text) {
    return load_benchmark(b, write(name, text));
  }
  // The message loading `text` throws.
  std::string error(Benchmark b, const std::string& text, const std::string& name = "bad.jsonl") {
    return error_of([&] { load(b, name, text); });
  }
};

#define EXPECT_HAS(haystack, needle) EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

// ---------------------------------------------------------------- names

TEST(BenchmarkNames, ParseAndPrint) {
  EXPECT_EQ(parse_benchmark("scifact"), Benchmark::kSciFact);
  EXPECT_EQ(parse_benchmark("pubmedqa"), Benchmark::kPubMedQA);
  EXPECT_EQ(parse_benchmark("qasa"), Benchmark::kQasa);
  for (Benchmark b : {Benchmark::kSciFact, Benchmark::kPubMedQA, Benchmark::kQasa})
    EXPECT_EQ(parse_benchmark(to_string(b)), b);
  const std::string e = error_of([] { parse_benchmark("SciFact-open"); });
  EXPECT_HAS(e, "unknown benchmark \"SciFact-open\"");
  EXPECT_HAS(e, "scifact, pubmedqa or qasa");
}

// ---------------------------------------------------------------- prompts

struct PromptCase {
  Benchmark benchmark;
  size_t index;
  size_t bytes;
  const char* sha256;
};

// OpenScholar's prompt for each record (the string handed to the model), from the oracle.
const PromptCase kPrompts[] = {
    {Benchmark::kSciFact, 0, 3231, "84f07dc1bc919a99519b76116cbe483e3842bc5e23211f005af88d7d34231de6"},
    {Benchmark::kSciFact, 1, 3342, "6385b62b92c6f2f964f01501377979dfa0b1acf80c3c303260f077f613b6946b"},
    {Benchmark::kPubMedQA, 0, 2087, "616411d458fb316a9a36fad5673cbf35b44b2f26aa7f8070bd70111791a6ace8"},
    {Benchmark::kPubMedQA, 1, 2206, "9c656a0859f508b9f94e32f8fe0795b6eb5cb284ffe12e44cab6dbb869549ef1"},
    {Benchmark::kQasa, 0, 5241, "0e7aa6d577f2d7da18f0dd24764526295248f93f048e0fb0b02cbb459b40eb14"},
    {Benchmark::kQasa, 1, 5905, "1674eeba248ec9db2299efa51fd85ff6b180a2621742720d2da924fbc9195c0e"},
};

TEST_F(BenchmarksTest, PromptsEqualOpenScholars) {
  const auto scifact = load(Benchmark::kSciFact, "scifact_test.jsonl", kSciFactJsonl);
  const auto pubmed = load(Benchmark::kPubMedQA, "pubmed_test.jsonl", kPubMedQAJsonl);
  const auto qasa = load(Benchmark::kQasa, "qasa_test.jsonl", jsonl(qasa_rows()));
  ASSERT_EQ(scifact.size(), 2u);
  ASSERT_EQ(pubmed.size(), 2u);
  ASSERT_EQ(qasa.size(), 2u);
  for (const PromptCase& c : kPrompts) {
    const auto& items = c.benchmark == Benchmark::kSciFact    ? scifact
                        : c.benchmark == Benchmark::kPubMedQA ? pubmed
                                                              : qasa;
    const std::string& p = items[c.index].prompt;
    EXPECT_EQ(p.size(), c.bytes) << to_string(c.benchmark) << " " << c.index << ":\n" << p;
    EXPECT_EQ(sha256_hex(p.data(), p.size()), c.sha256) << to_string(c.benchmark) << " " << c.index << ":\n" << p;
  }
}

TEST_F(BenchmarksTest, SciFactPromptShape) {
  const auto items = load(Benchmark::kSciFact, "scifact_test.jsonl", kSciFactJsonl);
  EXPECT_EQ(items[0].id, "scifact-0");
  EXPECT_EQ(items[1].id, "scifact-1");
  EXPECT_EQ(items[0].gold, "true");
  EXPECT_EQ(items[1].gold, "false");
  const std::string& p = items[0].prompt;
  // task_instructions["claim_gold"][0] runs straight into demonstrations["claim_gold"] (no separator).
  EXPECT_EQ(p.rfind("Given a scientific claim and a gold paragraph that may support or contradict with the claim", 0),
            0u);
  EXPECT_HAS(p, "just the label.Your answer must be marked by special tokens, [Response_Start] and [Response_End].");
  EXPECT_HAS(p, "[Response_Start]false[Response_End]\nNow please verify the following claim.\n\nReferences:\n");
  // The passage as OpenScholar cleans it: "<cit.>", " [3", "[12" and every ']' removed.
  const std::string tail =
      "\nReferences:\n[0] Title: Rare Variants Create Synthetic Genome-Wide Associations Text: Genome-wide "
      "association studies (GWAS) have identified at least 2,000 common variants associated with common diseases "
      "(odds ratio [OR 1.2, 95% CI.1-1.4) . We show by simulation that rare causal variants create synthetic "
      "associations, 14.\n\n\nClaim: Rare genetic variants can create synthetic associations with common variants in "
      "genome-wide association studies.";
  ASSERT_GE(p.size(), tail.size());
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
}

TEST_F(BenchmarksTest, PubMedQAPromptShape) {
  const auto items = load(Benchmark::kPubMedQA, "pubmed_test.jsonl", kPubMedQAJsonl);
  EXPECT_EQ(items[0].gold, "yes");
  EXPECT_EQ(items[1].gold, "no");
  const std::string& p = items[0].prompt;
  EXPECT_EQ(p.rfind("Given a question related to scientific literature and a gold paragraph", 0), 0u);
  // An empty title gives "[i] {text}"; PubMedQA's "contexts" are joined with spaces; the header has no space.
  const std::string tail =
      "Now answer the following question. \nReferences:\n[0] Prior decision-analytic models are based on outdated "
      "data. We evaluated three treatments using a Markov model.\n\n\nQuestion:Do older men benefit from curative "
      "therapy of localized prostate cancer?";
  ASSERT_GE(p.size(), tail.size());
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
}

TEST_F(BenchmarksTest, QasaPromptShape) {
  const auto items = load(Benchmark::kQasa, "qasa_test.jsonl", jsonl(qasa_rows()));
  EXPECT_EQ(items[0].gold.rfind("Outputs from a channel group", 0), 0u);
  const std::string& p = items[0].prompt;
  EXPECT_EQ(p.rfind("Answer a question based on the following scientific paper. Your answer should sufficiently", 0),
            0u);
  EXPECT_HAS(p, "GPT-Neo 6B, 20B, and GPT-3 davinci-003 have 15\\%, 16\\%, and 19\\% accuracy");  // Python's "\%"
  const std::string title = "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices";
  const std::string tail =
      "[Response_End]\nNow, please answer this question:\n##\nReferences:\n [0] Title: " + title +
      " Text: Group convolution reduces computation, but outputs from a certain channel group only relate to the "
      "inputs within the group. This property blocks information flow between channel groups and weakens "
      "representation.\n[1] Title: " +
      title +
      " Text: The channel shuffle operation makes it possible to build more powerful structures with multiple group "
      "convolutional layers.\n\nQuestion: What are the side effects of using group convolutions?\n";
  ASSERT_GE(p.size(), tail.size());
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);

  const std::string& q = items[1].prompt;  // 13 passages, one repeat: 12 left, the first 10 shown
  EXPECT_HAS(q, "\n[2] Title: Dense Passage Retrieval Text: The passages below share");
  EXPECT_HAS(q, "collides right here: second version.\n[3] Title: Dense Passage Retrieval Text: Passage 02 ");
  EXPECT_EQ(q.find("first version"), std::string::npos);
  EXPECT_HAS(q, "\n[9] Title: Dense Passage Retrieval Text: Passage 08 ");
  EXPECT_EQ(q.find("[10]"), std::string::npos);
  EXPECT_EQ(q.find("Passage 09"), std::string::npos);
}

TEST_F(BenchmarksTest, IdsAndIndexFormsOfGoldCtxs) {
  std::vector<json> rows = qasa_rows();
  rows[0]["id"] = "qasa_paper_12_q3";
  rows[1]["id"] = 17;
  const auto items = load(Benchmark::kQasa, "qasa_test.jsonl", jsonl(rows));
  EXPECT_EQ(items[0].id, "qasa_paper_12_q3");
  EXPECT_EQ(items[1].id, "17");
  // Digit strings index "ctxs" as integers do.
  json as_strings = qasa_rows()[0];
  as_strings["gold_ctxs"] = {"1", "3"};
  const auto again = load(Benchmark::kQasa, "strings.jsonl", jsonl({as_strings}));
  EXPECT_EQ(again[0].prompt, items[0].prompt);
}

TEST_F(BenchmarksTest, JsonListLayoutBomCrlfAndBlankLines) {
  const auto expected = load(Benchmark::kSciFact, "a.jsonl", kSciFactJsonl);
  // A JSON list (what OpenScholar's run.py and the scoring script also accept), pretty-printed.
  const auto rows = parse_lines(kSciFactJsonl);
  const auto listed = load(Benchmark::kSciFact, "a.json", json(rows).dump(2));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].prompt, expected[0].prompt);
  EXPECT_EQ(listed[1].prompt, expected[1].prompt);
  // A BOM, CRLF line ends and blank lines are tolerated.
  std::string crlf = "\xEF\xBB\xBF\r\n";
  for (const json& r : rows) crlf += r.dump() + "\r\n\r\n";
  const auto tolerated = load(Benchmark::kSciFact, "b.jsonl", crlf);
  ASSERT_EQ(tolerated.size(), 2u);
  EXPECT_EQ(tolerated[1].prompt, expected[1].prompt);
  EXPECT_EQ(load(Benchmark::kSciFact, "c.json", "[" + rows[0].dump() + "]\n").size(), 1u);
}

// ---------------------------------------------------------------- scores

struct ScoreCase {
  Benchmark benchmark;
  const char* output;
  const char* gold;
  double expected;
};

// compute_match (x 1/100) and compute_rouge's per-item rougeL F-measure for each (output, gold), from the oracle.
const ScoreCase kScores[] = {
    {Benchmark::kSciFact, "true [0]", "true", 1.0},
    {Benchmark::kSciFact, "False[1][2].", "false", 1.0},
    {Benchmark::kSciFact, "The claim is false, not true.", "true", 1.0},
    {Benchmark::kSciFact, "The claim is false, not true.", "false", 1.0},
    {Benchmark::kSciFact, "", "true", 0.0},
    {Benchmark::kSciFact, "TRUE", "true", 1.0},
    {Benchmark::kSciFact, "untrue", "true", 1.0},
    {Benchmark::kSciFact, "fal[0]se", "false", 1.0},
    {Benchmark::kSciFact, "fal [0] se", "false", 0.0},
    {Benchmark::kPubMedQA, "Yes [0]", "yes", 1.0},
    {Benchmark::kPubMedQA, "No.", "yes", 0.0},
    {Benchmark::kPubMedQA, "I know", "no", 1.0},
    {Benchmark::kPubMedQA, "y[1[2]]es", "yes", 1.0},
    {Benchmark::kPubMedQA, "\u0130YES", "yes", 1.0},
    {Benchmark::kPubMedQA, "", "no", 0.0},
    {Benchmark::kQasa, "Group convolutions block information flow between channel groups [1][3].",
     "Outputs from a channel group only depend on inputs of that group, which blocks information flow between groups "
     "and weakens representation.",
     0.4137931034482759},
    {Benchmark::kQasa, "",
     "Outputs from a channel group only depend on inputs of that group, which blocks information flow between groups "
     "and weakens representation.",
     0.0},
    {Benchmark::kQasa,
     "Outputs of a group depend only on that group's inputs [0, 2].  This  weakens the representation .\nIt also "
     "blocks flow between groups [1].",
     "Outputs from a channel group only depend on inputs of that group, which blocks information flow between groups "
     "and weakens representation.",
     0.5238095238095238},
    {Benchmark::kQasa,
     "Each article is split into 100-word blocks [3]. Retrieval units are these blocks\u2014disjoint ones.",
     "Each article is split into disjoint text blocks of 100 words, which serve as the basic retrieval units.",
     0.5454545454545454},
    {Benchmark::kQasa, "[0][1][2]",
     "Each article is split into disjoint text blocks of 100 words, which serve as the basic retrieval units.", 0.0},
};

TEST(BenchmarkScores, EqualTheScripts) {
  for (const ScoreCase& c : kScores)
    EXPECT_EQ(score_item(c.benchmark, c.output, c.gold), c.expected)
        << to_string(c.benchmark) << " output \"" << c.output << "\" gold \"" << c.gold << "\"";
}

TEST(BenchmarkScores, AccuracyEdgeCases) {
  EXPECT_EQ(score_item(Benchmark::kSciFact, "", "true"), 0.0);
  EXPECT_EQ(score_item(Benchmark::kSciFact, "The claim is FALSE.", "false"), 1.0);
  // Both labels in the output: a hit whichever is gold (the script's substring test).
  EXPECT_EQ(score_item(Benchmark::kSciFact, "not true but false", "true"), 1.0);
  EXPECT_EQ(score_item(Benchmark::kSciFact, "not true but false", "false"), 1.0);
  EXPECT_EQ(score_item(Benchmark::kSciFact, "false", "true"), 0.0);
  // A marker inside the label is removed ("fal[0]se" -> "false"); with spaces it is not glued back.
  EXPECT_EQ(score_item(Benchmark::kSciFact, "fal[0]se", "false"), 1.0);
  EXPECT_EQ(score_item(Benchmark::kSciFact, "fal [0] se", "false"), 0.0);
  // Outputs are stripped twice, as main() and then compute_match do.
  EXPECT_EQ(score_item(Benchmark::kPubMedQA, "y[1[2]]es", "yes"), 1.0);
  EXPECT_EQ(score_item(Benchmark::kPubMedQA, "[Response_Start]no [0][Response_End]", "no"), 1.0);
}

TEST(BenchmarkScores, RougeEdgeCases) {
  const std::string gold = "Group convolutions block information flow between channel groups.";
  EXPECT_EQ(score_item(Benchmark::kQasa, "", gold), 0.0);
  EXPECT_EQ(score_item(Benchmark::kQasa, "[0][1]", gold), 0.0);  // only markers: nothing left
  EXPECT_EQ(score_item(Benchmark::kQasa, gold, gold), 1.0);
  // Citations are not tokens ("1" would be one), case and sentence breaks do not matter, stems do.
  EXPECT_EQ(score_item(Benchmark::kQasa,
                       "GROUP convolutions block information [1].\nFlow between channel groups [2, 3].", gold),
            1.0);
  EXPECT_EQ(score_item(Benchmark::kQasa, "group convolution blocks informations flowing between channel group", gold),
            1.0);
  EXPECT_LT(score_item(Benchmark::kQasa, "Channel groups block flow.", gold), 1.0);
}

// ---------------------------------------------------------------- strip_citations / extract_response

const std::pair<const char*, const char*> kStrip[] = {
    {"Claim is true [0].", "Claim is true."},
    {"a [1, 2] b [3,4] c [5 ,6] d [7,  8]", "a b c [5,6] d"},
    {"x\n\ny", "x y"},
    {"x\ny", "x\ny"},
    {"  lead and trail  ", "lead and trail"},
    {"a , b", "a, b"},
    {"[1[2]]", "[1]"},
    {"one [\u0661\u0662] two", "one two"},
    {"a\u00a0\u00a0b", "a b"},
    {"a\u2003b", "a\u2003b"},
    {"a  .", "a."},
    {"[] [12a] [ 1]", "[] [12a] [ 1]"},
    {"", ""},
    {"[3]", ""},
    {"word[12]word", "wordword"},
    {"a \t\n b", "a b"},
    {"end [1].\n\n[2] next", "end. next"},
};

TEST(StripCitations, EqualsTheScript) {
  for (const auto& [in, out] : kStrip) EXPECT_EQ(strip_citations(in), out) << "input \"" << in << "\"";
}

TEST(StripCitations, InvalidUtf8ReadsAsReplacementCharacter) { EXPECT_EQ(strip_citations("a\xff [1] b"), "a\ufffd b"); }

const std::pair<const char*, const char*> kExtract[] = {
    {"[Response_Start]false [0][Response_End]", "false [0]"},
    {"Sure. [Response_Start]yes[Response_End] extra", "yes"},
    {"no markers here", "no markers here"},
    {"[Response_Start]a[Response_Start]b[Response_End]", "b"},
    {"answer text\nReferences:\n[0] x", "answer text\n"},
    {"x[Response_End]y[Response_Start]", "x"},
    {"[Response_Start]only start", "only start"},
    {"Answer body\n### References\n- a", "Answer body"},
    {"abc\n\n References xyz", "abc\n\n References xyz"},
    {"", ""},
};

TEST(ExtractResponse, EqualsOpenScholar) {
  for (const auto& [in, out] : kExtract) EXPECT_EQ(extract_response(in), out) << "generated \"" << in << "\"";
}

// ---------------------------------------------------------------- bad input

TEST_F(BenchmarksTest, MissingEmptyAndBlankFiles) {
  const std::string missing = error_of([&] { load_benchmark(Benchmark::kSciFact, dir_ / "nope.jsonl"); });
  EXPECT_HAS(missing, "nope.jsonl: no such file");
  EXPECT_HAS(missing, "data/single_paper_tasks/scifact_test.jsonl");
  EXPECT_HAS(error(Benchmark::kPubMedQA, ""), "bad.jsonl: no records");
  EXPECT_HAS(error(Benchmark::kPubMedQA, "\n  \n\r\n"), "bad.jsonl: no records");
  EXPECT_HAS(error(Benchmark::kQasa, "[]"), "bad.jsonl: no records");
  EXPECT_HAS(error_of([&] { load_benchmark(Benchmark::kQasa, dir_); }), "not a regular file");
}

TEST_F(BenchmarksTest, MalformedRecords) {
  const auto rows = parse_lines(kSciFactJsonl);
  const std::string good = rows[0].dump() + "\n";
  std::string e = error(Benchmark::kSciFact, good + "\n{\"input\": \"x\", \"answer\": \n");
  EXPECT_HAS(e, "bad.jsonl:3: invalid JSON");
  e = error(Benchmark::kSciFact, good + "[\"a list\"]\n");
  EXPECT_HAS(e, "bad.jsonl:2: expected a JSON object, found a list");
  e = error(Benchmark::kSciFact, good + "{\"input\": \"x\", \"answer\": \"true\", \"answer\": \"false\"}\n");
  EXPECT_HAS(e, "bad.jsonl:2: duplicate key \"answer\"");
  e = error(Benchmark::kSciFact, "{\"input\": \"bad \xff byte\"}\n");
  EXPECT_HAS(e, "bad.jsonl:1: invalid JSON");
  e = error(Benchmark::kSciFact, std::string(70, '[') + std::string(70, ']') + "\n");  // a list: array layout
  EXPECT_HAS(e, "nested deeper than 64");
  e = error(Benchmark::kSciFact, "{\"input\": " + std::string(70, '[') + std::string(70, ']') + "}\n");
  EXPECT_HAS(e, "bad.jsonl:1: JSON nested deeper than 64 levels");
}

TEST_F(BenchmarksTest, BrokenJsonLists) {
  const std::string row = parse_lines(kSciFactJsonl)[0].dump();
  EXPECT_HAS(error(Benchmark::kSciFact, "[\n" + row + ",\n" + row + "\n"), "bad.jsonl:3: the JSON array is not closed");
  EXPECT_HAS(error(Benchmark::kSciFact, "[\n" + row + ",\n]"), "bad.jsonl:3: empty element in the JSON array");
  EXPECT_HAS(error(Benchmark::kSciFact, "[" + row + "]\n[" + row + "]\n"), "bad.jsonl:2: text after the end");
  EXPECT_HAS(error(Benchmark::kSciFact, "[\n" + row + "\n" + row + "]"), "bad.jsonl:2: invalid JSON");
  // Element line numbers in a pretty-printed list.
  json rows = json(parse_lines(kSciFactJsonl));
  rows[1]["answer"] = "maybe";
  EXPECT_HAS(error(Benchmark::kSciFact, rows.dump(2)), "bad.jsonl:12: field \"answer\"");
}

TEST_F(BenchmarksTest, MissingEmptyAndWronglyTypedFields) {
  json row = parse_lines(kSciFactJsonl)[0];
  auto with = [&](const std::string& key, const json& value) {
    json r = row;
    r[key] = value;
    return r.dump() + "\n";
  };
  auto without = [&](const std::string& key) {
    json r = row;
    r.erase(key);
    return r.dump() + "\n";
  };
  const Benchmark sf = Benchmark::kSciFact;
  EXPECT_HAS(error(sf, without("input")), "bad.jsonl:1: missing field \"input\"; ScholarQABench's scifact_test.jsonl");
  EXPECT_HAS(error(sf, without("answer")), "bad.jsonl:1: missing field \"answer\"");
  EXPECT_HAS(error(sf, without("gold_ctx")), "bad.jsonl:1: missing field \"gold_ctx\"");
  EXPECT_HAS(error(sf, with("input", "")), "bad.jsonl:1: field \"input\" is empty");
  EXPECT_HAS(error(sf, with("input", " \n")), "field \"input\" is empty");
  EXPECT_HAS(error(sf, with("input", 5)), "field \"input\": expected a non-empty string, found an integer (5)");
  EXPECT_HAS(error(sf, with("input", nullptr)), "field \"input\": expected a non-empty string, found null");
  EXPECT_HAS(error(sf, with("answer", json::array({"true"}))),
             "field \"answer\": expected a non-empty string, found a list");
  EXPECT_HAS(error(sf, with("id", 1.5)), "field \"id\": expected a non-empty string, found a number (1.5)");
  EXPECT_HAS(error(sf, with("gold_ctx", "text")), "field \"gold_ctx\": expected a list of passages, found a string");
  EXPECT_HAS(error(sf, with("gold_ctx", json::array())), "field \"gold_ctx\" is an empty list");
  EXPECT_HAS(error(sf, with("gold_ctx", {"text"})), "field \"gold_ctx\"[0]: expected an object with \"text\"");
  EXPECT_HAS(error(sf, with("gold_ctx", {{{"title", "t"}}})), "field \"gold_ctx\"[0]: missing field \"text\"");
  EXPECT_HAS(error(sf, with("gold_ctx", {{{"title", "t"}, {"text", ""}}})), "field \"gold_ctx\"[0].text is empty");
  EXPECT_HAS(error(sf, with("gold_ctx", {{{"title", nullptr}, {"text", "x"}}})),
             "field \"gold_ctx\"[0].title: expected a string, found null");
  row = parse_lines(kPubMedQAJsonl)[0];
  const Benchmark pm = Benchmark::kPubMedQA;
  EXPECT_HAS(error(pm, row.dump() + "\n\n" + with("gold_ctx", {{{"text", {{"labels", {"PURPOSE"}}}}}})),
             "bad.jsonl:3: field \"gold_ctx\"[0].text: an object, so expected PubMedQA's non-empty \"contexts\"");
  EXPECT_HAS(error(pm, with("gold_ctx", {{{"text", {{"contexts", json::array()}}}}})), "non-empty \"contexts\"");
  EXPECT_HAS(error(pm, with("gold_ctx", {{{"text", {{"contexts", {"a", 3}}}}}})),
             "field \"gold_ctx\"[0].text.contexts[1]: expected a non-empty string, found an integer (3)");
  // Another task's file: the hint says so.
  EXPECT_HAS(error(Benchmark::kQasa, kSciFactJsonl),
             "missing field \"gold_ctxs\"; ScholarQABench's qasa_test.jsonl has it in every record (it has "
             "\"gold_ctx\": is this another task's file?)");
}

TEST_F(BenchmarksTest, LabelsOutsideTheTaskSet) {
  json row = parse_lines(kSciFactJsonl)[0];
  for (const char* label : {"maybe", "True", "yes", " true"}) {
    row["answer"] = label;
    EXPECT_HAS(error(Benchmark::kSciFact, row.dump()), std::string("bad.jsonl:1: field \"answer\": \"") + label +
                                                           "\" is not a SciFact label; expected \"true\" or \"false\"");
  }
  json pm = parse_lines(kPubMedQAJsonl)[1];
  pm["answer"] = "maybe";
  EXPECT_HAS(error(Benchmark::kPubMedQA, pm.dump()),
             "field \"answer\": \"maybe\" is not a PubMedQA label; expected \"yes\" or \"no\" (ScholarQABench's "
             "PubMedQA set has no \"maybe\")");
  pm["answer"] = "true";
  EXPECT_HAS(error(Benchmark::kPubMedQA, pm.dump()), "\"true\" is not a PubMedQA label");
  // QASA's answers are free text.
  json qa = qasa_rows()[0];
  qa["answer"] = "maybe";
  EXPECT_EQ(load(Benchmark::kQasa, "q.jsonl", qa.dump()).at(0).gold, "maybe");
}

TEST_F(BenchmarksTest, QasaGoldIndices) {
  json row = qasa_rows()[0];
  auto with_gold = [&](const json& gold) {
    json r = row;
    r["gold_ctxs"] = gold;
    return r.dump() + "\n";
  };
  const Benchmark qa = Benchmark::kQasa;
  EXPECT_HAS(error(qa, with_gold({4})),
             "bad.jsonl:1: field \"gold_ctxs\"[0]: index 4 is outside \"ctxs\" (4 passages)");
  EXPECT_HAS(error(qa, with_gold({0, -1})), "field \"gold_ctxs\"[1]: expected an index into \"ctxs\"");
  EXPECT_HAS(error(qa, with_gold({"x1"})), "found a string");
  EXPECT_HAS(error(qa, with_gold({1.0})), "found a number (1.0)");
  json no_ctxs = row;
  no_ctxs.erase("ctxs");
  EXPECT_HAS(error(qa, no_ctxs.dump()), "bad.jsonl:1: missing field \"ctxs\"");
  json bad_ctx = row;
  bad_ctx["ctxs"][3] = {{"title", "t"}};
  EXPECT_HAS(error(qa, bad_ctx.dump()), "field \"ctxs\"[3]: missing field \"text\"");
  json ctxs_not_list = row;
  ctxs_not_list["ctxs"] = "paper";
  EXPECT_HAS(error(qa, ctxs_not_list.dump()), "field \"ctxs\": expected a list of passages, found a string");
}

}  // namespace
}  // namespace scitune
