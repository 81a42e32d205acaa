// `scitune generate`: one prompt in, the model's continuation streamed to stdout as the tokens arrive.
//   scitune generate --model M --prompt "The boiling point of water" [--chat] [--stop STR]... [sampling flags]
// Stops on an end-of-turn / eos id, a stop string (which is not printed), --max-new-tokens, a full context or
// Ctrl-C; then prints a newline and, on stderr unless -q, one line of prompt and decode speeds.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "cli/commands.h"
#include "cli/model_session.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct GenerateArgs {
  std::string model, tokenizer, adapter, prompt, prompt_file;
  bool chat = false;
  std::vector<std::string> stops;
  SamplingFlags sampling;
  CLI::Option* prompt_opt = nullptr;
};

std::string read_prompt_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open (--prompt-file)");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!text.empty() && text.back() == '\n') text.pop_back();  // as llama.cpp's -f: the editor's final newline
  return text;
}

const char* reason_text(StopReason r, bool stop_string, bool interrupted) {
  if (stop_string) return "stop string";
  if (interrupted) return "interrupted";
  switch (r) {
    case StopReason::kStopToken:
      return "end of turn";
    case StopReason::kMaxTokens:
      return "--max-new-tokens";
    case StopReason::kContextFull:
      return "context full";
    case StopReason::kCallback:
      return "stopped";
  }
  return "";
}

void run_generate(const GenerateArgs& a) {
  if (a.prompt_opt->count() && !a.prompt_file.empty()) fail("give --prompt or --prompt-file, not both");
  if (!a.prompt_opt->count() && a.prompt_file.empty()) fail("--prompt or --prompt-file is required");
  check_sampling_flags(a.sampling);
  for (const std::string& s : a.stops)
    if (s.empty()) fail("--stop: an empty stop string would stop before the first token");
  StopStrings stops(a.stops);
  const std::string prompt = a.prompt_file.empty() ? a.prompt : read_prompt_file(a.prompt_file);

  auto session = open_model_session(a.model, a.tokenizer, a.adapter);
  std::vector<int32_t> ids;
  if (a.chat) {
    ChatMessage user;
    user.role = "user";
    user.content = prompt;
    ChatOptions opts;
    opts.add_generation_prompt = true;
    ids = encode_chat(session->tok, detect_chat_format(session->tok), std::span<const ChatMessage>(&user, 1), opts).ids;
  } else {
    ids = session->tok.encode(prompt, /*add_special_tokens=*/true);
  }
  session->check_ids(ids, "prompt");
  const int64_t context = session->weights.config.max_position_embeddings;
  if (static_cast<int64_t>(ids.size()) >= context)
    fail("the prompt is " + std::to_string(ids.size()) + " tokens but the model's context is " +
         std::to_string(context) + " (at least one position must be left for the reply)");

  GenerateOptions opts;
  opts.max_new_tokens = resolve_max_new_tokens(a.sampling, session->gen, 256);
  opts.stop_ids = session->stop_ids();
  opts.sampling = resolve_sampling(a.sampling, session->gen);
  opts.vocab_limit = session->vocab_limit();

  StreamDecoder stream(session->tok, /*skip_special_tokens=*/true);
  InterruptScope ctrl_c;
  auto emit = [](const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  };
  GenerateResult r = generate(session->net, ids, opts, [&](int32_t id) {
    emit(stops.push(stream.push(id)));
    return !stops.stopped() && !InterruptScope::interrupted();
  });
  if (!stops.stopped()) {
    const std::string tail = stops.push(stream.finish());  // before finish(): it may complete a stop string
    emit(tail + stops.finish());
  }
  emit("\n");
  if (verbosity() > 0)
    std::fprintf(stderr, "prompt: %s; reply: %s; end: %s; %s\n", rate_text(r.prompt_tokens, r.prompt_seconds).c_str(),
                 rate_text(static_cast<int64_t>(r.ids.size()), r.decode_seconds).c_str(),
                 reason_text(r.reason, stops.stopped(), InterruptScope::interrupted()),
                 opts.sampling.greedy() ? "greedy" : ("seed " + std::to_string(opts.sampling.seed)).c_str());
}

}  // namespace

void register_generate(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with the model, streaming the text");
  cmd->add_option("--model", a->model, "HF model folder or gemma3 GGUF")->required();
  cmd->add_option("--adapter", a->adapter, "PEFT LoRA adapter folder to apply");
  cmd->add_option("--tokenizer", a->tokenizer, "Tokenizer (default: the model's own)");
  a->prompt_opt = cmd->add_option("--prompt", a->prompt, "Prompt text");
  cmd->add_option("--prompt-file", a->prompt_file, "Read the prompt from a file (one final newline dropped)");
  cmd->add_flag("--chat", a->chat, "Wrap the prompt as one user turn in the model's chat template");
  cmd->add_option("--stop", a->stops, "Stop when the text contains this string (not printed); repeatable");
  add_sampling_flags(cmd, a->sampling, 256);
  cmd->callback([a] { run_generate(*a); });
}

}  // namespace scitune::cli
