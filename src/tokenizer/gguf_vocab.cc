#include "tokenizer/gguf_vocab.h"

#include <cmath>
#include <unordered_set>

#include "tokenizer/merge_rules.h"
#include "tokenizer/sentencepiece_model.h"
#include "util/error.h"

namespace scitune {

namespace {

enum TokenType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

std::optional<int32_t> id_key(const GgufFile& g, const char* key, size_t n) {
  if (!g.find(key)) return std::nullopt;
  const uint64_t v = g.get_uint_lenient(key);
  if (v >= n)
    fail(g.source_name() + ": " + key + " = " + std::to_string(v) + " but there are only " + std::to_string(n) +
         " tokens");
  return int32_t(v);
}

}  // namespace

TokenizerSpec spec_from_gguf(const GgufFile& g) {
  const std::string& src = g.source_name();
  if (!g.find("tokenizer.ggml.model")) fail(src + ": no tokenizer.ggml.model (this GGUF carries no vocabulary)");
  const std::string& model = g.get_string("tokenizer.ggml.model");
  if (model != "llama")
    fail(src + ": tokenizer.ggml.model is \"" + model + "\"; only \"llama\" (SentencePiece BPE, Gemma 3) is supported");
  const auto& tokens = g.get_array<std::string>("tokenizer.ggml.tokens");
  const size_t n = tokens.size();
  if (n == 0 || n > size_t(INT32_MAX)) fail(src + ": tokenizer.ggml.tokens has " + std::to_string(n) + " entries");
  const auto& scores = g.get_array<float>("tokenizer.ggml.scores");
  if (scores.size() != n)
    fail(src + ": tokenizer.ggml.scores has " + std::to_string(scores.size()) + " entries for " + std::to_string(n) +
         " tokens");
  std::vector<int32_t> types(n, kNormal);
  if (g.find("tokenizer.ggml.token_type")) {
    types = g.get_array<int32_t>("tokenizer.ggml.token_type");
    if (types.size() != n)
      fail(src + ": tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
           std::to_string(n) + " tokens");
  }
  if (auto sp = g.get_optional<bool>("tokenizer.ggml.add_space_prefix"); sp && *sp)
    fail(src + ": tokenizer.ggml.add_space_prefix is true; Gemma vocabularies have no space prefix");

  TokenizerSpec spec;
  spec.source = src;
  spec.pieces.reserve(n);
  std::vector<float> sp_scores(n);
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < n; ++i) {
    const int t = types[i];
    if (t < kNormal || t > kByte)
      fail(src + ": tokenizer.ggml.token_type[" + std::to_string(i) + "] = " + std::to_string(t));
    std::string piece = tokens[i];
    if (piece.empty()) fail(src + ": tokenizer.ggml.tokens[" + std::to_string(i) + "] is empty");
    if (t == kUserDefined) {  // undo llama.cpp's '▁' -> ' ' in user-defined pieces
      std::string fixed;
      for (char c : piece) fixed += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
      piece = std::move(fixed);
    }
    if (!std::isfinite(scores[i])) fail(src + ": tokenizer.ggml.scores[" + std::to_string(i) + "] is not finite");
    sp_scores[i] = (t == kControl || t == kUserDefined) ? 0.0f : scores[i];
    spec.pieces.push_back(std::move(piece));
    if (t == kControl || t == kUserDefined)
      spec.added.push_back({int32_t(i), spec.pieces.back(), t == kControl, false});
  }
  for (const std::string& p : spec.pieces)
    if (!seen.insert(p).second) fail(src + ": tokenizer.ggml.tokens has \"" + p + "\" twice");
  spec.merges = merges_from_scores(spec.pieces, sp_scores);

  apply_sentencepiece_text_rules(spec);
  spec.unk_id = id_key(g, "tokenizer.ggml.unknown_token_id", n);
  if (!spec.unk_id)
    for (size_t i = 0; i < n && !spec.unk_id; ++i)
      if (types[i] == kUnknown) spec.unk_id = int32_t(i);
  spec.bos_id = id_key(g, "tokenizer.ggml.bos_token_id", n);
  spec.eos_id = id_key(g, "tokenizer.ggml.eos_token_id", n);
  spec.pad_id = id_key(g, "tokenizer.ggml.padding_token_id", n);
  // llama.cpp adds BOS by default for SentencePiece vocabularies.
  const bool add_bos = g.get_optional<bool>("tokenizer.ggml.add_bos_token").value_or(true);
  const bool add_eos = g.get_optional<bool>("tokenizer.ggml.add_eos_token").value_or(false);
  if (add_bos) {
    if (!spec.bos_id) fail(src + ": add_bos_token is true but tokenizer.ggml.bos_token_id is missing");
    spec.prefix_ids.push_back(*spec.bos_id);
  }
  if (add_eos) {
    if (!spec.eos_id) fail(src + ": add_eos_token is true but tokenizer.ggml.eos_token_id is missing");
    spec.suffix_ids.push_back(*spec.eos_id);
  }
  if (g.find("tokenizer.chat_template")) spec.chat_template = g.get_string("tokenizer.chat_template");
  return spec;
}

}  // namespace scitune
