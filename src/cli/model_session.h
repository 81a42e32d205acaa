// What the commands that run a model share: opening the model with its tokenizer and sampling defaults (the one
// place that loads weights for generate / chat / perplexity), the sampling flags, and Ctrl-C during a reply.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/gemma3.h"
#include "model/generate.h"
#include "model/generation_config.h"
#include "model/load.h"
#include "tokenizer/tokenizer.h"
#include "train/lora.h"

namespace scitune::cli {

struct ModelSession {
  ModelSession(LoadedGemma3 w, Tokenizer t, GenerationDefaults g);
  ModelSession(const ModelSession&) = delete;
  ModelSession& operator=(const ModelSession&) = delete;

  LoadedGemma3 weights;
  Gemma3 net;  // views into `weights`
  Tokenizer tok;
  GenerationDefaults gen;  // generation_config.json of an HF folder, else Gemma's defaults
  std::unique_ptr<LoraAdapter> adapter;  // applied through net's projection hook when set

  // Loads a PEFT adapter and applies it to every forward from now on.
  void apply_adapter(const std::string& dir);

  // End-of-reply ids: the generation config's eos ids, the tokenizer's eos and <end_of_turn> / <turn|>.
  std::vector<int32_t> stop_ids() const;
  // UserError when an id the tokenizer produced is outside the model's vocabulary (mismatched pair).
  void check_ids(std::span<const int32_t> ids, const std::string& what) const;
  // GenerateOptions::vocab_limit: never choose an id the tokenizer cannot decode.
  int64_t vocab_limit() const;
};

// `model_path`: an HF folder or a gemma3 GGUF. `tokenizer_path` empty: the model's own (the folder's
// tokenizer.json / tokenizer.model, or the vocabulary inside the GGUF).
// `adapter_path` (optional): a PEFT LoRA adapter folder applied on top.
std::unique_ptr<ModelSession> open_model_session(const std::string& model_path, const std::string& tokenizer_path,
                                                 const std::string& adapter_path = "");

// --temperature --top-k --top-p --min-p --repetition-penalty --seed --greedy --max-new-tokens. Values left
// unset come from the model's generation defaults.
struct SamplingFlags {
  double temperature = 1, top_p = 1, min_p = 0, repetition_penalty = 1;
  int64_t top_k = 0, max_new_tokens = 0;
  uint64_t seed = 0;
  bool greedy = false;
  CLI::Option *temperature_opt = nullptr, *top_p_opt = nullptr, *min_p_opt = nullptr, *penalty_opt = nullptr,
              *top_k_opt = nullptr, *max_new_opt = nullptr, *seed_opt = nullptr;
};
void add_sampling_flags(CLI::App* cmd, SamplingFlags& f, int64_t default_max_new_tokens);
// UserError naming the flag for a value out of range; call before loading the model.
void check_sampling_flags(const SamplingFlags& f);
// Flags over defaults. Without --seed the seed is drawn from std::random_device (reported by the caller).
SamplingOptions resolve_sampling(const SamplingFlags& f, const GenerationDefaults& defaults);
int64_t resolve_max_new_tokens(const SamplingFlags& f, const GenerationDefaults& defaults, int64_t fallback);

// While alive, SIGINT sets a flag instead of killing the process (the previous handler comes back after).
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
  static bool interrupted();  // since the scope began or the last clear()
  static void clear();

 private:
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

// The BOS llama-perplexity puts first in every chunk when the tokenizer adds one (Gemma does), else -1.
int32_t chunk_bos(const Tokenizer& tok);

// "12 tokens in 0.50 s (24.0 tok/s)".
std::string rate_text(int64_t tokens, double seconds);

}  // namespace scitune::cli
