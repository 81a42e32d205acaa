// Loading: folder files (tokenizer_config.json, special_tokens_map.json, chat_template.jinja), the GGUF
// vocabulary rules on a small synthetic GGUF, path errors, and the strict JSON reader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "io/gguf.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/json_dom.h"
#include "tokenizer_test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using Ids = std::vector<int32_t>;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("scitune_tok_" + std::to_string(::getpid()) + "_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

// The fuzz seed is a complete small Gemma-shaped tokenizer.json.
std::string tiny_json() {
  std::ifstream in(fs::path(SCITUNE_SOURCE_DIR) / "fuzz/corpus/tokenizer_json/gemma_like.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(TokenizerLoad, FolderConfigFiles) {
  TempDir d;
  d.write("tokenizer.json", tiny_json());
  EXPECT_EQ(Tokenizer::load(d.path).encode("ab", true), (Ids{2, 8}));  // tokenizer.json's post-processor
  d.write("tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true, "bos_token": "<bos>",
    "eos_token": {"content": "<eos>", "special": true}, "chat_template": "{{ bos_token }}"})");
  Tokenizer t = Tokenizer::load(d.path);
  EXPECT_EQ(t.encode("ab", true), (Ids{8, 1}));
  EXPECT_EQ(t.eos_id(), 1);
  EXPECT_EQ(t.chat_template(), "{{ bos_token }}");
  d.write("chat_template.jinja", "from the jinja file");
  EXPECT_EQ(Tokenizer::load(d.path / "tokenizer.json").chat_template(), "from the jinja file");
  d.write("tokenizer_config.json", R"({})");
  d.write("special_tokens_map.json", R"({"pad_token": "<pad>", "eos_token": "<start_of_turn>"})");
  EXPECT_EQ(Tokenizer::load(d.path).eos_id(), 13);
  EXPECT_EQ(Tokenizer::load(d.path).pad_id(), 0);
  d.write("tokenizer_config.json", R"({"eos_token": "<nope>"})");
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(d.path); }),
                  "tokenizer_config.json: \"eos_token\" is \"<nope>\", which is not a token of tokenizer.json"));
  d.write("tokenizer_config.json", R"({"add_bos_token": 1})");
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(d.path); }), "add_bos_token"));
  d.write("tokenizer_config.json", R"({"a": 1, "a": 2})");
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(d.path); }), "duplicate key \"a\""));
}

TEST(TokenizerLoad, PathErrors) {
  TempDir d;
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(d.path); }), "no tokenizer.json or tokenizer.model in this folder"));
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(d.path / "missing.json"); }), "no such file or folder"));
  d.write("vocab.txt", "hello");
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(d.path / "vocab.txt"); }), "not a tokenizer"));
  d.write("tokenizer.json", "{\"model\": ");
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(d.path); }), "tokenizer.json: invalid JSON"));
  d.write("tokenizer.model", "\x0A\x05");
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(d.path / "tokenizer.model"); }), "tokenizer.model"));
}

// A SentencePiece-style vocabulary as llama.cpp writes it for Gemma: added tokens scored -1000, '▁' in
// user-defined pieces written as ' '.
GgufWriter small_gguf() {
  GgufWriter w;
  w.add("general.architecture", GgufValue::str("gemma3"));
  w.add("tokenizer.ggml.model", GgufValue::str("llama"));
  std::vector<std::string> tokens = {"<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "  ", "a",
                                     "b",     "▁",     "ab",    "▁a"};
  std::vector<float> scores = {-1000, -1000, -1000, -1000, -1000, -1000, -1, -2, -3, -4, -5};
  std::vector<int32_t> types = {3, 3, 3, 3, 3, 4, 1, 1, 1, 1, 1};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.push_back(name);
    scores.push_back(0);
    types.push_back(6);
  }
  w.add("tokenizer.ggml.tokens", GgufValue::array(tokens));
  w.add("tokenizer.ggml.scores", GgufValue::array(scores));
  w.add("tokenizer.ggml.token_type", GgufValue::array(types));
  w.add("tokenizer.ggml.bos_token_id", GgufValue::u32(2));
  w.add("tokenizer.ggml.eos_token_id", GgufValue::u32(1));
  w.add("tokenizer.ggml.unknown_token_id", GgufValue::u32(3));
  w.add("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  return w;
}

Tokenizer from_writer(const GgufWriter& w) {
  static std::vector<uint8_t> bytes;  // the parsed file views these bytes
  bytes = w.to_bytes();
  return Tokenizer::from_spec(spec_from_gguf(GgufFile::parse(bytes, "small.gguf")));
}

TEST(TokenizerLoad, GgufVocabularyRules) {
  const Tokenizer t = from_writer(small_gguf());
  EXPECT_EQ(t.id_to_token(5), "▁▁");  // ' ' restored to '▁' in the user-defined piece
  EXPECT_EQ(t.encode("a  b", true), (Ids{2, 6, 5, 7}));
  EXPECT_EQ(t.encode("  a"), (Ids{5, 6}));  // "▁▁" (an added token, scored 0 again) before "▁a" (-5)
  EXPECT_EQ(t.encode(" ab"), (Ids{8, 9}));  // "ab" (score -4) before "▁a" (score -5)
  EXPECT_EQ(t.encode("<start_of_turn>é"), (Ids{4, 11 + 0xC3, 11 + 0xA9}));
  EXPECT_TRUE(t.is_special(4));
  EXPECT_FALSE(t.is_special(5));

  GgufWriter w = small_gguf();
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(true));
  EXPECT_TRUE(has(error_of([&] { from_writer(w); }), "add_space_prefix is true"));
  w = small_gguf();
  w.set("tokenizer.ggml.scores", GgufValue::array(std::vector<float>{0, 1}));
  EXPECT_TRUE(has(error_of([&] { from_writer(w); }), "small.gguf: tokenizer.ggml.scores has 2 entries for 267 tokens"));
  w = small_gguf();
  w.set("tokenizer.ggml.model", GgufValue::str("bert"));
  EXPECT_TRUE(has(error_of([&] { from_writer(w); }), "tokenizer.ggml.model is \"bert\""));
  w = small_gguf();
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(9999));
  EXPECT_TRUE(has(error_of([&] { from_writer(w); }), "tokenizer.ggml.bos_token_id = 9999"));
  w = small_gguf();
  w.remove("tokenizer.ggml.model");
  EXPECT_TRUE(has(error_of([&] { from_writer(w); }), "no tokenizer.ggml.model"));
}

TEST(JsonDom, DecodesEscapesAndRejectsBadJson) {
  simdjson::dom::parser parser;
  const nlohmann::json v = tok::to_nlohmann(
      tok::parse_json(parser, R"(["a\u00e9\ud83d\ude00\n\t\"\\\/", 12, -3.5e2, true, null, {"k": [1]}])", "t.json"),
      "t.json");
  EXPECT_EQ(v[0], "a\xC3\xA9\xF0\x9F\x98\x80\n\t\"\\/");
  EXPECT_EQ(v[1], 12);
  EXPECT_EQ(v[2], -350.0);
  EXPECT_EQ(v[5]["k"][0], 1);
  auto err = [](const std::string& text) {
    return error_of([&] {
      simdjson::dom::parser p;
      tok::to_nlohmann(tok::parse_json(p, text, "t.json"), "t.json");
    });
  };
  // simdjson reports the kind of error but not its position (except for invalid UTF-8, located here).
  EXPECT_TRUE(has(err("[1,]"), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("{\"a\":1,}"), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("[01]"), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("\"\\x\""), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("\"\\udc00\""), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("\"\\ud800x\""), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("\"a\nb\""), "must be escaped"));
  EXPECT_TRUE(has(err("NaN"), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("1e999"), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("\xEF\xBB\xBF{}"), "byte order mark"));
  EXPECT_TRUE(has(err("[1] [2]"), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err("{\n \"a\": tru}"), "t.json: invalid JSON"));
  EXPECT_TRUE(has(err(""), "t.json: unexpected end of JSON"));
  EXPECT_TRUE(has(err("{\"a\": {\"b\": 1, \"b\": 2}}"), "t.json.a: duplicate key \"b\""));
  EXPECT_TRUE(has(err("[\n \"ok\",\n \"x\xff\"]"), "t.json: line 3 column 4: invalid UTF-8"));
  EXPECT_TRUE(has(err(std::string(65, '[') + std::string(65, ']')), "nested deeper than 64 levels"));
  EXPECT_EQ(err(std::string(64, '[') + std::string(64, ']')), "(no error)");
}

}  // namespace
}  // namespace scitune
