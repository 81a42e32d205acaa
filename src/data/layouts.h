// Dataset layouts: how one JSON record says what to train on, validated and normalised.
//
//   messages           {"messages": [{"role", "content"}...]} (Tulu / OpenScholar / SciRIFF-train-mix / TRL);
//                      content a string or a list of {"type": "text", "text"} parts
//   sharegpt           {"conversations": [{"from", "value"}...]} (human -> user, gpt -> model, system)
//   alpaca             {"instruction", "input"?, "output"}: user = instruction, + "\n\n" + input when the input
//                      is not blank; model = output
//   sciriff            {"input", "output"}: user = input, model = output
//   prompt_completion  {"prompt", "completion"}: two strings (one user and one model turn) or two message
//                      lists (TRL's conversational prompt-completion), rendered with the chat template
//   text               {"text"}: continued pre-training, every token trained, <bos> ... <eos> (TRL)
//   tokens             {"input_ids", "labels"?}: already tokenised; labels HF style (unshifted, -100 = not
//                      trained), all trained when absent
// All chat layouts become a conversation for the Gemma chat template (tokenizer/chat_template.h); its
// response-only mask decides what is trained. Roles: user/human -> user; assistant/model/gpt/bot -> model;
// system stays (only first; the template folds it into the first user turn); anything else is rejected.
// detect_layout() looks at the keys in the precedence above (input_ids first, text last).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/reject.h"
#include "tokenizer/chat_template.h"

namespace scitune {

enum class Layout { kAuto, kMessages, kShareGpt, kAlpaca, kSciriff, kPromptCompletion, kText, kTokens };

std::string_view to_string(Layout layout);
// "auto", "messages", "sharegpt", "alpaca", "sciriff", "prompt_completion", "text", "tokens"; UserError
// listing them otherwise.
Layout parse_layout(std::string_view name);
// The layout a record's keys say, or nullopt when it has none of them.
std::optional<Layout> detect_layout(const nlohmann::json& record);

struct LayoutOptions {
  ChatFormat chat_format = ChatFormat::kGemma3;  // Gemma 3 needs user/model turns to alternate
  bool strip_response_markers = false;           // drop OpenScholar's literal [Response_Start]/[Response_End]
};

// What a record trains on, before tokenisation.
struct RecordContent {
  enum class Kind { kChat, kText, kTokens };
  Kind kind = Kind::kChat;
  std::vector<ChatMessage> messages;  // kChat: roles "system" (first only), "user", "model"
  std::string text;                   // kText
  std::vector<int32_t> ids;           // kTokens
  std::vector<int64_t> labels;        // kTokens: empty = every token trained
};

// Reads and validates `record` in `layout` (not kAuto). Throws RecordReject naming `where`, the field and the
// problem: missing field, wrong type, empty conversation, unknown role, role order, non-text content, empty
// prompt, empty answer, no model turn, empty text, bad token ids, bad labels.
RecordContent record_content(const nlohmann::json& record, Layout layout, const LayoutOptions& options,
                             const std::string& where);

}  // namespace scitune
