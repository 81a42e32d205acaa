// Contracts of the tokenizer on small hand-made vocabularies: BPE merge order, byte fallback, unknowns,
// added tokens, normalisation, decoding, streaming, and every bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "tokenizer/hf_json_loader.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "test_util.h"

namespace scitune {
namespace {

using ::scitune::testing::error_of;

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// A tiny Gemma-shaped tokenizer.json: ▁ for spaces, byte fallback, a few merges and added tokens.
std::string tiny_json(const std::string& merges = R"([["a","b"],["ab","c"],["▁","a"],["b","c"]])") {
  std::string vocab =
      R"({"<pad>":0,"<eos>":1,"<bos>":2,"<unk>":3,"a":4,"b":5,"c":6,"▁":7,"ab":8,"abc":9,"▁a":10,"bc":11,"\n":12,"<start_of_turn>":13)";
  for (int b = 0; b < 256; ++b) {
    char name[16];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab += ",\"" + std::string(name) + "\":" + std::to_string(14 + b);
  }
  vocab += "}";
  return R"({"version":"1.0","truncation":null,"padding":null,
  "added_tokens":[{"id":0,"content":"<pad>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
   {"id":2,"content":"<bos>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
   {"id":12,"content":"\n","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":false},
   {"id":13,"content":"<start_of_turn>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
  "normalizer":{"type":"Replace","pattern":{"String":" "},"content":"▁"},
  "pre_tokenizer":{"type":"Split","pattern":{"String":" "},"behavior":"MergedWithPrevious","invert":false},
  "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<bos>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
     "pair":[],"special_tokens":{"<bos>":{"id":"<bos>","ids":[2],"tokens":["<bos>"]}}},
  "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"}]},
  "model":{"type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,
     "fuse_unk":true,"byte_fallback":true,"ignore_merges":false,"vocab":)" +
         vocab + R"(,"merges":)" + merges + "}}";
}

Tokenizer tiny() { return Tokenizer::from_spec(parse_tokenizer_json(tiny_json(), "tiny.json")); }

using Ids = std::vector<int32_t>;

TEST(TokenizerBasic, MergesByRankThenLeftmost) {
  Tokenizer t = tiny();
  EXPECT_EQ(t.encode("abc"), (Ids{9}));       // a+b (rank 0) then ab+c
  EXPECT_EQ(t.encode("bcab"), (Ids{11, 8}));  // both pairs merge
  EXPECT_EQ(t.encode(" a"), (Ids{10}));       // normaliser makes "▁a"
  EXPECT_EQ(t.encode("abc", true), (Ids{2, 9}));
  EXPECT_EQ(t.encode(""), Ids{});
  EXPECT_EQ(t.encode("", true), Ids{2});
}

TEST(TokenizerBasic, ByteFallbackForUnknownCharacters) {
  Tokenizer t = tiny();
  // 'é' (C3 A9) is not a piece: two byte pieces; 'z' likewise one.
  EXPECT_EQ(t.encode("aé"), (Ids{4, 14 + 0xC3, 14 + 0xA9}));
  EXPECT_EQ(t.decode(t.encode("aé z")), "aé z");
}

TEST(TokenizerBasic, UnknownWithoutByteFallbackIsFused) {
  std::string j = replace_once(tiny_json(), "\"byte_fallback\":true", "\"byte_fallback\":false");
  Tokenizer t = Tokenizer::from_spec(parse_tokenizer_json(j, "t.json"));
  EXPECT_EQ(t.encode("xyzab"), (Ids{3, 8}));  // "xyz" fused into one <unk>
  j = replace_once(j, "\"fuse_unk\":true", "\"fuse_unk\":false");
  Tokenizer u = Tokenizer::from_spec(parse_tokenizer_json(j, "t.json"));
  EXPECT_EQ(u.encode("xyzab"), (Ids{3, 3, 3, 8}));
}

TEST(TokenizerBasic, AddedTokensAreMatchedFirstLeftmostLongest) {
  Tokenizer t = tiny();
  EXPECT_EQ(t.encode("ab<start_of_turn>c\n\na"), (Ids{8, 13, 6, 12, 12, 4}));
  EXPECT_EQ(t.encode("<start_of_tur"), t.encode("<start_of_tur"));  // a prefix is ordinary text
  EXPECT_EQ(t.encode("<bos><bos>"), (Ids{2, 2}));
  EXPECT_EQ(t.decode(Ids{2, 8, 13, 9}), "<bos>ab<start_of_turn>abc");
  EXPECT_EQ(t.decode(Ids{2, 8, 13, 9}, true), "ababc");  // special tokens skipped
  EXPECT_EQ(t.decode(Ids{12}, true), "\n");              // "\n" is added but not special
}

TEST(TokenizerBasic, MergeOrderFollowsRankNotPosition) {
  // ("b","c") ranked before ("a","b"): "abc" -> a + bc, no "abc".
  Tokenizer t = Tokenizer::from_spec(parse_tokenizer_json(tiny_json(R"([["b","c"],["a","b"],["ab","c"]])"), "t.json"));
  EXPECT_EQ(t.encode("abc"), (Ids{4, 11}));
}

TEST(TokenizerBasic, DecodeByteRunsAsHf) {
  Tokenizer t = tiny();
  const int32_t e3 = 14 + 0xE3, x81 = 14 + 0x81, x82 = 14 + 0x82, x41 = 14 + 0x41;
  EXPECT_EQ(t.decode(Ids{e3, x81, x82}), "\xE3\x81\x82");            // あ
  EXPECT_EQ(t.decode(Ids{x41, e3, x81, 4}), "\uFFFD\uFFFD\uFFFDa");  // an invalid run: one U+FFFD per byte
  EXPECT_EQ(t.decode(Ids{7, 4, 7}), " a ");                          // ▁ -> space
  StreamDecoder s(t);
  EXPECT_EQ(s.push(x41), "");
  EXPECT_EQ(s.push(e3), "");
  EXPECT_EQ(s.push(x81), "");
  EXPECT_EQ(s.push(4), "\uFFFD\uFFFD\uFFFDa");
  EXPECT_EQ(s.push(e3), "");
  EXPECT_EQ(s.finish(), "\uFFFD");
  EXPECT_EQ(s.finish(), "");
}

TEST(TokenizerBasic, OutOfRangeIdsAndInvalidUtf8AreUserErrors) {
  Tokenizer t = tiny();
  EXPECT_TRUE(has(error_of([&] { t.decode(Ids{270}); }), "token id 270 is not in the vocabulary of tiny.json"));
  EXPECT_TRUE(has(error_of([&] { t.id_to_token(-5); }), "token id -5"));
  EXPECT_TRUE(has(error_of([&] { t.encode("a\xC0\xAF"); }), "not valid UTF-8 (byte 1)"));   // overlong
  EXPECT_TRUE(has(error_of([&] { t.encode("\xF4\x90\x80\x80"); }), "not valid UTF-8"));     // above U+10FFFF
  EXPECT_TRUE(has(error_of([&] { t.encode("ab\xE3\x81"); }), "not valid UTF-8 (byte 2)"));  // truncated
  EXPECT_FALSE(t.is_valid_id(270));
  EXPECT_FALSE(t.is_special(270));
}

// Each broken tokenizer.json names the file and what is wrong.
TEST(TokenizerBasic, BrokenTokenizerJsonIsAClearError) {
  auto err = [](const std::string& text) {
    return error_of([&] { Tokenizer::from_spec(parse_tokenizer_json(text, "tok.json")); });
  };
  const std::string good = tiny_json();
  auto replaced = [&](const std::string& from, const std::string& to) { return replace_once(good, from, to); };
  EXPECT_TRUE(has(err(""), "tok.json: unexpected end of JSON"));
  EXPECT_TRUE(has(err("{"), "tok.json: invalid JSON"));
  EXPECT_TRUE(has(err("[]"), "expected '{'"));
  EXPECT_TRUE(has(err("{}"), "missing \"model\""));
  EXPECT_TRUE(has(err(good + "x"), "tok.json: invalid JSON"));
  EXPECT_TRUE(has(err(replaced("\"version\"", "\"decoder\":null,\"version\"")), "duplicate key \"decoder\""));
  EXPECT_TRUE(has(err(replaced("\"type\":\"BPE\"", "\"type\":\"Unigram\"")), "model.type: expected \"BPE\""));
  EXPECT_TRUE(has(err(replaced("[\"a\",\"b\"]", "[\"a\",\"q\"]")), "model.merges[0]: \"q\" is not in the vocabulary"));
  EXPECT_TRUE(
      has(err(replaced("[\"ab\",\"c\"]", "[\"b\",\"a\"]")), "the merge result \"ba\" is not in the vocabulary"));
  EXPECT_TRUE(has(err(replaced("[\"a\",\"b\"]", "[\"a\"]")), "merge needs two pieces"));
  EXPECT_TRUE(has(err(replaced("\"a\":4", "\"a\":400")), "ids must be 0..269 without gaps"));
  EXPECT_TRUE(has(err(replaced("\"b\":5", "\"b\":4")), "used twice"));
  EXPECT_TRUE(has(err(replaced("\"b\":5", "\"a\":5")), "model.vocab: piece \"a\" appears twice"));
  EXPECT_TRUE(
      has(err(replaced("\"unk_token\":\"<unk>\"", "\"unk_token\":\"<nope>\"")), "\"<nope>\" is not in the vocabulary"));
  EXPECT_TRUE(has(err(replaced("\"id\":12,", "\"id\":11,")),
                  "added token \"\\n\" has id 11 but the vocabulary gives it id 12"));
  EXPECT_TRUE(has(err(replaced("\"lstrip\":false", "\"lstrip\":true")), "\"lstrip\": true is not supported"));
  EXPECT_TRUE(has(err(replaced("{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"}",
                               "{\"type\":\"NFKC\",\"pattern\":{\"String\":\" \"}")),
                  "normalizer type \"NFKC\" is not supported"));
  EXPECT_TRUE(has(err(replaced("{\"String\":\" \"},\"content\"", "{\"Regex\":\" \"},\"content\"")),
                  "only {\"String\": ...} patterns"));
  EXPECT_TRUE(has(err(replaced("MergedWithPrevious", "Isolated")), "only \"MergedWithPrevious\" is supported"));
  EXPECT_TRUE(
      has(err(replaced("{\"type\":\"ByteFallback\"}", "{\"type\":\"WordPiece\"}")), "decoder type \"WordPiece\""));
  EXPECT_TRUE(has(err(replaced("\"ids\":[2]", "\"ids\":[999]")), "post-processor id 999 unknown"));
  EXPECT_TRUE(has(err(replaced("\"dropout\":null", "\"dropout\":0.1")), "dropout"));
  EXPECT_TRUE(has(err(replaced("\"<pad>\":0", "\"<p\\ud800>\":0")), "tok.json: invalid JSON: Problem while parsing a string"));
  EXPECT_TRUE(has(err(replaced("\"<pad>\":0", "\"<p\xff>\":0")), "invalid UTF-8"));
  EXPECT_TRUE(has(err(replaced("\"<pad>\":0", "\"<pad>\":-1")), "out of range"));
  EXPECT_TRUE(has(err(replaced("\"<pad>\":0", "\"<pad>\":0.5")), "expected an integer"));
  EXPECT_TRUE(
      has(err("{\"x\":" + std::string(100, '[') + std::string(100, ']') + "}"), "nested deeper than 64 levels"));
}

// A normalized added token is matched after normalisation; Prepend adds to each piece between added tokens.
TEST(TokenizerBasic, NormalizedAddedTokensAndPrepend) {
  std::string j = tiny_json();
  j.replace(
      j.find("\"content\":\"<start_of_turn>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":"
             "false"),
      std::string("\"content\":\"<start_of_turn>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                  "\"normalized\":false")
          .size(),
      "\"content\":\"<start_of_turn>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":true");
  const std::string norm = "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"▁\"}";
  j.replace(j.find(norm), norm.size(),
            "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"▁\"}," + norm + "]}");
  Tokenizer t = Tokenizer::from_spec(parse_tokenizer_json(j, "t.json"));
  EXPECT_EQ(t.encode("a\nb"), (Ids{10, 12, 7, 5}));  // "▁a", "\n", "▁" "b"
  // HF normalises the token's content too: the pattern is "▁<start_of_turn>".
  EXPECT_EQ(t.encode("<start_of_turn>"), (Ids{13}));
  // Without the '▁' in front (it is prepended to the whole piece "a<start_of_turn>") it does not match.
  const Ids ids = t.encode("a<start_of_turn>");
  EXPECT_EQ(ids.front(), 10);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 13), 0);
}

TEST(TokenizerBasic, SplitMergedWithPreviousIsApplied) {
  // No space normaliser: the Split pre-tokenizer sees spaces. "ab c" -> "ab ", "c": the space has no piece,
  // so it falls back to <0x20> inside the first word, and no merge crosses into "c".
  std::string j = tiny_json();
  const std::string norm = "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"▁\"}";
  j.replace(j.find(norm), norm.size(), "null");
  Tokenizer t = Tokenizer::from_spec(parse_tokenizer_json(j, "t.json"));
  EXPECT_EQ(t.encode("ab c"), (Ids{8, 14 + 0x20, 6}));
  EXPECT_EQ(t.encode("  bc"), (Ids{14 + 0x20, 14 + 0x20, 11}));
}

}  // namespace
}  // namespace scitune
