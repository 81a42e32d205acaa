// Perplexity the way llama.cpp's llama-perplexity computes it (tools/perplexity/perplexity.cpp, perplexity()),
// so the numbers compare with its output for the same model and text:
//   - the token ids (tokenized with the tokenizer's special tokens: Gemma's leading <bos>) are cut into
//     floor(n / ctx) chunks of ctx tokens (the rest unused); at least 2 x ctx tokens are needed;
//   - each chunk runs on its own (positions 0..ctx-1) with its first token replaced by BOS;
//   - only the second half is scored: the logits at positions ctx/2 .. ctx-2 predict the tokens after them;
//   - PPL = exp(mean NLL) with error PPL * sqrt((mean(NLL^2) - mean(NLL)^2) / (count - 1)).
// `scitune perplexity` prints it as llama-perplexity does; `scitune eval` on a .txt file reports it as a row.
#pragma once
#include <cstdint>
#include <functional>
#include <span>

#include "model/gemma3.h"

namespace scitune {

struct PerplexityResult {
  double ppl = 0, ppl_error = 0, mean_nll = 0;
  int64_t chunks = 0, scored = 0;  // chunks run, tokens scored
  double seconds = 0;
};

// bos < 0: leave each chunk's first token as it is. max_chunks 0: all. on_chunk(k, running ppl) after chunk k
// (1-based). UserError when there are fewer than 2 x ctx tokens or ctx is out of range.
PerplexityResult llama_perplexity(Gemma3& net, std::span<const int32_t> tokens, int64_t ctx, int64_t batch,
                                  int64_t max_chunks, int32_t bos,
                                  const std::function<void(int64_t, double)>& on_chunk = {});

}  // namespace scitune
