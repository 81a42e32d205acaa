// Records -> TokenizedExample: the chat template and its response-only mask, TRL's text rules, one <bos>,
// truncation.
//
//   chat    render_chat() then encode without special tokens and response_mask(): exactly encode_chat()
//           (tokenizer/chat_template.h), so labels = id where the Unsloth rule trains (every model answer with
//           its end-of-turn and the "\n" after it), -100 elsewhere
//   text    <bos> + encode(text) + <eos>, every label = id (TRL appends eos_token unless the text already ends
//           with it; a text that already starts with "<bos>" gets no second one)
//   tokens  as given; the first id must be <bos>; labels as given or all = id
// Then: exactly one <bos> and it is first, every id in the vocabulary (else rejected: a literal "<bos>"
// inside a text would otherwise give two); longer than max_seq_length -> keep the first max_seq_length tokens
// (TRL "keep_start") or reject, as chosen; no trained label left -> rejected (Unsloth drops such rows; we
// count them).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "data/example.h"
#include "data/layouts.h"
#include "data/reject.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace scitune {

enum class Overlong { kTruncate, kDrop };

struct TokenizeOptions {
  int64_t max_seq_length = 1024;  // TRL's SFTConfig.max_length default; <= 0: no limit
  Overlong overlong = Overlong::kTruncate;
  unsigned threads = 0;  // 0: one per core
};

// A validated record waiting for the tokenizer: chat conversations are already rendered to text.
struct PendingRecord {
  RecordContent::Kind kind = RecordContent::Kind::kChat;
  std::string text;             // kChat: the rendered template; kText: the raw text
  std::vector<int32_t> ids;     // kTokens
  std::vector<int64_t> labels;  // kTokens
  std::string where;
};

// Renders a chat record with the template (UserError from the template becomes a RecordReject).
PendingRecord make_pending(RecordContent content, const Tokenizer& tokenizer, ChatFormat format, std::string where);

struct TokenizeResult {
  std::optional<TokenizedExample> example;  // set unless rejected
  std::optional<Reject> reject;
  bool truncated = false;
  int64_t original_length = 0;  // tokens before truncation
};

// Tokenises a batch on options.threads threads; result i belongs to records[i].
std::vector<TokenizeResult> tokenize_records(std::span<const PendingRecord> records, const Tokenizer& tokenizer,
                                             ChatFormat format, const TokenizeOptions& options);

}  // namespace scitune
