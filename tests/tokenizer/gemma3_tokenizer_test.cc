// The real Gemma 3 tokenizer against HF `tokenizers` (golden files made in the oracle by
// tools/oracle/tokenizer_golden.py): encode of edge cases and real text, decode, streaming decode, and the
// GGUF vocabulary giving the same tokenizer as tokenizer.json.
#include <gtest/gtest.h>

#include "io/gguf_reader.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace scitune {
namespace {

using testing::error_of;
using Ids = std::vector<int32_t>;

TEST(Gemma3Tokenizer, EncodesLikeHfOnGoldenSample) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  auto rows = testing::read_jsonl(testing::golden_dir() / "encode_sample.jsonl");
  ASSERT_GT(rows.size(), 2000u);
  size_t mismatches = 0;
  for (const auto& row : rows) {
    const std::string text = row["text"];
    const Ids want = row["ids"].get<Ids>();
    const Ids got = tok->encode(text);
    if (got != want && ++mismatches <= 5) ADD_FAILURE() << "text " << nlohmann::json(text).dump();
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(Gemma3Tokenizer, BatchEqualsSingle) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  auto rows = testing::read_jsonl(testing::golden_dir() / "encode_sample.jsonl");
  std::vector<std::string> texts;
  for (const auto& row : rows) texts.push_back(row["text"]);
  const auto batch = tok->encode_batch(texts, /*add_special_tokens=*/true, 3);
  ASSERT_EQ(batch.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    Ids want = {2};
    for (int32_t id : rows[i]["ids"]) want.push_back(id);
    ASSERT_EQ(batch[i], want) << "row " << i;
  }
}

TEST(Gemma3Tokenizer, DecodesLikeHf) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  for (const auto& row : testing::read_jsonl(testing::golden_dir() / "decode_sample.jsonl")) {
    const Ids ids = row["ids"].get<Ids>();
    EXPECT_EQ(tok->decode(ids, row["skip_special"]), row["text"].get<std::string>()) << row["ids"].dump();
  }
}

TEST(Gemma3Tokenizer, StreamingDecodeEqualsDecodeAndNeverSplitsACharacter) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  for (const auto& row : testing::read_jsonl(testing::golden_dir() / "decode_sample.jsonl")) {
    StreamDecoder stream(*tok, row["skip_special"]);
    std::string all;
    for (int32_t id : row["ids"]) {
      const std::string piece = stream.push(id);
      EXPECT_FALSE(tok::find_invalid_utf8(piece).has_value()) << row["ids"].dump();
      all += piece;
    }
    all += stream.finish();
    EXPECT_EQ(all, row["text"].get<std::string>()) << row["ids"].dump();
  }
}

TEST(Gemma3Tokenizer, SpecialTokensAndIds) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  EXPECT_EQ(tok->vocab_size(), 262145u);
  EXPECT_EQ(tok->token_to_id("<start_of_turn>"), 105);
  EXPECT_EQ(tok->token_to_id("<image_soft_token>"), 262144);
  EXPECT_EQ(tok->id_to_token(106), "<end_of_turn>");
  EXPECT_TRUE(tok->is_special(2));
  EXPECT_TRUE(tok->is_special(106));
  EXPECT_FALSE(tok->is_special(6));    // <unused0>
  EXPECT_FALSE(tok->is_special(107));  // "\n"
  EXPECT_EQ(tok->bos_id(), 2);
  EXPECT_EQ(tok->eos_id(), 106);  // tokenizer_config.json names <end_of_turn>
  EXPECT_EQ(tok->encode("Hello world", true), (Ids{2, 9259, 1902}));
  EXPECT_NE(tok->chat_template().find("<start_of_turn>"), std::string::npos);
}

TEST(Gemma3Tokenizer, BadInputIsAUserError) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  EXPECT_NE(error_of([&] {
              tok->decode(Ids{5, 262145});
            }).find("token id 262145 is not in the vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of([&] { tok->decode(Ids{-1}); }).find("token id -1"), std::string::npos);
  EXPECT_NE(error_of([&] { tok->id_to_token(1 << 30); }).find("not in the vocabulary"), std::string::npos);
  EXPECT_NE(error_of([&] { tok->encode("ok \xC3\x28 bad"); }).find("not valid UTF-8 (byte 3)"), std::string::npos);
  EXPECT_NE(error_of([&] { tok->encode("\xED\xA0\x80"); }).find("not valid UTF-8"), std::string::npos);  // surrogate
  const std::vector<std::string> batch = {"fine", "\xFF"};
  EXPECT_NE(error_of([&] { tok->encode_batch(batch, false, 2); }).find("not valid UTF-8"), std::string::npos);
  StreamDecoder stream(*tok);
  EXPECT_NE(error_of([&] { stream.push(300000); }).find("300000"), std::string::npos);
}

// A GGUF alone gives the same tokenizer: identical pieces and merge list (so identical BPE), and the same
// encodings on the golden sample (except the id the 270M vocabulary lacks, <image_soft_token>).
TEST(Gemma3Tokenizer, GgufVocabularyEqualsTokenizerJson) {
  SCITUNE_REQUIRE_GEMMA3(tok);
  const auto path = testing::gemma3_gguf();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "real Gemma 3 270M GGUF not found at " << path;
  const Tokenizer from_gguf = Tokenizer::load(path);
  const TokenizerSpec& a = tok->impl().spec;
  const TokenizerSpec& b = from_gguf.impl().spec;
  ASSERT_EQ(b.pieces.size(), a.pieces.size());
  EXPECT_TRUE(b.pieces == a.pieces);
  ASSERT_EQ(b.merges.size(), a.merges.size());
  EXPECT_TRUE(b.merges == a.merges);
  EXPECT_EQ(b.prefix_ids, a.prefix_ids);
  for (const auto& row : testing::read_jsonl(testing::golden_dir() / "encode_sample.jsonl")) {
    const std::string text = row["text"];
    if (text.find("<image_soft_token>") != std::string::npos) continue;
    ASSERT_EQ(from_gguf.encode(text), row["ids"].get<Ids>()) << nlohmann::json(text).dump();
  }
}

}  // namespace
}  // namespace scitune
