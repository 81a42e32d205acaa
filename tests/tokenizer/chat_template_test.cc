// Chat templates against transformers' apply_chat_template with the real Gemma 3 template (golden made in
// the oracle by tools/oracle/tokenizer_chat_golden.py), the Unsloth response mask, and the Gemma 4 form.
#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace scitune {
namespace {

using testing::error_of;
using Ids = std::vector<int32_t>;
using Mask = std::vector<uint8_t>;

TEST(ChatTemplate, Gemma3MatchesTransformers) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  ASSERT_EQ(detect_chat_format(*tok), ChatFormat::kGemma3);
  size_t cases = 0, errors = 0;
  for (const auto& row : testing::read_jsonl(testing::golden_dir() / "chat_gemma3.jsonl")) {
    const auto messages = chat_messages_from_json(row["messages"], "golden");
    ChatOptions opt;
    opt.add_generation_prompt = row["add_generation_prompt"];
    ++cases;
    if (row.contains("error")) {
      ++errors;
      EXPECT_NE(error_of([&] { encode_chat(*tok, ChatFormat::kGemma3, messages, opt); }).find("must alternate"),
                std::string::npos)
          << row["messages"].dump();
      continue;
    }
    const ChatEncoding enc = encode_chat(*tok, ChatFormat::kGemma3, messages, opt);
    EXPECT_EQ(enc.text, row["text"].get<std::string>()) << row["messages"].dump();
    EXPECT_EQ(enc.ids, row["ids"].get<Ids>()) << row["messages"].dump();
    EXPECT_EQ(enc.mask, row["mask"].get<Mask>()) << row["messages"].dump();
  }
  EXPECT_GE(cases, 40u);
  EXPECT_GE(errors, 4u);
}

// The mask rule on a hand-checked conversation: answer tokens, <end_of_turn> and "\n" trained; BOS, headers,
// system and user text not; the last model turn runs to the end of the sequence.
TEST(ChatTemplate, MaskTrainsAnswersAndTheirEndOfTurn) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::vector<ChatMessage> msgs = {{"system", "Be brief.", {}, false},
                                         {"user", "Hi", {}, false},
                                         {"assistant", "Hello", {}, false},
                                         {"user", "Bye", {}, false},
                                         {"assistant", "Bye!", {}, false}};
  const ChatEncoding enc = encode_chat(*tok, ChatFormat::kGemma3, msgs, {});
  ASSERT_EQ(enc.ids.size(), enc.mask.size());
  EXPECT_EQ(enc.ids[0], 2);
  EXPECT_EQ(std::count(enc.ids.begin(), enc.ids.end(), 2), 1);  // exactly one BOS
  std::string trained;
  std::vector<int32_t> trained_ids;
  for (size_t i = 0; i < enc.ids.size(); ++i)
    if (enc.mask[i]) trained_ids.push_back(enc.ids[i]);
  trained = tok->decode(trained_ids);
  EXPECT_EQ(trained, "Hello<end_of_turn>\nBye!<end_of_turn>\n");
  EXPECT_EQ(enc.mask.back(), 1);
  EXPECT_EQ(enc.mask[0], 0);
  // With a generation prompt the open model header is not trained (nothing follows it).
  ChatOptions gen;
  gen.add_generation_prompt = true;
  const std::vector<ChatMessage> q = {{"user", "Hi", {}, false}};
  const ChatEncoding prompt = encode_chat(*tok, ChatFormat::kGemma3, q, gen);
  EXPECT_EQ(std::count(prompt.mask.begin(), prompt.mask.end(), 1), 0);
  // Masks of raw ids: a response marker at the very end trains nothing; one token after it is trained.
  const Ids header = tok->encode("<start_of_turn>model\n");
  EXPECT_EQ(response_mask(*tok, ChatFormat::kGemma3, header), Mask(header.size(), 0));
  Ids one = header;
  one.push_back(9259);
  Mask want(header.size(), 0);
  want.push_back(1);
  EXPECT_EQ(response_mask(*tok, ChatFormat::kGemma3, one), want);
}

TEST(ChatTemplate, Gemma4Rendering) {
  const std::vector<ChatMessage> msgs = {{"system", "  Be brief. ", {}, false},
                                         {"user", " Hi ", {}, false},
                                         {"assistant", "<|channel>thought\nhmm<channel|> Hello ", {}, false}};
  EXPECT_EQ(render_chat(ChatFormat::kGemma4, msgs, {}),
            "<bos><|turn>system\nBe brief.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\nHello<turn|>\n");
  ChatOptions opt;
  opt.add_generation_prompt = true;
  const std::vector<ChatMessage> q = {{"user", "Q", {}, false}};
  EXPECT_EQ(render_chat(ChatFormat::kGemma4, q, opt),
            "<bos><|turn>user\nQ<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
  opt.enable_thinking = true;
  EXPECT_EQ(render_chat(ChatFormat::kGemma4, q, opt),
            "<bos><|turn>system\n<|think|><turn|>\n<|turn>user\nQ<turn|>\n<|turn>model\n");
  ChatMessage parts{"user", "", {{"text", " look "}, {"image", ""}, {"audio", ""}}, true};
  EXPECT_EQ(render_chat(ChatFormat::kGemma4, std::vector<ChatMessage>{parts}, {}),
            "<bos><|turn>user\nlook\n\n<|image|>\n\n<|audio|><turn|>\n");
}

TEST(ChatTemplate, BadConversationsAreUserErrors) {
  EXPECT_NE(error_of([] { render_chat(ChatFormat::kGemma3, std::vector<ChatMessage>{}, {}); }).find("no messages"),
            std::string::npos);
  const auto parse = [](const char* j) { return chat_messages_from_json(nlohmann::json::parse(j), "in.jsonl:3"); };
  EXPECT_NE(error_of([&] { parse(R"([{"role": "user"}])"); }).find("in.jsonl:3: messages[0]: missing \"content\""),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse(R"([{"content": "x"}])"); }).find("missing \"role\""), std::string::npos);
  EXPECT_NE(error_of([&] { parse(R"([{"role": "user", "content": 5}])"); }).find("expected a string or a list"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse(R"({"role": "user"})"); }).find("\"messages\""), std::string::npos);
  EXPECT_NE(error_of([&] { parse(R"([{"role": "user", "content": [{"type": "text"}]}])"); }).find("needs \"text\""),
            std::string::npos);
}

}  // namespace
}  // namespace scitune
