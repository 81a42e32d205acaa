// `scitune chat`: a conversation in the terminal (or over a pipe: one message per line of stdin).
//   /reset forgets the conversation, /exit (or end of input) quits; Ctrl-C stops a reply, at the prompt it quits.
//
// The KV cache lives across turns: a new user turn runs only its own tokens. What they are comes from the
// chat template itself: the conversation rendered with a placeholder reply and the new user turn must start
// with the rendering that was the last prompt plus that placeholder; what follows the placeholder (Gemma 3:
// "<end_of_turn>\n<start_of_turn>user\n...<start_of_turn>model\n") is appended after the reply tokens the model
// actually produced. When that does not hold (Gemma 4 drops the empty thought channel from past turns) the
// whole conversation is encoded again. When the context is full, the conversation starts over, and says so.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/model_session.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct ChatArgs {
  std::string model, tokenizer, adapter, system;
  int64_t ctx = 0;
  SamplingFlags sampling;
};

// Stands in for a reply when rendering: no template strips or rewrites it.
constexpr const char* kReplyPlaceholder = "\x01";

ChatMessage message(const char* role, const std::string& content) {
  ChatMessage m;
  m.role = role;
  m.content = content;
  return m;
}

class ChatLoop {
 public:
  ChatLoop(ModelSession& s, const ChatArgs& a, int64_t ctx, GenerateOptions opts)
      : s_(s),
        args_(a),
        ctx_(ctx),
        opts_(std::move(opts)),
        format_(detect_chat_format(s.tok)),
        sampler_(opts_.sampling),
        cache_(s.net.new_cache(ctx)) {}

  void reset() {
    messages_.clear();
    if (!args_.system.empty()) messages_.push_back(message("system", args_.system));
    tokens_.clear();
    cache_ = s_.net.new_cache(ctx_);
  }

  // One user message: the reply streams to stdout.
  void turn(const std::string& text) {
    const ChatMessage user = message("user", text);
    std::vector<int32_t> ids = next_ids(user);
    if (static_cast<int64_t>(tokens_.size() + ids.size()) >= ctx_) {
      if (!tokens_.empty())
        note("[context full (" + std::to_string(tokens_.size()) + " of " + std::to_string(ctx_) +
             " tokens): starting a new conversation]");
      reset();
      ids = next_ids(user);
      if (static_cast<int64_t>(ids.size()) >= ctx_) {
        note("[that message is " + std::to_string(ids.size()) + " tokens; the context holds " + std::to_string(ctx_) +
             ": not sent]");
        return;
      }
    }
    s_.check_ids(ids, "message");

    StreamDecoder stream(s_.tok, /*skip_special_tokens=*/true);
    std::string reply;
    auto emit = [&](const std::string& t) {
      reply += t;
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fflush(stdout);
    };
    GenerateResult r;
    {
      InterruptScope ctrl_c;
      r = generate_more(s_.net, cache_, tokens_, ids, opts_, sampler_, [&](int32_t id) {
        emit(stream.push(id));
        return !InterruptScope::interrupted();
      });
      emit(stream.finish());
      emit("\n");
      if (InterruptScope::interrupted()) note("[interrupted]");
    }
    messages_.push_back(user);
    messages_.push_back(message("assistant", reply));
    if (verbosity() > 1)
      note("[prompt: " + rate_text(r.prompt_tokens, r.prompt_seconds) +
           "; reply: " + rate_text(static_cast<int64_t>(r.ids.size()), r.decode_seconds) + "]");
    if (r.reason == StopReason::kContextFull) {
      note("[context full (" + std::to_string(ctx_) + " tokens): starting a new conversation]");
      reset();
    }
  }

 private:
  static void note(const std::string& text) { std::fprintf(stderr, "%s\n", text.c_str()); }

  // The tokens to append for a new user turn (all of them when the cache must start over).
  std::vector<int32_t> next_ids(const ChatMessage& user) {
    ChatOptions gen;
    gen.add_generation_prompt = true;
    if (!tokens_.empty() && messages_.size() >= 2 && messages_.back().role == "assistant") {
      std::vector<ChatMessage> before(messages_.begin(), messages_.end() - 1);
      const std::string prompt = render_chat(format_, before, gen);
      before.push_back(message("assistant", kReplyPlaceholder));
      before.push_back(user);
      const std::string next = render_chat(format_, before, gen);
      const std::string head = prompt + kReplyPlaceholder;
      if (next.compare(0, head.size(), head) == 0) return s_.tok.encode(next.substr(head.size()));
    }
    // Start over with the whole conversation.
    tokens_.clear();
    cache_ = s_.net.new_cache(ctx_);
    std::vector<ChatMessage> all = messages_;
    all.push_back(user);
    return encode_chat(s_.tok, format_, all, gen).ids;
  }

  ModelSession& s_;
  const ChatArgs& args_;
  int64_t ctx_;
  GenerateOptions opts_;
  ChatFormat format_;
  Sampler sampler_;
  KvCache cache_;
  std::vector<int32_t> tokens_;  // the conversation's tokens; the cache holds the first cache_.pos
  std::vector<ChatMessage> messages_;
};

void run_chat(const ChatArgs& a) {
  check_sampling_flags(a.sampling);
  if (a.ctx < 0) fail("--ctx = " + std::to_string(a.ctx) + ": expected a positive number of tokens");
  auto session = open_model_session(a.model, a.tokenizer, a.adapter);
  const int64_t model_ctx = session->weights.config.max_position_embeddings;
  if (a.ctx > model_ctx)
    fail("--ctx = " + std::to_string(a.ctx) + ": the model's context is " + std::to_string(model_ctx));
  const int64_t ctx = a.ctx > 0 ? a.ctx : std::min<int64_t>(model_ctx, 8192);

  GenerateOptions opts;
  opts.max_new_tokens = resolve_max_new_tokens(a.sampling, session->gen, 1024);
  opts.stop_ids = session->stop_ids();
  opts.sampling = resolve_sampling(a.sampling, session->gen);
  opts.vocab_limit = session->vocab_limit();

  const bool terminal = ::isatty(STDIN_FILENO);
  if (terminal && verbosity() > 0)
    std::fprintf(stderr, "chat with %s (context %lld tokens, seed %llu). /reset forgets, /exit quits.\n",
                 a.model.c_str(), static_cast<long long>(ctx), static_cast<unsigned long long>(opts.sampling.seed));
  ChatLoop chat(*session, a, ctx, std::move(opts));
  chat.reset();
  std::string line;
  while (true) {
    if (terminal) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      chat.reset();
      if (verbosity() > 0) std::fprintf(stderr, "[conversation cleared]\n");
      continue;
    }
    if (line == "/help") {
      std::fprintf(stderr, "/reset  forget the conversation\n/exit   quit (or end of input, or Ctrl-C here)\n");
      continue;
    }
    chat.turn(line);
  }
  if (terminal) std::fputs("\n", stdout);
}

}  // namespace

void register_chat(CLI::App& app) {
  auto a = std::make_shared<ChatArgs>();
  CLI::App* cmd = app.add_subcommand("chat", "Talk with the model in the terminal (one message per line of stdin)");
  cmd->add_option("--model", a->model, "HF model folder or gemma3 GGUF")->required();
  cmd->add_option("--adapter", a->adapter, "PEFT LoRA adapter folder to apply");
  cmd->add_option("--tokenizer", a->tokenizer, "Tokenizer (default: the model's own)");
  cmd->add_option("--system", a->system, "System prompt");
  cmd->add_option("--ctx", a->ctx, "Context length in tokens (default: the model's, at most 8192)");
  add_sampling_flags(cmd, a->sampling, 1024);
  cmd->callback([a] { run_chat(*a); });
}

}  // namespace scitune::cli
