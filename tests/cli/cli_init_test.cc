// `scitune init` as a user runs it: writes a loadable folder, is deterministic, never clobbers silently.
#include <gtest/gtest.h>

#include "cli_run.h"
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

using Run = scitune::testing::CliRun;
Run run(const std::string& args) { return scitune::testing::run_cli(args); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliInit : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("scitune_cli_init_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(CliInit, TinyPresetIsInspectableAndDeterministic) {
  auto a = run("--quiet init --preset tiny --seed 7 --out " + (dir_ / "a").string());
  ASSERT_EQ(a.rc, 0) << a.out;
  auto b = run("--quiet init --preset tiny --seed 7 --out " + (dir_ / "b").string());
  ASSERT_EQ(b.rc, 0) << b.out;
  auto c = run("--quiet init --preset tiny --seed 8 --out " + (dir_ / "c").string());
  ASSERT_EQ(c.rc, 0) << c.out;
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors"})
    ASSERT_TRUE(fs::exists(dir_ / "a" / f)) << f;
  EXPECT_EQ(slurp(dir_ / "a/model.safetensors"), slurp(dir_ / "b/model.safetensors"));
  EXPECT_NE(slurp(dir_ / "a/model.safetensors"), slurp(dir_ / "c/model.safetensors"));
  auto inspect = run("inspect " + (dir_ / "a").string());
  ASSERT_EQ(inspect.rc, 0) << inspect.out;
  EXPECT_NE(inspect.out.find("Gemma3ForCausalLM"), std::string::npos);
}

TEST_F(CliInit, RefusesNonEmptyFolderWithoutForceAndKeepsUserFiles) {
  fs::create_directories(dir_ / "x");
  std::ofstream(dir_ / "x/notes.txt") << "mine";
  auto r = run("--quiet init --preset tiny --out " + (dir_ / "x").string());
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find((dir_ / "x").string()), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "x/model.safetensors"));
  auto f = run("--quiet init --preset tiny --force --out " + (dir_ / "x").string());
  EXPECT_EQ(f.rc, 0) << f.out;
  EXPECT_EQ(slurp(dir_ / "x/notes.txt"), "mine");
  EXPECT_TRUE(fs::exists(dir_ / "x/model.safetensors"));
}

TEST_F(CliInit, BadPresetAndDtypeAreUserErrors) {
  EXPECT_EQ(run("init --preset gemma9 --out " + (dir_ / "y").string()).rc, 1);
  EXPECT_EQ(run("init --preset tiny --dtype q3 --out " + (dir_ / "y").string()).rc, 1);
  EXPECT_FALSE(fs::exists(dir_ / "y/model.safetensors"));
}

}  // namespace
