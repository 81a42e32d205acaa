// Generation for many prompts at once (evaluation): each prompt runs through the model on its own (the prompt
// path), then every step decodes all unfinished sequences together — one [B, C] product per projection instead
// of B mat-vecs (Gemma3::forward_cached_batch), in groups small enough to stay on the weight-streaming path. Each sequence has its own sampler, seeded with
// options.sampling.seed + its index, and the stop / max-token / context rules of generate().
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "model/gemma3.h"
#include "model/generate.h"

namespace scitune {

std::vector<GenerateResult> generate_batch(Gemma3& model, std::span<const std::vector<int32_t>> prompts,
                                           const GenerateOptions& options);

}  // namespace scitune
