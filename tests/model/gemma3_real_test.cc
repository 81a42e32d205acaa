// The real Gemma 3 270M (Q4_K_M GGUF, dequantised to fp32) through our forward: greedy continuation equals
// llama.cpp's (llama-simple -n 4 "The capital of France is" -> " the capital of the", ids from llama-tokenize
// in the oracle). Skips when the model is not in the cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "model/weights.h"
#include "util/paths.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

TEST(Gemma3Real, GreedyContinuationMatchesLlamaCpp) {
  const fs::path model = default_model_path();
  if (!fs::exists(model)) GTEST_SKIP() << "real model not in the cache (run scripts/fetch_model.sh)";
  GgufFile f = GgufFile::open(model);
  LoadedGemma3 m = load_gemma3_fp32(f);
  Gemma3 g(m.config, m.weights);
  std::vector<int32_t> ids = {2, 818, 5279, 529, 7001, 563};  // <bos>The capital of France is
  const std::vector<int32_t> want = {506, 5279, 529, 506};     // " the capital of the"
  const int64_t V = m.config.vocab_size;
  for (int32_t expected : want) {
    const int64_t T = static_cast<int64_t>(ids.size());
    std::vector<int64_t> len = {T};
    std::vector<float> logits(T * V);
    g.forward(ids, len, 1, T, logits.data());
    const float* last = logits.data() + (T - 1) * V;
    const int32_t next = static_cast<int32_t>(std::max_element(last, last + V) - last);
    ASSERT_EQ(next, expected) << "after " << T << " tokens";
    ids.push_back(next);
  }
}

}  // namespace
}  // namespace scitune
