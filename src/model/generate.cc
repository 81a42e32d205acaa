#include "model/generate.h"

#include <algorithm>

#include "util/error.h"

namespace scitune {

std::vector<int32_t> generate_greedy(Gemma3& model, std::span<const int32_t> prompt, const GreedyOptions& options,
                                     const std::function<void(int32_t)>& on_token) {
  const ModelConfig& c = model.config();
  if (prompt.empty()) fail("generate: the prompt is empty");
  std::vector<int32_t> seq(prompt.begin(), prompt.end());
  std::vector<int32_t> out;
  std::vector<float> logits(static_cast<size_t>(c.vocab_size));
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const int64_t T = static_cast<int64_t>(seq.size());
    if (T >= c.max_position_embeddings) break;
    const int64_t lengths[1] = {T};
    std::vector<float> hidden = model.forward(seq, lengths, 1, T, nullptr);
    model.lm_head(logits.data(), hidden.data() + (T - 1) * c.hidden_size, 1);
    const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) != options.stop_ids.end()) break;
    out.push_back(next);
    seq.push_back(next);
    if (on_token) on_token(next);
  }
  return out;
}

}  // namespace scitune
