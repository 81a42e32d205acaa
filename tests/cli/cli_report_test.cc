// `scitune report` as a user runs it: the default page in the run folder (replaced on a second run), --out
// refused when it exists unless --force, malformed log lines as warnings that do not stop the page, and
// exit code 1 for a folder that is not a run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_run.h"
#include "test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

class CliReport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("scitune_cli_report_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "run");
    write("run/train_log.jsonl",
          "{\"epoch\":0.1,\"grad_norm\":2.6,\"learning_rate\":0.001,\"loss\":4.07,\"peak_memory_mb\":651.1,\"step\":1,"
          "\"tokens_per_second\":131.1}\n"
          "{\"epoch\":0.2,\"grad_norm\":2.5,\"learning_rate\":0.0009,\"loss\":3.85,\"peak_memory_mb\":658.3,\"step\":2,"
          "\"tokens_per_second\":140.6}\n"
          "{\"eval_loss\":3.9,\"eval_perplexity\":49.4,\"step\":2}\n");
    write("run/train_config.yaml", "model: tiny.gguf\nlearning_rate: 0.001\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::string run() const { return (dir_ / "run").string(); }
  fs::path dir_;
};

TEST_F(CliReport, WritesThePageInTheRunFolderAndReplacesIt) {
  auto r = run_cli("report " + run());
  ASSERT_EQ(r.rc, 0) << r.out;
  const fs::path page = dir_ / "run/report.html";
  EXPECT_NE(r.out.find("wrote " + page.string()), std::string::npos) << r.out;
  const std::string html = testing::read_text(page);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("data-series=\"train loss\" data-points=\"2\""), std::string::npos);
  EXPECT_NE(html.find("tiny.gguf"), std::string::npos);
  r = run_cli("-q report " + run());  // its own page: replaced without --force
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(testing::read_text(page), html);
}

TEST_F(CliReport, OutIsNotOverwrittenWithoutForce) {
  const fs::path out = dir_ / "mine.html";
  write("mine.html", "my notes");
  auto r = run_cli("report " + run() + " --out " + out.string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("already exists"), std::string::npos) << r.out;
  EXPECT_EQ(testing::read_text(out), "my notes");
  r = run_cli("report " + run() + " --out " + out.string() + " --force");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(testing::read_text(out).find("<svg"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "run/report.html"));
}

TEST_F(CliReport, MalformedLinesAreWarningsNotFailures) {
  write("run/train_log.jsonl", "{\"step\":1,\"loss\":2.0}\n{oops\n{\"step\":2,\"loss\":1.5}\n");
  auto r = run_cli("report " + run());
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("warning: " + run() + "/train_log.jsonl:2: invalid JSON"), std::string::npos) << r.out;
  EXPECT_NE(testing::read_text(dir_ / "run/report.html").find("train_log.jsonl:2: invalid JSON"), std::string::npos);
}

TEST_F(CliReport, NotARunFolderIsExitCodeOne) {
  auto r = run_cli("report " + (dir_ / "nope").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("not a folder"), std::string::npos) << r.out;
  fs::create_directories(dir_ / "empty");
  r = run_cli("report " + (dir_ / "empty").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("no train_log.jsonl"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "empty/report.html"));
  r = run_cli("report");
  EXPECT_EQ(r.rc, 1) << r.out;
  r = run_cli("report --help");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("--out"), std::string::npos);
  EXPECT_NE(r.out.find("--force"), std::string::npos);
}

}  // namespace
}  // namespace scitune
