// Weights for the fp32 Gemma 3 forward, loaded from an HF model folder or a GGUF: every tensor converted to fp32 (zero
// copy is a later optimisation), norm weights turned into gains (1 + w), the tied head sharing the embedding.
#pragma once
#include <vector>

#include "model/gemma3.h"
#include "io/gguf.h"
#include "model/hf_folder.h"

namespace scitune {

struct LoadedGemma3 {
  ModelConfig config;
  std::vector<std::vector<float>> storage;  // owns every array the views point into
  Gemma3Weights weights;
};

LoadedGemma3 load_gemma3_fp32(const HfModelFolder& folder);
// From a gemma3 GGUF: every tensor dequantised to fp32 (norms already hold the gain there).
LoadedGemma3 load_gemma3_fp32(const GgufFile& file);

}  // namespace scitune
