// Greedy decoding for the fp32 forward with the KV cache: the prompt in chunks, then one token per step.
// (Sampling and the quantised decoder are the inference-engine issue's remaining work.)
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/gemma3.h"

namespace scitune {

struct GreedyOptions {
  int64_t max_new_tokens = 64;
  std::vector<int32_t> stop_ids;  // generation ends after producing one of these (not included in the result)
};

// Returns the generated ids; on_token(id) is called for each kept token as soon as it is chosen.
std::vector<int32_t> generate_greedy(Gemma3& model, std::span<const int32_t> prompt, const GreedyOptions& options,
                                     const std::function<void(int32_t)>& on_token = {});

}  // namespace scitune
