// scitune chat-template: render conversations with the Gemma chat template and tokenize them, with the mask
// of tokens that training learns from (see tokenizer/chat_template.h for the exact rules).
//   scitune chat-template --tokenizer PATH --jsonl IN.jsonl
//     {"messages": [...], "add_generation_prompt": bool} per line -> {"text": ..., "ids": [...], "mask": [...]}
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "io/json_limits.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/jsonl_lines.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace scitune::cli {

namespace {

struct Args {
  std::string tokenizer, jsonl, format = "auto";
  bool enable_thinking = false;
};

template <class T>
void append_list(std::string& out, const char* key, const std::vector<T>& v) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(v[i]);
  }
  out += ']';
}

void run(const Args& a) {
  const Tokenizer tok = Tokenizer::load(a.tokenizer);
  ChatFormat format;
  if (a.format == "auto")
    format = detect_chat_format(tok);
  else if (a.format == "gemma3")
    format = ChatFormat::kGemma3;
  else if (a.format == "gemma4")
    format = ChatFormat::kGemma4;
  else
    fail("--format: \"" + a.format + "\", expected auto, gemma3 or gemma4");
  JsonlLines lines(a.jsonl);
  std::string out;
  while (auto row = lines.next()) {
    const nlohmann::json* messages = json_find(row->value, "messages");
    if (!messages) fail(row->where + ": missing \"messages\"");
    ChatOptions opt;
    opt.enable_thinking = a.enable_thinking;
    if (const nlohmann::json* g = json_find(row->value, "add_generation_prompt"))
      opt.add_generation_prompt = json_bool(*g, row->where + ": \"add_generation_prompt\"");
    ChatEncoding enc;
    try {
      enc = encode_chat(tok, format, chat_messages_from_json(*messages, row->where), opt);
    } catch (const UserError& e) {
      const std::string msg = e.what();
      fail(msg.rfind(row->where, 0) == 0 ? msg : row->where + ": " + msg);
    }
    out += "{\"text\":" + nlohmann::json(enc.text).dump();
    append_list(out, "ids", enc.ids);
    append_list(out, "mask", enc.mask);
    out += "}\n";
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void register_chat_template(CLI::App& app) {
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "chat-template", "Render conversations with the Gemma chat template: text, token ids and the training mask");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json, tokenizer.model, a .gguf, or a model folder")
      ->required();
  cmd->add_option("--jsonl", args->jsonl,
                  "JSON lines ('-' for stdin): {\"messages\": [{\"role\", \"content\"}...], "
                  "\"add_generation_prompt\": bool}; prints {\"text\", \"ids\", \"mask\"} per line (mask 1 = "
                  "trained: model answers with their end-of-turn)")
      ->required();
  cmd->add_option("--format", args->format, "auto (from the tokenizer's turn tokens), gemma3 or gemma4");
  cmd->add_flag("--enable-thinking", args->enable_thinking, "Gemma 4: switch thinking on (<|think|>)");
  cmd->callback([args] { run(*args); });
}

}  // namespace scitune::cli
