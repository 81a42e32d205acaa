// `scitune eval` without the CLI: loss / perplexity with the training loss rule and, for question/answer data,
// generated answers scored against the references (SQuAD EM / token F1, ROUGE-L as rouge-score), per split
// and per source dataset, with bootstrap 95% intervals. Generation runs many examples per decode step
// (generate_batch); the loss runs through the chunked LM head + cross-entropy (never [T, V] logits).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/example.h"
#include "eval/metrics.h"
#include "model/gemma3.h"
#include "model/sampling.h"
#include "tokenizer/tokenizer.h"
#include "train/gemma3_lora.h"

namespace scitune {

// One example as evaluation sees it: the tokenised example (for the loss) and, when it has a trained span
// after some prompt, the prompt (every token before the first trained one) and the reference answer (that
// first trained span, decoded, without the end-of-turn token and what follows it).
struct EvalItem {
  std::string source;  // the dataset: the file part of the example's "file:line"
  std::string id;      // "file:line"
  const TokenizedExample* example = nullptr;
  std::vector<int32_t> prompt;
  std::string reference;
  bool answerable() const { return !prompt.empty() && !reference.empty(); }
};
EvalItem make_eval_item(const TokenizedExample& e, const Tokenizer& tok);

struct EvalSettings {
  int64_t batch_size = 8;         // examples per loss batch and per generation batch
  bool generate = true;           // answer quality (needs prompts); off: loss only
  int64_t max_new_tokens = 256;
  SamplingOptions sampling;       // greedy unless do_sample
  std::vector<int32_t> stop_ids;  // end of the answer
  int64_t vocab_limit = 0;
  Stemming stemming = Stemming::kPorter;
  int bootstrap_resamples = 1000;
  uint64_t bootstrap_seed = 0;
};

struct EvalPrediction {
  std::string split, source, id, prediction, reference;
  double exact_match = 0, token_f1 = 0, rouge_l = 0;
};

// One row of results: a split, for one source or "all".
struct EvalRow {
  std::string split, source;
  int64_t examples = 0, tokens = 0;  // tokens: scored (label) positions
  double loss = 0, perplexity = 0;
  int64_t answered = 0;  // examples with generated answers
  BootstrapCi exact_match, token_f1, rouge_l;
  nlohmann::ordered_json to_json() const;
};

struct SplitEval {
  std::vector<EvalRow> rows;  // "all" first, then each source in name order
  std::vector<EvalPrediction> predictions;  // in example order
  double generate_seconds = 0;
  int64_t generated_tokens = 0;
};

// `model` generates (with the adapter's hook when there is one); `scorer` gives the loss (same base and adapter).
// progress(done, total) after each batch.
SplitEval evaluate_split(const std::string& split, const std::vector<TokenizedExample>& examples, Gemma3& model,
                         Gemma3Lora& scorer, const Tokenizer& tok, const EvalSettings& s,
                         const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace scitune
