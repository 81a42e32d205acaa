#include "cli/model_session.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>

#include "train/lora_ops.h"
#include "util/error.h"

namespace scitune::cli {

namespace fs = std::filesystem;

ModelSession::ModelSession(LoadedGemma3 w, Tokenizer t, GenerationDefaults g)
    : weights(std::move(w)), net(weights.config, weights.weights), tok(std::move(t)), gen(std::move(g)) {}

std::vector<int32_t> ModelSession::stop_ids() const {
  std::vector<int32_t> ids;
  auto add = [&](int64_t id) {
    if (id >= 0 && id < weights.config.vocab_size && std::find(ids.begin(), ids.end(), id) == ids.end())
      ids.push_back(static_cast<int32_t>(id));
  };
  for (int64_t id : gen.eos_token_ids) add(id);
  if (auto id = tok.eos_id()) add(*id);
  for (const char* end_of_turn : {"<end_of_turn>", "<turn|>"})
    if (auto id = tok.token_to_id(end_of_turn)) add(*id);
  return ids;
}

void ModelSession::check_ids(std::span<const int32_t> ids, const std::string& what) const {
  const int64_t V = weights.config.vocab_size;
  for (int32_t id : ids)
    if (id < 0 || id >= V)
      fail(what + ": token id " + std::to_string(id) + " (\"" + tok.id_to_token(id) +
           "\") is outside the model's vocabulary of " + std::to_string(V) + " (" + tok.source() +
           " does not belong to this model? pass --tokenizer)");
}

int64_t ModelSession::vocab_limit() const {
  return std::min<int64_t>(weights.config.vocab_size, static_cast<int64_t>(tok.vocab_size()));
}

void ModelSession::apply_adapter(const std::string& dir) {
  adapter = std::make_unique<LoraAdapter>(LoraAdapter::load(dir, weights.config));
  net.set_projection_hook(lora::inference_hook(*adapter));
}

std::unique_ptr<ModelSession> open_model_session(const std::string& model_path, const std::string& tokenizer_path,
                                                 const std::string& adapter_path) {
  const fs::path path(model_path);
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(model_path + ": no such file or folder (--model)");
  const bool folder = fs::is_directory(path, ec);
  Tokenizer tok = [&] {
    if (!tokenizer_path.empty()) return Tokenizer::load(tokenizer_path);
    if (folder && !fs::exists(path / "tokenizer.json") && !fs::exists(path / "tokenizer.model"))
      fail(model_path + ": the folder has no tokenizer.json or tokenizer.model; pass --tokenizer PATH");
    return Tokenizer::load(path);
  }();
  // GGUF weights in place, in their stored type; laid out for inference (model/weights.h).
  LoadedGemma3 weights = load_model(path, {.dequantize = false, .quant = std::nullopt, .nf4 = false, .bf16 = false, .inference_layout = true});
  GenerationDefaults gen = folder ? read_generation_config(path / "generation_config.json", weights.config)
                                  : generation_defaults_for(weights.config);
  auto session = std::make_unique<ModelSession>(std::move(weights), std::move(tok), std::move(gen));
  if (!adapter_path.empty()) session->apply_adapter(adapter_path);
  return session;
}

// --- sampling flags ---

void add_sampling_flags(CLI::App* cmd, SamplingFlags& f, int64_t default_max_new_tokens) {
  f.temperature_opt = cmd->add_option("--temperature", f.temperature,
                                      "Softmax temperature, >= 0; 0 = greedy (default: the model's generation config)");
  f.top_k_opt =
      cmd->add_option("--top-k", f.top_k, "Keep the k most likely tokens; 0 = off (default: generation config)");
  f.top_p_opt =
      cmd->add_option("--top-p", f.top_p, "Nucleus sampling, in (0, 1]; 1 = off (default: generation config)");
  f.min_p_opt =
      cmd->add_option("--min-p", f.min_p, "Drop tokens below min_p x the top probability, in [0, 1]; 0 = off");
  f.penalty_opt = cmd->add_option("--repetition-penalty", f.repetition_penalty,
                                  "HF repetition penalty over prompt and reply, > 0; 1 = off");
  f.seed_opt = cmd->add_option("--seed", f.seed, "Sampling seed; the same seed gives the same text (default: random)");
  cmd->add_flag("--greedy", f.greedy, "Always take the most likely token (no sampling)");
  f.max_new_opt = cmd->add_option(
      "--max-new-tokens", f.max_new_tokens,
      "Longest reply in tokens (default: generation config, else " + std::to_string(default_max_new_tokens) + ")");
}

void check_sampling_flags(const SamplingFlags& f) {
  auto check = [](const CLI::Option* opt, bool ok, double v, const char* expected) {
    if (opt->count() && (!ok || !std::isfinite(v)))
      fail(opt->get_name() + " = " + opt->as<std::string>() + ": expected " + expected);
  };
  check(f.temperature_opt, f.temperature >= 0, f.temperature, "a number >= 0 (0 = greedy)");
  check(f.top_k_opt, f.top_k >= 0, static_cast<double>(f.top_k), "an integer >= 0 (0 = off)");
  check(f.top_p_opt, f.top_p > 0 && f.top_p <= 1, f.top_p, "a number in (0, 1] (1 = off)");
  check(f.min_p_opt, f.min_p >= 0 && f.min_p <= 1, f.min_p, "a number in [0, 1] (0 = off)");
  check(f.penalty_opt, f.repetition_penalty > 0, f.repetition_penalty, "a number > 0 (1 = off)");
  check(f.max_new_opt, f.max_new_tokens >= 1, static_cast<double>(f.max_new_tokens), "an integer >= 1");
}

SamplingOptions resolve_sampling(const SamplingFlags& f, const GenerationDefaults& defaults) {
  SamplingOptions o = sampling_options_from(defaults);
  if (f.temperature_opt->count()) o.temperature = f.temperature;
  if (f.top_k_opt->count()) o.top_k = f.top_k;
  if (f.top_p_opt->count()) o.top_p = f.top_p;
  if (f.min_p_opt->count()) o.min_p = f.min_p;
  if (f.penalty_opt->count()) o.repetition_penalty = f.repetition_penalty;
  // Asking for a sampling knob asks for sampling, even when the generation config says do_sample false.
  if (f.temperature_opt->count() || f.top_k_opt->count() || f.top_p_opt->count() || f.min_p_opt->count())
    o.do_sample = true;
  if (f.greedy) o.do_sample = false;
  o.seed = f.seed_opt->count() ? f.seed : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  check_sampling_options(o, "sampling");
  return o;
}

int64_t resolve_max_new_tokens(const SamplingFlags& f, const GenerationDefaults& defaults, int64_t fallback) {
  if (f.max_new_opt->count()) return f.max_new_tokens;
  return defaults.max_new_tokens.value_or(fallback);
}

// --- Ctrl-C ---

namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_sigint(int) { g_interrupted.store(true); }

}  // namespace

struct InterruptScope::Saved {
  struct sigaction old;
};

InterruptScope::InterruptScope() : saved_(std::make_unique<Saved>()) {
  g_interrupted.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &saved_->old);
}

InterruptScope::~InterruptScope() { sigaction(SIGINT, &saved_->old, nullptr); }

bool InterruptScope::interrupted() { return g_interrupted.load(); }
void InterruptScope::clear() { g_interrupted.store(false); }

std::string rate_text(int64_t tokens, double seconds) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld tokens in %.2f s (%.1f tok/s)", static_cast<long long>(tokens), seconds,
                seconds > 0 ? tokens / seconds : 0.0);
  return buf;
}

int32_t chunk_bos(const Tokenizer& tok) {
  const std::vector<int32_t> specials = tok.encode("", /*add_special_tokens=*/true);
  return tok.bos_id() && !specials.empty() && specials.front() == *tok.bos_id() ? *tok.bos_id() : -1;
}

}  // namespace scitune::cli
