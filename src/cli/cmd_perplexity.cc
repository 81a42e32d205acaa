// `scitune perplexity`: llama.cpp's llama-perplexity method (eval/perplexity.h), printed as llama-perplexity
// prints it ("[1]12.3456,[2]...", then "Final estimate: PPL = X +/- Y"). The file is read whole, one final newline
// dropped (llama.cpp's -f). One difference: special-token text in the file ("<bos>") is read as the special token
// (HF's encode), where llama.cpp reads it as plain text; ordinary text is unaffected.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli/commands.h"
#include "cli/model_session.h"
#include "eval/perplexity.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct PerplexityArgs {
  std::string model, tokenizer, adapter, file;
  int64_t ctx = 512, batch = 1, chunks = 0;
};

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
  if (verbosity() > 0)
    std::fprintf(stderr, "perplexity: %lld tokens, chunks of %lld (scoring the last %lld of each)\n",
                 static_cast<long long>(n_tokens), static_cast<long long>(n_ctx),
                 static_cast<long long>(n_ctx - n_ctx / 2 - 1));
  const PerplexityResult r =
      llama_perplexity(session->net, tokens, n_ctx, a.batch, a.chunks, chunk_bos(session->tok), [](int64_t k, double ppl) {
        std::printf("[%lld]%.4f,", static_cast<long long>(k), ppl);
        std::fflush(stdout);
      });
  std::printf("\n");
  std::printf("Final estimate: PPL = %.4f +/- %.5f\n", r.ppl, r.ppl_error);
  if (verbosity() > 0)
    std::fprintf(stderr, "perplexity: %lld chunks in %.2f s (%.1f tok/s)\n", static_cast<long long>(r.chunks),
                 r.seconds, static_cast<double>(r.chunks * n_ctx) / std::max(r.seconds, 1e-9));
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
