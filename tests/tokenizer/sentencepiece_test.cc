// tokenizer.model (SentencePiece) folders: a small BPE model trained with SentencePiece, encoded and decoded
// as transformers does (golden: tools/oracle/tokenizer_sp_golden.py), and malformed protobuf.
#include <gtest/gtest.h>

#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer_test_util.h"

namespace scitune {
namespace {

using testing::error_of;
using Ids = std::vector<int32_t>;

TEST(SentencePiece, TinyModelMatchesTransformers) {
  const Tokenizer tok = Tokenizer::load(testing::golden_dir() / "sp_tiny");
  EXPECT_EQ(tok.token_to_id("<start_of_turn>"), 4);
  EXPECT_TRUE(tok.is_special(4));                             // CONTROL
  EXPECT_FALSE(tok.is_special(*tok.token_to_id("<table>")));  // USER_DEFINED
  EXPECT_TRUE(tok.encode("x", true) == tok.encode("x"));      // no tokenizer_config.json: no BOS
  size_t n = 0;
  for (const auto& row : testing::read_jsonl(testing::golden_dir() / "sp_tiny_sample.jsonl")) {
    const std::string text = row["text"];
    const Ids ids = tok.encode(text);
    ASSERT_EQ(ids, row["ids"].get<Ids>()) << nlohmann::json(text).dump();
    ASSERT_EQ(tok.decode(ids), row["decoded"].get<std::string>()) << nlohmann::json(text).dump();
    ASSERT_EQ(tok.decode(ids, true), row["decoded_skip"].get<std::string>()) << nlohmann::json(text).dump();
    ++n;
  }
  EXPECT_GT(n, 250u);
}

std::string varint(uint64_t v) {
  std::string out;
  do {
    out += char((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return out;
}
std::string field(int num, int wire, const std::string& payload) {
  return varint(uint64_t(num) << 3 | wire) + (wire == 2 ? varint(payload.size()) : "") + payload;
}
std::string piece(const std::string& p, int type = 1) {
  return field(1, 2, field(1, 2, p) + field(2, 5, std::string("\0\0\0\0", 4)) + field(3, 0, varint(type)));
}
std::string parse_error(const std::string& bytes) {
  return error_of([&] {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    spec_from_sentencepiece(parse_sentencepiece_model({p, bytes.size()}, "t.model"), "t.model");
  });
}

TEST(SentencePiece, MalformedModelsAreClearErrors) {
  const std::string bpe = field(2, 2, field(3, 0, varint(2)));
  const std::string ok = piece("<unk>", 2) + piece("a") + piece("b") + piece("ab") + bpe;
  EXPECT_EQ(parse_error(ok), "(no error)");
  EXPECT_NE(parse_error("").find("t.model: no pieces"), std::string::npos);
  EXPECT_NE(parse_error(ok.substr(0, ok.size() - 1)).find("t.model: "), std::string::npos);
  EXPECT_NE(parse_error(std::string("\x0A\xFF\xFF\xFF\xFF\x0F", 6)).find("runs past the end"), std::string::npos);
  EXPECT_NE(parse_error(std::string(11, '\xFF')).find("varint"), std::string::npos);
  EXPECT_NE(parse_error(varint(1 << 3 | 3) + ok).find("unsupported wire type 3"), std::string::npos);
  EXPECT_NE(parse_error(piece("a") + piece("") + bpe).find("pieces[1]: empty piece"), std::string::npos);
  EXPECT_NE(parse_error(piece("a\xFF") + bpe).find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(parse_error(piece("a", 9) + bpe).find("unknown piece type 9"), std::string::npos);
  EXPECT_NE(parse_error(piece("a") + piece("a") + bpe).find("appears twice"), std::string::npos);
  EXPECT_NE(parse_error(piece("a") + field(2, 2, field(3, 0, varint(1)))).find("only BPE"), std::string::npos);
  EXPECT_NE(parse_error(piece("a") + bpe).find("unknown piece \"<unk>\""), std::string::npos);
}

}  // namespace
}  // namespace scitune
