// Layouts: detection, conversion of each layout to a conversation / text / tokens, role normalisation and
// the reasons a record is rejected (with the exact message naming the record and the field).
#include "data/layouts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace scitune {
namespace {

using json = nlohmann::json;

const LayoutOptions kGemma3{ChatFormat::kGemma3, false};
const LayoutOptions kGemma4{ChatFormat::kGemma4, false};

RecordContent content(const std::string& record, Layout layout, const LayoutOptions& opt = kGemma3) {
  return record_content(json::parse(record), layout, opt, "f.jsonl:3");
}

// The reject's "kind | message" (or "(accepted)").
std::string rejected(const std::string& record, Layout layout, const LayoutOptions& opt = kGemma3) {
  try {
    content(record, layout, opt);
  } catch (const RecordReject& e) {
    return e.kind() + " | " + e.what();
  }
  return "(accepted)";
}

std::string roles(const RecordContent& c) {
  std::string out;
  for (const ChatMessage& m : c.messages) out += (out.empty() ? "" : ",") + m.role;
  return out;
}

TEST(Layouts, Names) {
  for (Layout l : {Layout::kAuto, Layout::kMessages, Layout::kShareGpt, Layout::kAlpaca, Layout::kSciriff,
                   Layout::kPromptCompletion, Layout::kText, Layout::kTokens})
    EXPECT_EQ(parse_layout(to_string(l)), l);
  EXPECT_THROW(parse_layout("csv"), UserError);
}

TEST(Layouts, Detection) {
  auto d = [](const char* s) { return detect_layout(json::parse(s)); };
  EXPECT_EQ(d(R"({"messages": [], "text": "x"})"), Layout::kMessages);
  EXPECT_EQ(d(R"({"conversations": []})"), Layout::kShareGpt);
  EXPECT_EQ(d(R"({"instruction": "a", "input": "", "output": "b"})"), Layout::kAlpaca);
  EXPECT_EQ(d(R"({"input": "a", "output": "b", "_instance_id": "x"})"), Layout::kSciriff);
  EXPECT_EQ(d(R"({"prompt": "a", "completion": "b"})"), Layout::kPromptCompletion);
  EXPECT_EQ(d(R"({"text": "a"})"), Layout::kText);
  EXPECT_EQ(d(R"({"input_ids": [2, 3], "text": "a"})"), Layout::kTokens);
  EXPECT_EQ(d(R"({"messages": null, "question": 1})"), std::nullopt);  // null counts as absent
  EXPECT_EQ(d(R"({"input": "a"})"), std::nullopt);
}

TEST(Layouts, MessagesWithRoleNamesAndParts) {
  const RecordContent c = content(R"({"dataset": "x", "id": "1", "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Q1"}]},
      {"role": "assistant", "content": "A1"},
      {"role": "human", "content": "Q2"},
      {"role": "bot", "content": "A2"}]})",
                                  Layout::kMessages);
  EXPECT_EQ(c.kind, RecordContent::Kind::kChat);
  EXPECT_EQ(roles(c), "system,user,model,user,model");
  EXPECT_TRUE(c.messages[1].has_parts);
  EXPECT_EQ(c.messages[1].parts[0].text, "Q1");
  EXPECT_EQ(c.messages[2].content, "A1");
}

TEST(Layouts, ShareGpt) {
  const RecordContent c = content(R"({"conversations": [{"from": "system", "value": "S"},
      {"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]})",
                                  Layout::kShareGpt);
  EXPECT_EQ(roles(c), "system,user,model");
  EXPECT_EQ(c.messages[2].content, "A");
  // Some ShareGPT-style sets spell the keys role/content.
  EXPECT_EQ(roles(content(R"({"conversations": [{"role": "user", "content": "Q"}, {"role": "assistant",
      "content": "A"}]})",
                          Layout::kShareGpt)),
            "user,model");
}

TEST(Layouts, AlpacaSciriffPromptCompletion) {
  RecordContent c =
      content(R"({"instruction": "Summarise.", "input": "Some text.", "output": "Short."})", Layout::kAlpaca);
  EXPECT_EQ(roles(c), "user,model");
  EXPECT_EQ(c.messages[0].content, "Summarise.\n\nSome text.");
  EXPECT_EQ(c.messages[1].content, "Short.");
  c = content(R"({"instruction": "Say hi.", "input": "  ", "output": "Hi."})", Layout::kAlpaca);
  EXPECT_EQ(c.messages[0].content, "Say hi.");
  c = content(R"({"instruction": "Say hi.", "output": "Hi."})", Layout::kAlpaca);
  EXPECT_EQ(c.messages[0].content, "Say hi.");
  c = content(R"({"input": "Claim: X.", "output": "{\"verdict\": \"SUPPORT\"}", "metadata": {}})", Layout::kSciriff);
  EXPECT_EQ(roles(c), "user,model");
  EXPECT_EQ(c.messages[1].content, "{\"verdict\": \"SUPPORT\"}");
  c = content(R"({"prompt": "P", "completion": "C"})", Layout::kPromptCompletion);
  EXPECT_EQ(roles(c), "user,model");
  c = content(R"({"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "P"}],
                  "completion": [{"role": "assistant", "content": "C"}]})",
              Layout::kPromptCompletion);
  EXPECT_EQ(roles(c), "system,user,model");
}

TEST(Layouts, TextAndTokens) {
  RecordContent c = content(R"({"text": "Plain text."})", Layout::kText);
  EXPECT_EQ(c.kind, RecordContent::Kind::kText);
  EXPECT_EQ(c.text, "Plain text.");
  c = content(R"({"input_ids": [2, 10, 11], "labels": [-100, 10, 11], "attention_mask": [1, 1, 1]})", Layout::kTokens);
  EXPECT_EQ(c.kind, RecordContent::Kind::kTokens);
  EXPECT_EQ(c.ids, (std::vector<int32_t>{2, 10, 11}));
  EXPECT_EQ(c.labels, (std::vector<int64_t>{-100, 10, 11}));
  c = content(R"({"input_ids": [2, 10]})", Layout::kTokens);
  EXPECT_TRUE(c.labels.empty());
}

TEST(Layouts, ResponseMarkersStripped) {
  const std::string rec =
      R"({"messages": [{"role": "user", "content": "Q [Response_Start]"}, {"role": "assistant", "content": "[Response_Start]The answer [0].[Response_End]"}]})";
  EXPECT_EQ(content(rec, Layout::kMessages).messages[1].content, "[Response_Start]The answer [0].[Response_End]");
  const RecordContent c = content(rec, Layout::kMessages, {ChatFormat::kGemma3, true});
  EXPECT_EQ(c.messages[1].content, "The answer [0].");
  EXPECT_EQ(c.messages[0].content, "Q [Response_Start]");  // only answers
  EXPECT_EQ(
      rejected(
          R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": " [Response_Start][Response_End] "}]})",
          Layout::kMessages, {ChatFormat::kGemma3, true}),
      "empty answer | f.jsonl:3: messages[1]: empty model answer");
}

TEST(Layouts, Rejects) {
  const auto M = Layout::kMessages;
  EXPECT_EQ(rejected(R"({"text": "x"})", M), "missing field | f.jsonl:3: missing \"messages\"");
  EXPECT_EQ(rejected(R"({"messages": {"role": "user"}})", M),
            "wrong type | f.jsonl:3: \"messages\" must be a list of messages, found object");
  EXPECT_EQ(rejected(R"({"messages": []})", M), "empty conversation | f.jsonl:3: \"messages\" is empty");
  EXPECT_EQ(rejected(R"({"messages": ["hi"]})", M),
            "wrong type | f.jsonl:3: messages[0] must be an object, found string");
  EXPECT_EQ(rejected(R"({"messages": [{"content": "hi"}]})", M),
            "missing field | f.jsonl:3: messages[0]: missing \"role\"");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": null}]})", M),
            "missing field | f.jsonl:3: messages[0]: missing \"content\"");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": 5}]})", M),
            "wrong type | f.jsonl:3: messages[0]: \"content\" must be a string or a list of parts, found integer");
  EXPECT_EQ(rejected(R"({"messages": [{"role": 1, "content": "x"}]})", M),
            "wrong type | f.jsonl:3: messages[0]: \"role\" must be a string, found integer");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": "Q"}, {"role": "tool", "content": "x"}]})", M),
            "unknown role | f.jsonl:3: messages[1]: unknown role \"tool\" (expected system, user/human or "
            "assistant/model/gpt/bot)");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "  "}]})", M),
            "empty answer | f.jsonl:3: messages[1]: empty model answer");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "A"}]})", M),
            "empty prompt | f.jsonl:3: messages[0]: empty user message");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": "Q"}]})", M),
            "no model turn | f.jsonl:3: no assistant/model turn (nothing to train on)");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "system", "content": "S"}]})", M),
            "empty conversation | f.jsonl:3: only a system message");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": "Q"}, {"role": "system", "content": "S"}]})", M),
            "role order | f.jsonl:3: messages[1]: a system message is only allowed first");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q"}]},
                                       {"role": "assistant", "content": "A"}]})",
                     M),
            "non-text content | f.jsonl:3: messages[0].content[0]: a \"image\" part (only text can be trained on)");
  EXPECT_EQ(rejected(R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})", M),
            "missing field | f.jsonl:3: messages[0].content[0]: missing \"text\"");
}

TEST(Layouts, RoleOrderDependsOnTheTemplate) {
  const std::string two_users =
      R"({"messages": [{"role": "user", "content": "Q"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A"}]})";
  EXPECT_EQ(rejected(two_users, Layout::kMessages),
            "role order | f.jsonl:3: messages[1]: \"user\" where a model turn is due (the Gemma 3 template needs "
            "user and model turns to alternate, user first)");
  EXPECT_EQ(rejected(two_users, Layout::kMessages, kGemma4), "(accepted)");  // Gemma 4's template does not check
  const std::string model_first =
      R"({"messages": [{"role": "system", "content": "S"}, {"role": "assistant", "content": "A"}]})";
  EXPECT_EQ(rejected(model_first, Layout::kMessages),
            "role order | f.jsonl:3: messages[1]: \"model\" where a user turn is due (the Gemma 3 template needs "
            "user and model turns to alternate, user first)");
}

TEST(Layouts, SystemListContentAsEachTemplateTakesIt) {
  const std::string parts =
      R"({"messages": [{"role": "system", "content": [{"type": "text", "text": "S"}]}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})";
  EXPECT_EQ(rejected(parts, Layout::kMessages), "(accepted)");
  EXPECT_EQ(rejected(parts, Layout::kMessages, kGemma4),
            "wrong type | f.jsonl:3: messages[0]: a Gemma 4 system message must have string content");
  EXPECT_EQ(
      rejected(
          R"({"messages": [{"role": "system", "content": []}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})",
          Layout::kMessages),
      "wrong type | f.jsonl:3: messages[0]: the system message's content is an empty list");
}

TEST(Layouts, OtherLayoutRejects) {
  EXPECT_EQ(rejected(R"({"instruction": "", "input": "", "output": "x"})", Layout::kAlpaca),
            "empty prompt | f.jsonl:3: \"instruction\" and \"input\" are both empty");
  EXPECT_EQ(rejected(R"({"instruction": "I", "output": 3})", Layout::kAlpaca),
            "wrong type | f.jsonl:3: \"output\" must be a string, found integer");
  EXPECT_EQ(rejected(R"({"input": "I", "output": ""})", Layout::kSciriff),
            "empty answer | f.jsonl:3: input/output[1]: empty model answer");
  EXPECT_EQ(rejected(R"({"input": "I"})", Layout::kSciriff), "missing field | f.jsonl:3: missing \"output\"");
  EXPECT_EQ(rejected(R"({"prompt": "P", "completion": ["C"]})", Layout::kPromptCompletion),
            "wrong type | f.jsonl:3: \"prompt\" and \"completion\" must both be strings or both lists of "
            "messages, found string and array");
  EXPECT_EQ(
      rejected(R"({"prompt": [{"role": "user", "content": "P"}], "completion": [{"role": "user", "content": "C"}]})",
               Layout::kPromptCompletion),
      "role order | f.jsonl:3: completion[0] has role \"user\" (a completion holds model turns)");
  EXPECT_EQ(rejected(R"({"text": " \n "})", Layout::kText), "empty text | f.jsonl:3: \"text\" is empty");
  EXPECT_EQ(rejected(R"({"text": ["a"]})", Layout::kText),
            "wrong type | f.jsonl:3: \"text\" must be a string, found array");
  EXPECT_EQ(rejected(R"({"input_ids": []})", Layout::kTokens), "bad token ids | f.jsonl:3: \"input_ids\" is empty");
  EXPECT_EQ(rejected(R"({"input_ids": [2, 1.5]})", Layout::kTokens),
            "wrong type | f.jsonl:3: input_ids[1] must be an integer, found number");
  EXPECT_EQ(rejected(R"({"input_ids": [2, -4]})", Layout::kTokens),
            "bad token ids | f.jsonl:3: input_ids[1] = -4 is not a token id");
  EXPECT_EQ(rejected(R"({"input_ids": [2, 5], "labels": [5]})", Layout::kTokens),
            "bad labels | f.jsonl:3: 1 labels for 2 input_ids (expected one per token)");
  EXPECT_EQ(rejected(R"({"input_ids": [2, 5, 6], "labels": [5, 6, -100]})", Layout::kTokens),
            "bad labels | f.jsonl:3: labels[0] = 5 is neither -100 nor input_ids[0] = 2 (labels must be HF style: "
            "not shifted)");
}

}  // namespace
}  // namespace scitune
