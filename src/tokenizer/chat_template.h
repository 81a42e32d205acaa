// Gemma chat templates, written natively (no Jinja engine), and the training mask for model answers.
//
// Gemma 3 (the chat_template in Gemma 3's tokenizer_config.json, rendered as transformers renders it):
//   "<bos>" then per message "<start_of_turn>{role}\n{content}<end_of_turn>\n", role "assistant" -> "model";
//   content is Python-str.strip()ped; a leading system message is not a turn: its content (NOT stripped)
//   plus "\n\n" is put in front of the first remaining message's content; after the system message, roles
//   must alternate user / non-user starting with user (else UserError, like the template's exception);
//   list content renders text parts stripped and image parts as "<start_of_image>";
//   add_generation_prompt appends "<start_of_turn>model\n".
// Gemma 4 (llama.cpp models/templates/gemma4.jinja, the Google template, without tools):
//   "<bos>", then "<|turn>system\n" + ["<|think|>"] + stripped system content + "<turn|>\n" when the first
//   message is system/developer or thinking is on; per message "<|turn>{role}\n{content}<turn|>\n" where a
//   model turn's content has "<|channel>...<channel|>" thoughts removed before stripping; images/audio/video
//   as "\n\n<|image|>\n\n" / "<|audio|>" / "\n\n<|video|>\n\n"; no alternation check; add_generation_prompt
//   appends "<|turn>model\n" and, when thinking is off, an empty thought channel "<|channel>thought\n<channel|>"
//   (the spec notes E2B/E4B templates may omit it: unverified).
// Ids are the rendered text encoded without adding special tokens (the text already starts with <bos>), as
// transformers' apply_chat_template(tokenize=True) does: exactly one BOS.
//
// Mask rule (Unsloth train_on_responses_only, unsloth_zoo dataset_utils, force_match): over the ids, find the
// response marker (the tokens of "<start_of_turn>model\n"; Gemma 4 "<|turn>model\n"); everything from the
// token after it up to, not including, the next instruction marker ("<start_of_turn>user\n" / "<|turn>user\n")
// is trained (mask 1), or up to the end of the sequence when no instruction marker follows. So a model turn's
// answer, its "<end_of_turn>" and the "\n" after it are trained; BOS, the system text, user turns and every
// header are not (mask 0; labels -100). Search for the next response marker resumes one token after the end
// of the instruction marker, as Unsloth's loop does.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace scitune {

enum class ChatFormat { kGemma3, kGemma4 };

struct ChatPart {
  std::string type;  // "text", "image", "audio", "video"; other types render nothing
  std::string text;
};

struct ChatMessage {
  std::string role;
  std::string content;          // when !has_parts
  std::vector<ChatPart> parts;  // OpenAI-style list content
  bool has_parts = false;
};

struct ChatOptions {
  bool add_generation_prompt = false;
  bool enable_thinking = false;  // Gemma 4 only
};

struct ChatEncoding {
  std::string text;
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;  // 1 = trained (label = id), 0 = label -100
};

// Gemma 4 if the tokenizer has "<|turn>", Gemma 3 if it has "<start_of_turn>", else UserError.
ChatFormat detect_chat_format(const Tokenizer& tokenizer);
std::string to_string(ChatFormat format);

// UserError for an empty conversation or a broken role order (Gemma 3).
std::string render_chat(ChatFormat format, std::span<const ChatMessage> messages, const ChatOptions& options,
                        const std::string& bos_token = "<bos>");
ChatEncoding encode_chat(const Tokenizer& tokenizer, ChatFormat format, std::span<const ChatMessage> messages,
                         const ChatOptions& options);
// The Unsloth mask of already-tokenized ids.
std::vector<uint8_t> response_mask(const Tokenizer& tokenizer, ChatFormat format, std::span<const int32_t> ids);

// Messages from JSON: [{"role": "...", "content": "..." | [{"type": "text", "text": "..."}, ...]}].
// `where` prefixes errors ("data.jsonl:12").
std::vector<ChatMessage> chat_messages_from_json(const nlohmann::json& messages, const std::string& where);

}  // namespace scitune
