// `scitune demo` on the real model (skipped when it is not in the cache) and its error path.
#include <gtest/gtest.h>

#include "cli_run.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include "util/paths.h"

namespace {

namespace fs = std::filesystem;

using Run = scitune::testing::CliRun;
Run run(const std::string& args) { return scitune::testing::run_cli(args); }

// A short run of the whole job: evaluate, answer, train two steps, evaluate, answer, save a PEFT adapter.
TEST(CliDemo, TrainsTheRealModelBrieflyAndSavesTheAdapter) {
  if (!fs::exists(scitune::default_model_path())) GTEST_SKIP() << "real model not in the cache";
  const fs::path out = fs::temp_directory_path() / ("scitune-demo-test-" + std::to_string(::getpid()));
  auto r = run("demo --max-steps 2 --holdout 3 --questions 1 --max-new-tokens 3 --output-dir " + out.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("held-out loss before training"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("step   2/2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  before:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  after:"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(out / "adapter/adapter_config.json"));
  EXPECT_TRUE(fs::exists(out / "adapter/adapter_model.safetensors"));
  // A run folder like `scitune train` makes, with its report.
  EXPECT_TRUE(fs::exists(out / "train_log.jsonl"));
  EXPECT_TRUE(fs::exists(out / "train_config.yaml"));
  EXPECT_TRUE(fs::exists(out / "eval/eval_results.jsonl"));
  EXPECT_TRUE(fs::exists(out / "eval/compare.jsonl"));
  EXPECT_TRUE(fs::exists(out / "report.html"));
  EXPECT_NE(r.out.find("report: "), std::string::npos) << r.out;
  fs::remove_all(out);
}

TEST(CliDemo, MissingModelSaysHowToGetIt) {
  auto r = run("demo --model /no/such/model.gguf");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("scripts/setup.sh"), std::string::npos) << r.out;
}

}  // namespace
