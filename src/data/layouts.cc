#include "data/layouts.h"

#include <array>

#include "io/json_limits.h"
#include "tokenizer/utf8.h"

namespace scitune {

namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<Layout, std::string_view>, 8> kNames{{
    {Layout::kAuto, "auto"},
    {Layout::kMessages, "messages"},
    {Layout::kShareGpt, "sharegpt"},
    {Layout::kAlpaca, "alpaca"},
    {Layout::kSciriff, "sciriff"},
    {Layout::kPromptCompletion, "prompt_completion"},
    {Layout::kText, "text"},
    {Layout::kTokens, "tokens"},
}};

[[noreturn]] void reject(const char* kind, const std::string& msg) { throw RecordReject(kind, msg); }

const json* find(const json& obj, std::string_view key) { return json_find(obj, key); }

const json& require(const json& obj, std::string_view key, const std::string& where) {
  const json* v = find(obj, key);
  if (!v) reject("missing field", where + ": missing \"" + std::string(key) + "\"");
  return *v;
}

const std::string& string_field(const json& v, const std::string& where, std::string_view name) {
  if (!v.is_string())
    reject("wrong type",
           where + ": \"" + std::string(name) + "\" must be a string, found " + std::string(json_type_name(v)));
  return v.get_ref<const std::string&>();
}

bool blank(std::string_view s) { return tok::python_strip(s).empty(); }

void erase_all(std::string& s, std::string_view what) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at)) s.erase(at, what.size());
}

void strip_markers(ChatMessage& m) {
  auto strip = [](std::string& s) {
    erase_all(s, "[Response_Start]");
    erase_all(s, "[Response_End]");
  };
  strip(m.content);
  for (ChatPart& p : m.parts) strip(p.text);
}

bool message_blank(const ChatMessage& m) {
  if (!m.has_parts) return blank(m.content);
  for (const ChatPart& p : m.parts)
    if (!blank(p.text)) return false;
  return true;
}

std::string normalise_role(const std::string& role, const std::string& where) {
  if (role == "user" || role == "human") return "user";
  if (role == "assistant" || role == "model" || role == "gpt" || role == "bot") return "model";
  if (role == "system") return "system";
  reject("unknown role",
         where + ": unknown role \"" + role + "\" (expected system, user/human or assistant/model/gpt/bot)");
}

// One list of turns: [{role_key, content_key}...]; ShareGPT lists may also spell them role/content.
void parse_turns(const json& list, std::string_view list_name, bool sharegpt, const std::string& where,
                 std::vector<ChatMessage>& out) {
  if (!list.is_array())
    reject("wrong type", where + ": \"" + std::string(list_name) + "\" must be a list of messages, found " +
                             std::string(json_type_name(list)));
  size_t i = 0;
  for (const json& m : list) {
    const std::string at = where + ": " + std::string(list_name) + "[" + std::to_string(i++) + "]";
    if (!m.is_object()) reject("wrong type", at + " must be an object, found " + std::string(json_type_name(m)));
    const char* role_key = sharegpt && find(m, "from") ? "from" : "role";
    const char* content_key = sharegpt && (find(m, "value") || !find(m, "content")) ? "value" : "content";
    const json* role = find(m, role_key);
    if (!role) reject("missing field", at + ": missing \"" + std::string(role_key) + "\"");
    const json* content = find(m, content_key);
    if (!content) reject("missing field", at + ": missing \"" + std::string(content_key) + "\"");
    ChatMessage msg;
    msg.role = normalise_role(string_field(*role, at, role_key), at);
    if (content->is_string()) {
      msg.content = content->get<std::string>();
    } else if (content->is_array() && !sharegpt) {
      msg.has_parts = true;
      size_t k = 0;
      for (const json& part : *content) {
        const std::string p_at = at + ".content[" + std::to_string(k++) + "]";
        if (!part.is_object())
          reject("wrong type", p_at + " must be an object, found " + std::string(json_type_name(part)));
        const json* type = find(part, "type");
        if (!type) reject("missing field", p_at + ": missing \"type\"");
        const std::string& t = string_field(*type, p_at, "type");
        if (t != "text") reject("non-text content", p_at + ": a \"" + t + "\" part (only text can be trained on)");
        msg.parts.push_back({t, string_field(require(part, "text", p_at), p_at, "text")});
      }
    } else {
      reject("wrong type", at + ": \"" + std::string(content_key) + "\" must be a string" +
                               (sharegpt ? "" : " or a list of parts") + ", found " +
                               std::string(json_type_name(*content)));
    }
    out.push_back(std::move(msg));
  }
}

// Role order, emptiness and markers: everything the template and the mask need to be meaningful.
void check_conversation(std::vector<ChatMessage>& msgs, std::string_view list_name, const LayoutOptions& options,
                        const std::string& where) {
  if (msgs.empty()) reject("empty conversation", where + ": \"" + std::string(list_name) + "\" is empty");
  const size_t first = msgs[0].role == "system" ? 1 : 0;
  bool has_model = false;
  for (size_t i = 0; i < msgs.size(); ++i) {
    ChatMessage& m = msgs[i];
    const std::string at = where + ": " + std::string(list_name) + "[" + std::to_string(i) + "]";
    if (m.role == "system" && i > 0) reject("role order", at + ": a system message is only allowed first");
    if (m.role == "system" && m.has_parts) {  // what each template accepts as list content for system
      if (options.chat_format == ChatFormat::kGemma4)
        reject("wrong type", at + ": a Gemma 4 system message must have string content");
      if (m.parts.empty()) reject("wrong type", at + ": the system message's content is an empty list");
    }
    if (m.role == "model") {
      has_model = true;
      if (options.strip_response_markers) strip_markers(m);
      if (message_blank(m)) reject("empty answer", at + ": empty model answer");
    }
    if (m.role == "user" && message_blank(m)) reject("empty prompt", at + ": empty user message");
    if (options.chat_format == ChatFormat::kGemma3 && i >= first) {
      const bool want_user = (i - first) % 2 == 0;
      if ((m.role == "user") != want_user)
        reject("role order",
               at + ": \"" + m.role + "\" where a " + (want_user ? "user" : "model") +
                   " turn is due (the Gemma 3 template needs user and model turns to alternate, user first)");
    }
  }
  if (msgs.size() == first) reject("empty conversation", where + ": only a system message");
  if (!has_model) reject("no model turn", where + ": no assistant/model turn (nothing to train on)");
}

std::vector<ChatMessage> exchange(std::string user, std::string answer) {
  std::vector<ChatMessage> msgs(2);
  msgs[0].role = "user";
  msgs[0].content = std::move(user);
  msgs[1].role = "model";
  msgs[1].content = std::move(answer);
  return msgs;
}

RecordContent chat(std::vector<ChatMessage> msgs, std::string_view list_name, const LayoutOptions& options,
                   const std::string& where) {
  check_conversation(msgs, list_name, options, where);
  RecordContent c;
  c.kind = RecordContent::Kind::kChat;
  c.messages = std::move(msgs);
  return c;
}

std::vector<int64_t> int_list(const json& v, std::string_view name, const std::string& where) {
  if (!v.is_array())
    reject("wrong type", where + ": \"" + std::string(name) + "\" must be a list of integers, found " +
                             std::string(json_type_name(v)));
  std::vector<int64_t> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& x = v[i];
    if (!x.is_number_integer())
      reject("wrong type", where + ": " + std::string(name) + "[" + std::to_string(i) + "] must be an integer, found " +
                               std::string(json_type_name(x)));
    if (x.is_number_unsigned() && x.get<uint64_t>() > uint64_t(INT64_MAX))
      reject("bad token ids", where + ": " + std::string(name) + "[" + std::to_string(i) + "] is out of range");
    out.push_back(x.get<int64_t>());
  }
  return out;
}

RecordContent tokens(const json& record, const std::string& where) {
  RecordContent c;
  c.kind = RecordContent::Kind::kTokens;
  const std::vector<int64_t> ids = int_list(require(record, "input_ids", where), "input_ids", where);
  if (ids.empty()) reject("bad token ids", where + ": \"input_ids\" is empty");
  c.ids.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] > INT32_MAX)
      reject("bad token ids",
             where + ": input_ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) + " is not a token id");
    c.ids.push_back(int32_t(ids[i]));
  }
  if (const json* labels = find(record, "labels")) {
    c.labels = int_list(*labels, "labels", where);
    if (c.labels.size() != c.ids.size())
      reject("bad labels", where + ": " + std::to_string(c.labels.size()) + " labels for " +
                               std::to_string(c.ids.size()) + " input_ids (expected one per token)");
    for (size_t i = 0; i < c.labels.size(); ++i)
      if (c.labels[i] != -100 && c.labels[i] != c.ids[i])
        reject("bad labels", where + ": labels[" + std::to_string(i) + "] = " + std::to_string(c.labels[i]) +
                                 " is neither -100 nor input_ids[" + std::to_string(i) +
                                 "] = " + std::to_string(c.ids[i]) + " (labels must be HF style: not shifted)");
  }
  return c;
}

}  // namespace

std::string_view to_string(Layout layout) {
  for (const auto& [l, name] : kNames)
    if (l == layout) return name;
  return "?";
}

Layout parse_layout(std::string_view name) {
  std::string all;
  for (const auto& [l, n] : kNames) {
    if (n == name) return l;
    all += (all.empty() ? "" : ", ") + std::string(n);
  }
  fail("unknown data format \"" + std::string(name) + "\" (expected " + all + ")");
}

std::optional<Layout> detect_layout(const json& record) {
  if (!record.is_object()) return std::nullopt;
  auto has = [&](std::string_view k) { return find(record, k) != nullptr; };
  if (has("input_ids")) return Layout::kTokens;
  if (has("messages")) return Layout::kMessages;
  if (has("conversations")) return Layout::kShareGpt;
  if (has("instruction") && has("output")) return Layout::kAlpaca;
  if (has("prompt") && has("completion")) return Layout::kPromptCompletion;
  if (has("input") && has("output")) return Layout::kSciriff;
  if (has("text")) return Layout::kText;
  return std::nullopt;
}

RecordContent record_content(const json& record, Layout layout, const LayoutOptions& options,
                             const std::string& where) {
  SCITUNE_CHECK(layout != Layout::kAuto, "record_content needs a concrete layout");
  switch (layout) {
    case Layout::kMessages: {
      std::vector<ChatMessage> msgs;
      parse_turns(require(record, "messages", where), "messages", false, where, msgs);
      return chat(std::move(msgs), "messages", options, where);
    }
    case Layout::kShareGpt: {
      std::vector<ChatMessage> msgs;
      parse_turns(require(record, "conversations", where), "conversations", true, where, msgs);
      return chat(std::move(msgs), "conversations", options, where);
    }
    case Layout::kAlpaca: {
      const std::string& instruction = string_field(require(record, "instruction", where), where, "instruction");
      const json* input = find(record, "input");
      const std::string& output = string_field(require(record, "output", where), where, "output");
      std::string user = instruction;
      if (input && !blank(string_field(*input, where, "input")))
        user = instruction + "\n\n" + input->get<std::string>();
      if (blank(user)) reject("empty prompt", where + ": \"instruction\" and \"input\" are both empty");
      return chat(exchange(std::move(user), output), "instruction/output", options, where);
    }
    case Layout::kSciriff: {
      const std::string& input = string_field(require(record, "input", where), where, "input");
      const std::string& output = string_field(require(record, "output", where), where, "output");
      return chat(exchange(input, output), "input/output", options, where);
    }
    case Layout::kPromptCompletion: {
      const json& prompt = require(record, "prompt", where);
      const json& completion = require(record, "completion", where);
      if (prompt.is_string() && completion.is_string())
        return chat(exchange(prompt.get<std::string>(), completion.get<std::string>()), "prompt/completion", options,
                    where);
      if (prompt.is_array() && completion.is_array()) {
        std::vector<ChatMessage> msgs;
        parse_turns(prompt, "prompt", false, where, msgs);
        const size_t n_prompt = msgs.size();
        parse_turns(completion, "completion", false, where, msgs);
        for (size_t i = n_prompt; i < msgs.size(); ++i)
          if (msgs[i].role != "model")
            reject("role order", where + ": completion[" + std::to_string(i - n_prompt) + "] has role \"" +
                                     msgs[i].role + "\" (a completion holds model turns)");
        return chat(std::move(msgs), "prompt+completion", options, where);
      }
      reject("wrong type", where +
                               ": \"prompt\" and \"completion\" must both be strings or both lists of messages, "
                               "found " +
                               std::string(json_type_name(prompt)) + " and " + std::string(json_type_name(completion)));
    }
    case Layout::kText: {
      RecordContent c;
      c.kind = RecordContent::Kind::kText;
      c.text = string_field(require(record, "text", where), where, "text");
      if (blank(c.text)) reject("empty text", where + ": \"text\" is empty");
      return c;
    }
    case Layout::kTokens:
      return tokens(record, where);
    case Layout::kAuto:
      break;
  }
  SCITUNE_CHECK(false, "unreachable layout");
}

}  // namespace scitune
