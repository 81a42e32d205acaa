// `scitune demo` on the real model (skipped when it is not in the cache) and its error path.
#include <gtest/gtest.h>

#include "cli_run.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include "util/paths.h"

namespace {

namespace fs = std::filesystem;

using Run = scitune::testing::CliRun;
Run run(const std::string& args) { return scitune::testing::run_cli(args); }

TEST(CliDemo, AnswersAHeldOutQuestionWithTheRealModel) {
  if (!fs::exists(scitune::default_model_path())) GTEST_SKIP() << "real model not in the cache";
  auto r = run("demo --questions 1 --max-new-tokens 3");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Q: What is the difference between mass and weight?"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(3 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not in this build yet"), std::string::npos) << r.out;
}

TEST(CliDemo, MissingModelSaysHowToGetIt) {
  auto r = run("demo --model /no/such/model.gguf");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("scripts/setup.sh"), std::string::npos) << r.out;
}

}  // namespace
