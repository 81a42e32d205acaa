#include "model/generate.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "util/error.h"

namespace scitune {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

GenerateResult generate_more(Gemma3& model, KvCache& cache, std::vector<int32_t>& tokens,
                             std::span<const int32_t> new_ids, const GenerateOptions& options, Sampler& sampler,
                             const TokenCallback& on_token) {
  const int64_t V = model.config().vocab_size;
  SCITUNE_CHECK(cache.pos <= static_cast<int64_t>(tokens.size()), "the cache holds tokens the sequence lacks");
  if (options.max_new_tokens < 1) fail("generate: max_new_tokens must be at least 1");
  tokens.insert(tokens.end(), new_ids.begin(), new_ids.end());
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == cache.pos) fail("generate: no tokens to run");
  if (n > cache.max_len)
    fail("generate: the prompt and history need " + std::to_string(n) + " positions but the context holds " +
         std::to_string(cache.max_len));

  GenerateResult r;
  auto t0 = std::chrono::steady_clock::now();
  r.prompt_tokens = n - cache.pos;
  std::vector<float> hidden = model.forward_cached(std::span<const int32_t>(tokens).subspan(cache.pos), cache);
  r.prompt_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  std::vector<float> logits(static_cast<size_t>(V));
  const int64_t limit = options.vocab_limit > 0 ? std::min(options.vocab_limit, V) : V;
  while (true) {
    model.lm_head(logits.data(), hidden.data(), 1);
    std::fill(logits.begin() + limit, logits.end(), -std::numeric_limits<float>::infinity());
    const int32_t next = sampler.sample(logits, tokens);
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) != options.stop_ids.end()) {
      r.reason = StopReason::kStopToken;
      r.stop_id = next;
      break;
    }
    tokens.push_back(next);
    r.ids.push_back(next);
    if (on_token && !on_token(next)) {
      r.reason = StopReason::kCallback;
      break;
    }
    if (static_cast<int64_t>(r.ids.size()) == options.max_new_tokens) {
      r.reason = StopReason::kMaxTokens;
      break;
    }
    if (cache.pos >= cache.max_len) {
      r.reason = StopReason::kContextFull;
      break;
    }
    const int32_t one[1] = {next};
    hidden = model.forward_cached(one, cache);
  }
  r.decode_seconds = seconds_since(t0);
  return r;
}

GenerateResult generate(Gemma3& model, std::span<const int32_t> prompt, const GenerateOptions& options,
                        const TokenCallback& on_token) {
  const ModelConfig& c = model.config();
  if (prompt.empty()) fail("generate: the prompt is empty");
  if (static_cast<int64_t>(prompt.size()) >= c.max_position_embeddings)
    fail("generate: the prompt has " + std::to_string(prompt.size()) + " tokens; the model's context is " +
         std::to_string(c.max_position_embeddings));
  if (options.max_new_tokens < 1) fail("generate: max_new_tokens must be at least 1");
  // The last kept token never needs to run, so prompt + max_new_tokens - 1 positions are enough.
  const int64_t need = static_cast<int64_t>(prompt.size()) + options.max_new_tokens - 1;
  KvCache cache = model.new_cache(std::min(need, c.max_position_embeddings));
  Sampler sampler(options.sampling);
  std::vector<int32_t> tokens;
  tokens.reserve(static_cast<size_t>(need + 1));
  return generate_more(model, cache, tokens, prompt, options, sampler, on_token);
}

std::vector<int32_t> generate_greedy(Gemma3& model, std::span<const int32_t> prompt, const GreedyOptions& options,
                                     const std::function<void(int32_t)>& on_token) {
  GenerateOptions o;
  o.max_new_tokens = options.max_new_tokens;
  o.stop_ids = options.stop_ids;
  o.sampling.do_sample = false;
  o.sampling.repetition_penalty = 1.0;
  TokenCallback cb;
  if (on_token)
    cb = [&](int32_t id) {
      on_token(id);
      return true;
    };
  return generate(model, prompt, o, cb).ids;
}

// --- stop strings ---

StopStrings::StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (const std::string& s : stops_)
    if (s.empty()) fail("stop strings: an empty stop string would stop before the first token");
}

std::string StopStrings::push(std::string_view text) {
  if (stopped_) return {};
  held_ += text;
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    std::string out = held_.substr(0, first);
    held_.clear();
    stopped_ = true;
    return out;
  }
  // Hold back the longest tail of the text that a stop string starts with. It starts on a character
  // boundary: a valid UTF-8 stop string never starts with a continuation byte.
  size_t keep = 0;
  for (const std::string& s : stops_)
    for (size_t len = std::min(s.size() - 1, held_.size()); len > keep; --len)
      if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
        keep = len;
        break;
      }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopStrings::finish() {
  std::string out;
  if (!stopped_) out.swap(held_);
  return out;
}

}  // namespace scitune
