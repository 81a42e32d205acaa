// Decoding with the KV cache: the prompt in chunks, then one token per step, each chosen by a Sampler
// (model/sampling.h). Also the stop-string filter the CLI runs over the decoded text.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/gemma3.h"
#include "model/sampling.h"

namespace scitune {

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  std::vector<int32_t> stop_ids;  // generation ends when one of these is chosen (it is not kept)
  SamplingOptions sampling;
  // Ids >= this are never chosen (a tokenizer smaller than the model's padded vocabulary); 0 = no limit.
  int64_t vocab_limit = 0;
};

enum class StopReason { kStopToken, kMaxTokens, kContextFull, kCallback };

struct GenerateResult {
  std::vector<int32_t> ids;  // the kept tokens, in order (no stop token)
  StopReason reason = StopReason::kMaxTokens;
  int32_t stop_id = -1;       // the stop token chosen, when reason == kStopToken
  int64_t prompt_tokens = 0;  // tokens run through the model before the first choice
  double prompt_seconds = 0;  // time to run them
  double decode_seconds = 0;  // time from the first choice to the end
};

// on_token(id) is called for each kept token as soon as it is chosen; returning false stops generation
// (reason kCallback; the token is kept).
using TokenCallback = std::function<bool(int32_t)>;

// A fresh sequence: a cache sized for prompt + max_new_tokens (at most the model's context). UserError when the
// prompt is empty or does not leave room for one new token.
GenerateResult generate(Gemma3& model, std::span<const int32_t> prompt, const GenerateOptions& options,
                        const TokenCallback& on_token = {});

// Continues a sequence: `tokens` is the whole sequence so far, of which the cache holds the first cache.pos.
// Appends `new_ids` to it, runs every token the cache lacks, then samples with `sampler` (the repetition
// penalty sees all of `tokens`), appending each kept token. The last kept token may be left out of the cache
// (there was no need to run it); the next call runs it first. UserError when the tokens to run do not fit in
// the cache (the caller decides whether to start over).
GenerateResult generate_more(Gemma3& model, KvCache& cache, std::vector<int32_t>& tokens,
                             std::span<const int32_t> new_ids, const GenerateOptions& options, Sampler& sampler,
                             const TokenCallback& on_token = {});

struct GreedyOptions {
  int64_t max_new_tokens = 64;
  std::vector<int32_t> stop_ids;  // generation ends after producing one of these (not included in the result)
};

// generate() with argmax choices and no penalty.
std::vector<int32_t> generate_greedy(Gemma3& model, std::span<const int32_t> prompt, const GreedyOptions& options,
                                     const std::function<void(int32_t)>& on_token = {});

// Stop strings over streamed text: generation stops at the first occurrence of any of them, and neither it
// nor anything after it is shown. Text that might be the start of a stop string is held back until the next
// push() settles it. Give it whole UTF-8 characters (tokenizer StreamDecoder output); what it returns is too.
class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);  // UserError for an empty string
  std::string push(std::string_view text);               // the text now safe to show
  std::string finish();                                  // what was held back (nothing once stopped)
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace scitune
