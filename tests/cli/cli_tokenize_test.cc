// `scitune tokenize` and `scitune chat-template` as a user runs them (ids checked against HF's, recorded in
// tests/golden/tokenizer by the oracle; the mask rule is the one documented in tokenizer/chat_template.h).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "cli_run.h"

namespace {

using scitune::testing::run_cli;

const std::string kTok = std::string(SCITUNE_SHARED_DIR) + "/tokenizers/gemma3";

std::string write_tmp(const std::string& name, const std::string& text) {
  const std::string p = ::testing::TempDir() + name;
  std::ofstream(p) << text;
  return p;
}

TEST(CliTokenize, JsonlStdinAndDecode) {
  auto in = write_tmp("tok.jsonl", "{\"text\": \"Hello world, H2O!\"}\n{\"text\": \"\"}\n");
  auto r = run_cli("tokenize --tokenizer " + kTok + " --add-bos --jsonl " + in);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, "{\"ids\":[2,9259,1902,236764,640,236778,236806,236888]}\n{\"ids\":[2]}\n");
  auto d = run_cli("tokenize --tokenizer " + kTok + " --decode < " + write_tmp("ids.txt", "2 9259 1902\n"));
  ASSERT_EQ(d.rc, 0) << d.out;
  EXPECT_EQ(d.out.rfind("<bos>Hello world", 0), 0u) << d.out;
}

TEST(CliTokenize, ChatTemplateTextIdsAndMask) {
  auto in = write_tmp("chat.jsonl",
                      "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":"
                      "\"Hello!\"}],\"add_generation_prompt\":false}\n");
  auto r = run_cli("chat-template --tokenizer " + kTok + " --jsonl " + in);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out,
            "{\"text\":\"<bos><start_of_turn>user\\nHi<end_of_turn>\\n<start_of_turn>model\\nHello!<end_of_turn>\\n\","
            "\"ids\":[2,105,2364,107,10979,106,107,105,4368,107,9259,236888,106,107],"
            "\"mask\":[0,0,0,0,0,0,0,0,0,0,1,1,1,1]}\n");
}

TEST(CliTokenize, BadLineIsNamedWithFileAndLine) {
  auto in = write_tmp("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": 5}\n");
  auto r = run_cli("tokenize --tokenizer " + kTok + " --jsonl " + in);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("bad.jsonl:2"), std::string::npos) << r.out;
  auto bad_ids = run_cli("tokenize --tokenizer " + kTok + " --decode < " + write_tmp("big.txt", "999999999\n"));
  EXPECT_EQ(bad_ids.rc, 1) << bad_ids.out;
}

}  // namespace
