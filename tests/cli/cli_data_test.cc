// `scitune data prepare` and `scitune data inspect` as a user runs them on JSON lines: every bad record named
// file:line with its reason and counted, the good ones kept; nothing left -> exit 1; an existing output is never
// replaced without --force; inspect shows the report and an example with its trained tokens marked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_run.h"
#include "test_util.h"

namespace scitune {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::run_cli;

const std::string kTok = std::string(SCITUNE_SHARED_DIR) + "/tokenizers/gemma3/tokenizer.json";

class CliData : public testing::TempDirTest {
 protected:
  void SetUp() override {
    testing::TempDirTest::SetUp();
    if (!std::filesystem::exists(kTok)) GTEST_SKIP() << "no Gemma 3 tokenizer at " << kTok;
  }
  std::string write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  testing::CliRun prepare(const std::string& data, const std::string& out, const std::string& extra = "") {
    return run_cli("data prepare --data " + data + " --tokenizer " + kTok + " --out " + (dir_ / out).string() +
                   " --val-count 0 --threads 2 " + extra);
  }
};

std::string chat(const std::string& q, const std::string& a) {
  return R"({"messages":[{"role":"user","content":")" + q + R"("},{"role":"assistant","content":")" + a + R"("}]})";
}

TEST_F(CliData, BadRecordsAreNamedByLineAndTheRestIsKept) {
  std::string huge;  // a ~1 MiB line: read, judged and truncated like any other
  while (huge.size() < (1 << 20)) huge += "lorem ipsum dolor ";
  const std::string data = write(
      "mixed.jsonl", chat("What is DNA?", "A molecule.") + "\n" +                      // 1 ok
                         R"({"messages":[{"role":"user","content":"Q2"})" + "\n" +      // 2 cut JSON
                         chat("Q3", "") + "\n" +                                        // 3 empty answer
                         R"({"messages":[{"role":"robot","content":"x"},{"role":"assistant","content":"y"}]})" +
                         "\n" +                                                         // 4 unknown role
                         R"({"conversation":[]})" + "\n" +                              // 5 no known field
                         "{\"messages\":[{\"role\":\"user\",\"content\":\"bad \xff byte\"}]}\n" +  // 6 invalid UTF-8
                         chat("Q7", huge) + "\n" +                                      // 7 ok, truncated
                         chat("Why is the sky blue?", "Rayleigh scattering.") + "\n");  // 8 ok
  const auto r = prepare(data, "out", "--max-seq-length 64");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("8 records, 3 kept, 5 rejected, 1 truncated"));
  for (const char* line : {"mixed.jsonl:2:", "mixed.jsonl:3:", "mixed.jsonl:4:", "mixed.jsonl:5:", "mixed.jsonl:6:"})
    EXPECT_THAT(r.out, HasSubstr(line));
  EXPECT_THAT(r.out, Not(HasSubstr("mixed.jsonl:1:")));
  EXPECT_THAT(r.out, HasSubstr("empty model answer"));
  EXPECT_THAT(r.out, HasSubstr("unknown role \"robot\""));
  EXPECT_THAT(r.out, HasSubstr("UTF-8"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "train.bin"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "report.json"));

  // inspect: the same summary, and each example with its trained tokens between the markers: the answer's end
  // of turn and newline are trained, except where truncation cut them off (line 7).
  int whole_answers = 0;
  for (int e = 0; e < 3; ++e) {
    const auto ins = run_cli("data inspect " + (dir_ / "out").string() + " --example " + std::to_string(e));
    ASSERT_EQ(ins.rc, 0) << ins.out;
    EXPECT_THAT(ins.out, HasSubstr("3 kept, 5 rejected"));
    EXPECT_THAT(ins.out, HasSubstr("<start_of_turn>model\n\u27e6"));
    if (ins.out.find("<end_of_turn>\n\u27e7") != std::string::npos) ++whole_answers;
  }
  EXPECT_EQ(whole_answers, 2);
  const auto empty = run_cli("data inspect " + (dir_ / "out").string() + " --split validation");
  EXPECT_EQ(empty.rc, 0) << empty.out;
  EXPECT_THAT(empty.out, HasSubstr("validation.bin: 0 examples"));
  EXPECT_EQ(run_cli("data inspect " + (dir_ / "out").string() + " --example 3").rc, 1);  // out of range: said

  // A second run does not replace the prepared data unless asked to.
  const auto again = prepare(data, "out", "--max-seq-length 64");
  EXPECT_EQ(again.rc, 1);
  EXPECT_THAT(again.out, HasSubstr("--force"));
  EXPECT_EQ(prepare(data, "out", "--max-seq-length 64 --force").rc, 0);
}

TEST_F(CliData, NothingLeftIsAnErrorAndStrictStopsAtTheFirstReject) {
  const std::string bad = write("bad.jsonl", chat("Q", "") + "\nnot json\n");
  const auto r = prepare(bad, "none");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("bad.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none" / "train.bin"));

  const std::string mixed = write("strict.jsonl", chat("Q1", "A1") + "\n" + chat("Q2", "") + "\n" + chat("Q3", "A3") + "\n");
  const auto s = prepare(mixed, "strict", "--strict");
  EXPECT_EQ(s.rc, 1) << s.out;
  EXPECT_THAT(s.out, HasSubstr("strict.jsonl:2"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "strict" / "train.bin"));
}

}  // namespace
}  // namespace scitune
