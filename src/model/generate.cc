#include "model/generate.h"

#include <algorithm>

#include "util/error.h"

namespace scitune {

std::vector<int32_t> generate_greedy(Gemma3& model, std::span<const int32_t> prompt, const GreedyOptions& options,
                                     const std::function<void(int32_t)>& on_token) {
  const ModelConfig& c = model.config();
  if (prompt.empty()) fail("generate: the prompt is empty");
  const int64_t need = static_cast<int64_t>(prompt.size()) + options.max_new_tokens;
  if (static_cast<int64_t>(prompt.size()) >= c.max_position_embeddings)
    fail("generate: the prompt has " + std::to_string(prompt.size()) + " tokens; the model's context is " +
         std::to_string(c.max_position_embeddings));
  KvCache cache = model.new_cache(std::min(need, c.max_position_embeddings));
  std::vector<float> hidden = model.forward_cached(prompt, cache);
  std::vector<float> logits(static_cast<size_t>(c.vocab_size));
  std::vector<int32_t> out;
  while (static_cast<int64_t>(out.size()) < options.max_new_tokens && cache.pos < cache.max_len) {
    model.lm_head(logits.data(), hidden.data(), 1);
    const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) != options.stop_ids.end()) break;
    out.push_back(next);
    if (on_token) on_token(next);
    if (static_cast<int64_t>(out.size()) == options.max_new_tokens) break;
    const int32_t one[1] = {next};
    hidden = model.forward_cached(one, cache);
  }
  return out;
}

}  // namespace scitune
