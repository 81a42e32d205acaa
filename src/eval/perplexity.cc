#include "eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "util/error.h"

namespace scitune {

namespace {

// -log softmax(row)[target]: float exponentials summed in double, as llama.cpp's log_softmax.
double nll_of(const float* row, int64_t V, int32_t target) {
  float mx = row[0];
  for (int64_t v = 1; v < V; ++v) mx = std::max(mx, row[v]);
  double sum = 0;
  for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
  return std::log(sum) - static_cast<double>(row[target] - mx);
}

}  // namespace

PerplexityResult llama_perplexity(Gemma3& net, std::span<const int32_t> tokens, int64_t ctx, int64_t batch,
                                  int64_t max_chunks, int32_t bos, const std::function<void(int64_t, double)>& on_chunk) {
  const ModelConfig& cfg = net.config();
  if (ctx < 4) fail("perplexity: ctx = " + std::to_string(ctx) + ": expected at least 4 tokens");
  if (ctx > cfg.max_position_embeddings)
    fail("perplexity: ctx = " + std::to_string(ctx) + ": the model's context is " +
         std::to_string(cfg.max_position_embeddings));
  if (batch < 1) fail("perplexity: batch = " + std::to_string(batch) + ": expected at least 1 chunk");
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  if (n_tokens < 2 * ctx)
    fail("perplexity: the text has " + std::to_string(n_tokens) + " tokens; ctx " + std::to_string(ctx) +
         " needs at least " + std::to_string(2 * ctx));
  int64_t n_chunk = n_tokens / ctx;
  if (max_chunks > 0) n_chunk = std::min(n_chunk, max_chunks);
  const int64_t first = ctx / 2, V = cfg.vocab_size;
  double nll = 0, nll2 = 0;
  int64_t count = 0;
  constexpr int64_t kRows = 32;  // logits rows at a time: 32 x 262144 floats = 32 MiB
  std::vector<float> logits(static_cast<size_t>(kRows * V));
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n_chunk; i += batch) {
    const int64_t B = std::min(batch, n_chunk - i);
    std::vector<int32_t> ids(tokens.begin() + i * ctx, tokens.begin() + (i + B) * ctx);
    if (bos >= 0)
      for (int64_t b = 0; b < B; ++b) ids[static_cast<size_t>(b * ctx)] = bos;
    const std::vector<int64_t> lengths(static_cast<size_t>(B), ctx);
    const std::vector<float> hidden = net.forward(ids, lengths, B, ctx, nullptr);  // [B*ctx, C]
    for (int64_t b = 0; b < B; ++b) {
      const int32_t* chunk = tokens.data() + (i + b) * ctx;  // the original tokens are the targets
      for (int64_t j = first; j < ctx - 1; j += kRows) {
        const int64_t rows = std::min(kRows, ctx - 1 - j);
        net.lm_head(logits.data(), hidden.data() + (b * ctx + j) * cfg.hidden_size, rows);
        for (int64_t r = 0; r < rows; ++r) {
          const double v = nll_of(logits.data() + r * V, V, chunk[j + r + 1]);
          nll += v;
          nll2 += v * v;
        }
      }
      count += ctx - first - 1;
      if (on_chunk) on_chunk(i + b + 1, std::exp(nll / static_cast<double>(count)));
    }
  }
  PerplexityResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.chunks = n_chunk;
  r.scored = count;
  r.mean_nll = nll / static_cast<double>(count);
  const double var = nll2 / static_cast<double>(count) - r.mean_nll * r.mean_nll;
  r.ppl = std::exp(r.mean_nll);
  r.ppl_error = var > 0 ? std::sqrt(var / static_cast<double>(count - 1)) * r.ppl : 0.0;
  return r;
}

}  // namespace scitune
