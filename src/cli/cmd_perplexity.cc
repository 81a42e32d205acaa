// `scitune perplexity`: llama.cpp's llama-perplexity method (tools/perplexity/perplexity.cpp, perplexity()),
// so the numbers compare with its output for the same model and text:
//   - the file is read whole, one final newline dropped (llama.cpp's -f), and tokenized with the tokenizer's
//     special tokens (Gemma: a leading <bos>);
//   - it needs at least 2 x ctx tokens; it is cut into floor(n / ctx) chunks of ctx tokens (the rest unused);
//   - each chunk runs on its own (positions 0..ctx-1) with its first token replaced by BOS;
//   - only the second half is scored: the logits at positions first = ctx/2 .. ctx-2 predict the tokens at
//     first+1 .. ctx-1, i.e. ctx - first - 1 tokens per chunk;
//   - PPL = exp(mean NLL), printed as a running value after each chunk ("[1]12.3456,[2]..."), then
//     "Final estimate: PPL = X +/- Y" where Y = PPL * sqrt((mean(NLL^2) - mean(NLL)^2) / (count - 1)).
// One difference: special-token text in the file ("<bos>") is read as the special token (HF's encode), where
// llama.cpp reads it as plain text; ordinary text is unaffected.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli/commands.h"
#include "cli/model_session.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct PerplexityArgs {
  std::string model, tokenizer, adapter, file;
  int64_t ctx = 512, batch = 1, chunks = 0;
};

// -log softmax(row)[target]: float exponentials summed in double, as llama.cpp's log_softmax.
double nll_of(const float* row, int64_t V, int32_t target) {
  float mx = row[0];
  for (int64_t v = 1; v < V; ++v) mx = std::max(mx, row[v]);
  double sum = 0;
  for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
  return std::log(sum) - static_cast<double>(row[target] - mx);
}

void run_perplexity(const PerplexityArgs& a) {
  if (a.ctx < 4) fail("--ctx = " + std::to_string(a.ctx) + ": expected at least 4 tokens");
  if (a.batch < 1) fail("--batch = " + std::to_string(a.batch) + ": expected at least 1 chunk");
  if (a.chunks < 0) fail("--chunks = " + std::to_string(a.chunks) + ": expected 0 (all) or more");
  std::ifstream in(a.file, std::ios::binary);
  if (!in) fail(a.file + ": cannot open (--file)");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!text.empty() && text.back() == '\n') text.pop_back();

  auto session = open_model_session(a.model, a.tokenizer, a.adapter);
  const ModelConfig& cfg = session->weights.config;
  if (a.ctx > cfg.max_position_embeddings)
    fail("--ctx = " + std::to_string(a.ctx) + ": the model's context is " +
         std::to_string(cfg.max_position_embeddings));
  const std::vector<int32_t> tokens = session->tok.encode(text, /*add_special_tokens=*/true);
  session->check_ids(tokens, a.file);
  const int64_t n_ctx = a.ctx, n_tokens = static_cast<int64_t>(tokens.size());
  if (n_tokens < 2 * n_ctx)
    fail(a.file + ": tokenizes to " + std::to_string(n_tokens) + " tokens; --ctx " + std::to_string(n_ctx) +
         " needs at least " + std::to_string(2 * n_ctx));
  // llama.cpp puts BOS first in every chunk when the vocabulary adds one (Gemma does).
  const std::vector<int32_t> specials = session->tok.encode("", /*add_special_tokens=*/true);
  const int32_t bos = session->tok.bos_id() && !specials.empty() && specials.front() == *session->tok.bos_id()
                          ? *session->tok.bos_id()
                          : -1;
  int64_t n_chunk = n_tokens / n_ctx;
  if (a.chunks > 0) n_chunk = std::min(n_chunk, a.chunks);
  const int64_t first = n_ctx / 2, V = cfg.vocab_size;
  if (verbosity() > 0)
    std::fprintf(stderr, "perplexity: %lld tokens, %lld chunks of %lld (scoring the last %lld of each)\n",
                 static_cast<long long>(n_tokens), static_cast<long long>(n_chunk), static_cast<long long>(n_ctx),
                 static_cast<long long>(n_ctx - first - 1));

  double nll = 0, nll2 = 0;
  int64_t count = 0;
  constexpr int64_t kRows = 32;  // logits rows at a time: 32 x 262144 floats = 32 MiB
  std::vector<float> logits(static_cast<size_t>(kRows * V));
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n_chunk; i += a.batch) {
    const int64_t B = std::min(a.batch, n_chunk - i);
    std::vector<int32_t> ids(tokens.begin() + i * n_ctx, tokens.begin() + (i + B) * n_ctx);
    if (bos >= 0)
      for (int64_t b = 0; b < B; ++b) ids[b * n_ctx] = bos;
    const std::vector<int64_t> lengths(B, n_ctx);
    const std::vector<float> hidden = session->net.forward(ids, lengths, B, n_ctx, nullptr);  // [B*ctx, C]
    for (int64_t b = 0; b < B; ++b) {
      const int32_t* chunk = tokens.data() + (i + b) * n_ctx;  // the original tokens are the targets
      for (int64_t j = first; j < n_ctx - 1; j += kRows) {
        const int64_t rows = std::min(kRows, n_ctx - 1 - j);
        session->net.lm_head(logits.data(), hidden.data() + (b * n_ctx + j) * cfg.hidden_size, rows);
        for (int64_t r = 0; r < rows; ++r) {
          const double v = nll_of(logits.data() + r * V, V, chunk[j + r + 1]);
          nll += v;
          nll2 += v * v;
        }
      }
      count += n_ctx - first - 1;
      std::printf("[%lld]%.4f,", static_cast<long long>(i + b + 1), std::exp(nll / count));
      std::fflush(stdout);
    }
  }
  std::printf("\n");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nll /= count;
  nll2 = nll2 / count - nll * nll;
  const double ppl = std::exp(nll);
  const double err = nll2 > 0 ? std::sqrt(nll2 / (count - 1)) * ppl : 0.0;
  std::printf("Final estimate: PPL = %.4f +/- %.5f\n", ppl, err);
  if (verbosity() > 0)
    std::fprintf(stderr, "perplexity: %lld chunks in %.2f s (%.1f tok/s)\n", static_cast<long long>(n_chunk), secs,
                 n_chunk * n_ctx / std::max(secs, 1e-9));
}

}  // namespace

void register_perplexity(CLI::App& app) {
  auto a = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Perplexity of a model on a text file (llama-perplexity's method)");
  cmd->add_option("--model", a->model, "HF model folder or gemma3 GGUF")->required();
  cmd->add_option("--adapter", a->adapter, "PEFT LoRA adapter folder to apply");
  cmd->add_option("--tokenizer", a->tokenizer, "Tokenizer (default: the model's own)");
  cmd->add_option("--file", a->file, "Text file to score")->required();
  cmd->add_option("--ctx", a->ctx, "Tokens per chunk; the second half of each is scored")->capture_default_str();
  cmd->add_option("--batch", a->batch, "Chunks run together in one forward pass (more memory)")->capture_default_str();
  cmd->add_option("--chunks", a->chunks, "Score at most this many chunks (default: all)");
  cmd->callback([a] { run_perplexity(*a); });
}

}  // namespace scitune::cli
