// ScholarQABench's single-paper tasks (SciFact, PubMedQA, QASA) as their published files hold them, with the
// prompts OpenScholar builds for them and the scores ScholarQABench's script gives. Sources, read for this code:
//   github.com/AkariAsai/ScholarQABench @95e6fc52b0a8a0ce0a74956029991e3bb00c38b9: README.md (file layouts),
//     data/single_paper_tasks/{scifact,pubmed}_test.jsonl (real rows), scripts/citation_correctness_eval.py
//     (remove_citations, compute_match, compute_rouge);
//   github.com/AkariAsai/OpenScholar @0e9b8fb912273d3dae39e593da86e4f6d3bf8de1: run.py (process_input_data),
//     src/open_scholar.py (OpenScholar.generate_response, OpenScholar.run), src/instructions.py (the wording).
// Only the gold-context ("oracle") setting is built: the passages the file marks as gold are the references.
// OpenScholar also has a no-context setting (task names claim_no_context, boolean_question_no_context,
// single_qa without contexts) and a retrieval setting (claim_full, boolean_question_full, single_qa over
// retrieved passages); neither is built here.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace scitune {

enum class Benchmark { kSciFact, kPubMedQA, kQasa };

// "scifact" | "pubmedqa" | "qasa"; anything else is a UserError listing them.
Benchmark parse_benchmark(std::string_view name);
std::string_view to_string(Benchmark benchmark);

struct BenchmarkItem {
  std::string id;      // the record's "id" when it has one, else "<benchmark>-<0-based record index>"
  std::string prompt;  // the user message, exactly as OpenScholar words it for the task's gold-context setting
  std::string gold;    // "answer": "true"/"false", "yes"/"no", or QASA's long-form answer
};

// Reads scifact_test.jsonl / pubmed_test.jsonl / qasa_test.jsonl as ScholarQABench publishes them: JSON lines
// (blank lines skipped) or one JSON array (told apart by the first non-blank byte, after an optional BOM).
//   SciFact, PubMedQA: {"input": str, "answer": label, "gold_ctx": [{"title": str, "text": T}, ...]} where
//     T is a string or, as in 798 of pubmed_test.jsonl's 843 rows, PubMedQA's own object whose "contexts"
//     (list of strings) OpenScholar joins with single spaces.
//   QASA: {"input": str, "answer": str, "ctxs": [{"id", "title", "text"}, ...], "gold_ctxs": [...]}; each
//     gold_ctxs entry is an index into ctxs (what readers of the released file find; an integer or a digit
//     string) or a {"title", "text"} object (what the README describes). The ScholarQABench snapshot read for
//     this code did not include this file's contents, so its layout is taken from those two sources.
// Every record is checked; a UserError names "<file>:<line>", the field and what was expected: invalid JSON or
// UTF-8, a repeated key, nesting deeper than 64, a missing, empty or wrongly typed field, a label outside the
// task's set (SciFact "true"/"false"; PubMedQA "yes"/"no" - the file holds no "maybe"), an index outside
// ctxs, an empty passage text (which OpenScholar would silently drop). A missing file, a file with no records
// or a broken JSON array are errors too.
std::vector<BenchmarkItem> load_benchmark(Benchmark benchmark, const std::filesystem::path& file);

// ScholarQABench's remove_citations: every [n] / [n, m, ...] marker (\[\d+(?:,\s*\d+)*\]) removed, runs of two
// or more whitespace characters folded to one space, the ends stripped, " ." -> "." and " ," -> ",". With
// Python str semantics: \d is any Unicode decimal digit, \s and strip() Python's whitespace; invalid UTF-8
// reads as U+FFFD.
std::string strip_citations(std::string_view text);

// One item's score, as scripts/citation_correctness_eval.py computes it for `output` (the model's answer, i.e.
// the prediction file's "output" field) against the record's gold:
//   SciFact, PubMedQA (--match): 1 when the lower-cased, citation-stripped gold is a substring of the
//     lower-cased output with citations stripped twice (main() strips the outputs, compute_match strips them
//     again), else 0. So "untrue" matches "true", and an output naming both labels matches either.
//   QASA: ROUGE-L F-measure with the Porter stemmer (rouge-score's RougeScorer(['rougeL', ...],
//     use_stemmer=True)) of the citation-stripped output against the answer. The script also lower-cases and
//     joins nltk sent_tokenize()'s sentences with newlines; rougeL (unlike rougeLsum) tokenizes the whole text
//     and never sees sentence boundaries, so that step changes nothing and no sentence splitter is needed.
// The script's task score is 100 x the mean over items for accuracy; for ROUGE-L it is 100 x the "mid" of
// rouge-score's BootstrapAggregator (the median of 1,000 unseeded resample means), close to but not exactly
// the mean. Note that the published main() guards compute_rouge with `"answer" in normalized_data`, a test on a
// list of dicts that is never true, so the script as released prints no ROUGE-L at all; this follows
// compute_rouge itself.
double score_item(Benchmark benchmark, std::string_view output, std::string_view gold);

// The answer OpenScholar keeps from a generation (generate_response and the end of run(), no feedback or
// post-hoc citation steps): the text between [Response_Start] and the next [Response_End] (the first segment
// after splitting on [Response_Start] that holds an end marker) when there is an end marker, cut before the first
// "References:", both markers removed, and cut before the first "\n### References".
std::string extract_response(std::string_view generated);

}  // namespace scitune
