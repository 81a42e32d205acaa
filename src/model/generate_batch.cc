#include "model/generate_batch.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "kernels/cpu/linear.h"
#include "util/error.h"

namespace scitune {

std::vector<GenerateResult> generate_batch(Gemma3& model, std::span<const std::vector<int32_t>> prompts,
                                           const GenerateOptions& options) {
  const ModelConfig& c = model.config();
  const int64_t V = c.vocab_size, C = c.hidden_size, B = static_cast<int64_t>(prompts.size());
  if (options.max_new_tokens < 1) fail("generate: max_new_tokens must be at least 1");
  const int64_t limit = options.vocab_limit > 0 ? std::min(options.vocab_limit, V) : V;
  std::vector<GenerateResult> results(static_cast<size_t>(B));
  std::vector<KvCache> caches;
  std::vector<Sampler> samplers;
  std::vector<std::vector<int32_t>> history(static_cast<size_t>(B));
  std::vector<float> hidden(static_cast<size_t>(B * C));
  caches.reserve(static_cast<size_t>(B));
  samplers.reserve(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[static_cast<size_t>(b)];
    if (p.empty()) fail("generate: prompt " + std::to_string(b) + " is empty");
    if (static_cast<int64_t>(p.size()) >= c.max_position_embeddings)
      fail("generate: prompt " + std::to_string(b) + " has " + std::to_string(p.size()) +
           " tokens; the model's context is " + std::to_string(c.max_position_embeddings));
    SamplingOptions so = options.sampling;
    so.seed = options.sampling.seed + static_cast<uint64_t>(b);
    samplers.emplace_back(so);
    const int64_t need = static_cast<int64_t>(p.size()) + options.max_new_tokens - 1;
    caches.push_back(model.new_cache(std::min(need, c.max_position_embeddings)));
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<float> h = model.forward_cached(p, caches.back());
    results[static_cast<size_t>(b)].prompt_tokens = static_cast<int64_t>(p.size());
    results[static_cast<size_t>(b)].prompt_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::copy(h.begin(), h.end(), hidden.begin() + b * C);
    history[static_cast<size_t>(b)] = p;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int64_t> active(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) active[static_cast<size_t>(b)] = b;
  std::vector<float> logits;
  while (!active.empty()) {
    const int64_t n = static_cast<int64_t>(active.size());
    logits.resize(static_cast<size_t>(n * V));
    for (int64_t g = 0; g < n; g += ops::kLinearGemmRows - 1)
      model.lm_head(logits.data() + g * V, hidden.data() + g * C, std::min(ops::kLinearGemmRows - 1, n - g));
    std::vector<int64_t> still;
    std::vector<int32_t> next_ids;
    std::vector<KvCache*> next_caches;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t b = active[static_cast<size_t>(i)];
      GenerateResult& r = results[static_cast<size_t>(b)];
      std::span<float> row(logits.data() + i * V, static_cast<size_t>(V));
      std::fill(row.begin() + limit, row.end(), -std::numeric_limits<float>::infinity());
      const int32_t next = samplers[static_cast<size_t>(b)].sample(row, history[static_cast<size_t>(b)]);
      if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) != options.stop_ids.end()) {
        r.reason = StopReason::kStopToken;
        r.stop_id = next;
        continue;
      }
      r.ids.push_back(next);
      history[static_cast<size_t>(b)].push_back(next);
      if (static_cast<int64_t>(r.ids.size()) == options.max_new_tokens) {
        r.reason = StopReason::kMaxTokens;
        continue;
      }
      KvCache& cache = caches[static_cast<size_t>(b)];
      if (cache.pos >= cache.max_len) {
        r.reason = StopReason::kContextFull;
        continue;
      }
      still.push_back(b);
      next_ids.push_back(next);
      next_caches.push_back(&cache);
    }
    active = std::move(still);
    if (active.empty()) break;
    // Groups below the linear kernels' GEMM threshold stay on the weight-streaming path: each weight byte is
    // read once per group, where the GEMM path would dequantise every matrix per step.
    const size_t group = static_cast<size_t>(ops::kLinearGemmRows - 1);
    hidden.resize(next_ids.size() * static_cast<size_t>(C));
    for (size_t g = 0; g < next_ids.size(); g += group) {
      const size_t m = std::min(group, next_ids.size() - g);
      const std::vector<float> h = model.forward_cached_batch(std::span<const int32_t>(next_ids).subspan(g, m),
                                                              std::span<KvCache* const>(next_caches).subspan(g, m));
      std::copy(h.begin(), h.end(), hidden.begin() + static_cast<int64_t>(g) * C);
    }
  }
  const double decode = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& r : results) r.decode_seconds = decode;
  return results;
}

}  // namespace scitune
