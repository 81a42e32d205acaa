#include "tokenizer/chat_template.h"

#include "io/json_limits.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace scitune {

namespace {

std::string strip(std::string_view s) { return std::string(tok::python_strip(s)); }

// Gemma 4's strip_thinking macro: drop "<|channel>...<channel|>" spans, then strip.
std::string strip_thinking(std::string_view text) {
  std::string out;
  size_t from = 0;
  while (true) {
    const size_t end = text.find("<channel|>", from);
    const std::string_view part =
        text.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from);
    const size_t open = part.find("<|channel>");
    out += part.substr(0, open);
    if (end == std::string_view::npos) break;
    from = end + std::string_view("<channel|>").size();
  }
  return strip(out);
}

std::string render_gemma3(std::span<const ChatMessage> messages, const ChatOptions& options, const std::string& bos) {
  std::string out = bos;
  std::string first_prefix;
  size_t first = 0;
  if (messages[0].role == "system") {
    const ChatMessage& sys = messages[0];
    if (sys.has_parts) {
      if (sys.parts.empty() || sys.parts[0].type != "text")
        fail("the system message's first content part must be text");
      first_prefix = sys.parts[0].text + "\n\n";
    } else {
      first_prefix = sys.content + "\n\n";
    }
    first = 1;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const size_t index = i - first;
    if ((m.role == "user") != (index % 2 == 0))
      fail("Conversation roles must alternate user/assistant/user/assistant/... (message " + std::to_string(i) +
           " has role \"" + m.role + "\")");
    const std::string role = m.role == "assistant" ? "model" : m.role;
    out += "<start_of_turn>" + role + "\n" + (index == 0 ? first_prefix : "");
    if (!m.has_parts) {
      out += strip(m.content);
    } else {
      for (const ChatPart& p : m.parts) {
        if (p.type == "image") out += "<start_of_image>";
        if (p.type == "text") out += strip(p.text);
      }
    }
    out += "<end_of_turn>\n";
  }
  if (options.add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

std::string render_gemma4(std::span<const ChatMessage> messages, const ChatOptions& options, const std::string& bos) {
  std::string out = bos;
  size_t first = 0;
  const bool system_first = messages[0].role == "system" || messages[0].role == "developer";
  if (options.enable_thinking || system_first) {
    out += "<|turn>system\n";
    if (options.enable_thinking) out += "<|think|>";
    if (system_first) {
      const ChatMessage& sys = messages[0];
      if (sys.has_parts) fail("a Gemma 4 system message must have string content");
      out += strip(sys.content);
      first = 1;
    }
    out += "<turn|>\n";
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const std::string role = m.role == "assistant" ? "model" : m.role;
    out += "<|turn>" + role + "\n";
    auto text_of = [&](const std::string& t) { return role == "model" ? strip_thinking(t) : strip(t); };
    if (!m.has_parts) {
      out += text_of(m.content);
    } else {
      for (const ChatPart& p : m.parts) {
        if (p.type == "text") out += text_of(p.text);
        if (p.type == "image") out += "\n\n<|image|>\n\n";
        if (p.type == "audio") out += "<|audio|>";
        if (p.type == "video") out += "\n\n<|video|>\n\n";
      }
    }
    out += "<turn|>\n";
  }
  if (options.add_generation_prompt) {
    out += "<|turn>model\n";
    if (!options.enable_thinking) out += "<|channel>thought\n<channel|>";
  }
  return out;
}

bool match_at(std::span<const int32_t> ids, size_t at, const std::vector<int32_t>& marker) {
  if (marker.empty() || at + marker.size() > ids.size()) return false;
  for (size_t i = 0; i < marker.size(); ++i)
    if (ids[at + i] != marker[i]) return false;
  return true;
}

}  // namespace

ChatFormat detect_chat_format(const Tokenizer& tokenizer) {
  if (tokenizer.token_to_id("<|turn>")) return ChatFormat::kGemma4;
  if (tokenizer.token_to_id("<start_of_turn>")) return ChatFormat::kGemma3;
  fail(tokenizer.source() +
       ": neither <start_of_turn> (Gemma 3) nor <|turn> (Gemma 4) is a token: not a Gemma chat "
       "tokenizer");
}

std::string to_string(ChatFormat format) { return format == ChatFormat::kGemma3 ? "gemma3" : "gemma4"; }

std::string render_chat(ChatFormat format, std::span<const ChatMessage> messages, const ChatOptions& options,
                        const std::string& bos_token) {
  if (messages.empty()) fail("the conversation has no messages");
  return format == ChatFormat::kGemma3 ? render_gemma3(messages, options, bos_token)
                                       : render_gemma4(messages, options, bos_token);
}

std::vector<uint8_t> response_mask(const Tokenizer& tokenizer, ChatFormat format, std::span<const int32_t> ids) {
  const bool g3 = format == ChatFormat::kGemma3;
  const std::vector<int32_t> response = tokenizer.encode(g3 ? "<start_of_turn>model\n" : "<|turn>model\n");
  const std::vector<int32_t> instruction = tokenizer.encode(g3 ? "<start_of_turn>user\n" : "<|turn>user\n");
  const size_t n = ids.size();
  std::vector<uint8_t> mask(n, 0);
  size_t j = 0;
  while (j < n) {
    if (match_at(ids, j, response)) {
      const size_t answer = j + response.size();
      // Scan for the next instruction marker; reaching the last token means "to the end".
      for (j = answer; j < n; ++j) {
        if (j == n - 1) {
          for (size_t t = answer; t < n; ++t) mask[t] = 1;
          break;
        }
        if (match_at(ids, j, instruction)) {
          for (size_t t = answer; t < j; ++t) mask[t] = 1;
          j += instruction.size();
          break;
        }
      }
    }
    ++j;
  }
  return mask;
}

ChatEncoding encode_chat(const Tokenizer& tokenizer, ChatFormat format, std::span<const ChatMessage> messages,
                         const ChatOptions& options) {
  const std::string bos = tokenizer.bos_id() ? tokenizer.id_to_token(*tokenizer.bos_id()) : "<bos>";
  ChatEncoding out;
  out.text = render_chat(format, messages, options, bos);
  out.ids = tokenizer.encode(out.text, /*add_special_tokens=*/false);
  out.mask = response_mask(tokenizer, format, out.ids);
  return out;
}

std::vector<ChatMessage> chat_messages_from_json(const nlohmann::json& messages, const std::string& where) {
  std::vector<ChatMessage> out;
  size_t i = 0;
  for (const nlohmann::json& m : json_array(messages, where + ": \"messages\"")) {
    const std::string at = where + ": messages[" + std::to_string(i++) + "]";
    json_object(m, at);
    const nlohmann::json* role = json_find(m, "role");
    const nlohmann::json* content = json_find(m, "content");
    if (!role) fail(at + ": missing \"role\"");
    if (!content) fail(at + ": missing \"content\" (a string or a list of parts)");
    ChatMessage msg;
    msg.role = json_string(*role, at + ".role");
    if (content->is_string()) {
      msg.content = content->get<std::string>();
    } else if (content->is_array()) {
      msg.has_parts = true;
      size_t k = 0;
      for (const nlohmann::json& part : *content) {
        const std::string p_at = at + ".content[" + std::to_string(k++) + "]";
        json_object(part, p_at);
        ChatPart p;
        if (const nlohmann::json* t = json_find(part, "type")) p.type = json_string(*t, p_at + ".type");
        if (const nlohmann::json* t = json_find(part, "text")) p.text = json_string(*t, p_at + ".text");
        if (p.type == "text" && !json_find(part, "text")) fail(p_at + ": a text part needs \"text\"");
        msg.parts.push_back(std::move(p));
      }
    } else {
      fail(at + ".content: expected a string or a list of parts, found " + std::string(json_type_name(*content)));
    }
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace scitune
