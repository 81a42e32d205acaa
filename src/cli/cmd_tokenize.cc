// scitune tokenize: text -> token ids (and back with --decode), with the model's own tokenizer.
//   scitune tokenize --tokenizer PATH [--add-bos] --jsonl IN.jsonl   {"text": ...} lines -> {"ids": [...]} lines
//   scitune tokenize --tokenizer PATH [--add-bos] < text.txt          all of stdin -> ids on one line
//   scitune tokenize --tokenizer PATH --decode [--skip-special] [--jsonl IN.jsonl]   ids -> text
#include <cstdio>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "io/json_limits.h"
#include "tokenizer/jsonl_lines.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace scitune::cli {

namespace {

void append_ids(std::string& out, const std::vector<int32_t>& ids) {
  out += "{\"ids\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += "]}\n";
}

std::vector<int32_t> ids_of(const nlohmann::json& v, const std::string& where) {
  std::vector<int32_t> ids;
  for (const nlohmann::json& id : json_array(v, where)) {
    const int64_t x = json_int(id, where);
    if (x < INT32_MIN || x > INT32_MAX) fail(where + ": token id " + std::to_string(x) + " out of range");
    ids.push_back(int32_t(x));
  }
  return ids;
}

struct Args {
  std::string tokenizer, jsonl;
  bool add_bos = false, decode = false, skip_special = false;
  unsigned threads = 0;
};

void encode_jsonl(const Tokenizer& tok, const Args& a) {
  JsonlLines lines(a.jsonl);
  std::vector<std::string> texts;
  std::string out;
  auto flush = [&] {
    const auto results = tok.encode_batch(texts, a.add_bos, a.threads);
    for (const auto& ids : results) append_ids(out, ids);
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
    texts.clear();
  };
  while (auto row = lines.next()) {
    const nlohmann::json* text = json_find(json_object(row->value, row->where), "text");
    if (!text) fail(row->where + ": missing \"text\"");
    texts.push_back(json_string(*text, row->where + ": \"text\""));
    if (texts.size() == 8192) flush();
  }
  flush();
}

void decode_jsonl(const Tokenizer& tok, const Args& a) {
  JsonlLines lines(a.jsonl);
  std::string out;
  while (auto row = lines.next()) {
    const nlohmann::json* ids = json_find(json_object(row->value, row->where), "ids");
    if (!ids) fail(row->where + ": missing \"ids\"");
    std::string text;
    try {
      text = tok.decode(ids_of(*ids, row->where + ": \"ids\""), a.skip_special);
    } catch (const UserError& e) {
      fail(row->where + ": " + e.what());
    }
    out += "{\"text\":" + nlohmann::json(text).dump() + "}\n";
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void run(const Args& a) {
  const Tokenizer tok = Tokenizer::load(a.tokenizer);
  if (!a.jsonl.empty()) {
    a.decode ? decode_jsonl(tok, a) : encode_jsonl(tok, a);
    return;
  }
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (a.decode) {
    std::istringstream in(input);
    std::vector<int32_t> ids;
    std::string word;
    while (in >> word) {
      size_t used = 0;
      long long v = 0;
      try {
        v = std::stoll(word, &used);
      } catch (const std::exception&) {
      }
      if (used != word.size() || v < INT32_MIN || v > INT32_MAX)
        fail("stdin: \"" + word + "\" is not a token id (expected whitespace-separated integers)");
      ids.push_back(int32_t(v));
    }
    std::fputs(tok.decode(ids, a.skip_special).c_str(), stdout);
    return;
  }
  std::vector<int32_t> ids;
  try {
    ids = tok.encode(input, a.add_bos);
  } catch (const UserError& e) {
    fail(std::string("stdin: ") + e.what());
  }
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? " " : "") + std::to_string(ids[i]);
  out += '\n';
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto args = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("tokenize", "Turn text into token ids (or ids back into text) with a model's tokenizer");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json, tokenizer.model, a .gguf, or a model folder")
      ->required();
  cmd->add_option("--jsonl", args->jsonl,
                  "JSON lines to process ('-' for stdin): {\"text\": ...} per line, or {\"ids\": [...]} with "
                  "--decode; prints one JSON line per input line. Without it, all of stdin is one text (or "
                  "whitespace-separated ids with --decode)");
  cmd->add_flag("--add-bos", args->add_bos, "Add the tokenizer's special tokens around each text (Gemma: <bos>)");
  cmd->add_flag("--decode", args->decode, "Decode ids to text instead");
  cmd->add_flag("--skip-special", args->skip_special, "With --decode: leave out special tokens");
  cmd->add_option("--threads", args->threads, "Encoding threads (default: one per core)");
  cmd->callback([args] { run(*args); });
}

}  // namespace scitune::cli
