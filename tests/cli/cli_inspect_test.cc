// The scitune binary as a user runs it: --version, --help everywhere, inspect on every format, exit codes.
#include <gtest/gtest.h>

#include "cli_run.h"

#include <array>
#include <cstdio>
#include <string>

namespace {

using Run = scitune::testing::CliRun;
Run run(const std::string& args) { return scitune::testing::run_cli(args); }

const std::string kShared = SCITUNE_SHARED_DIR;
const std::string kSource = SCITUNE_SOURCE_DIR;

TEST(Cli, VersionAndHelpForEveryCommand) {
  auto v = run("--version");
  EXPECT_EQ(v.rc, 0);
  EXPECT_NE(v.out.find("scitune "), std::string::npos);
  auto h = run("--help");
  EXPECT_EQ(h.rc, 0);
  for (const char* cmd : {"inspect", "init"}) {
    EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd;
    auto ch = run(std::string(cmd) + " --help");
    EXPECT_EQ(ch.rc, 0) << cmd;
    EXPECT_NE(ch.out.find("Usage"), std::string::npos) << cmd;
  }
}

TEST(Cli, NoCommandOrUnknownFlagIsAUserError) {
  EXPECT_EQ(run("").rc, 1);
  EXPECT_EQ(run("inspect --no-such-flag x").rc, 1);
}

TEST(Cli, InspectsHfFolderAdapterSafetensorsAndGguf) {
  auto folder = run("inspect " + kShared + "/golden/gemma3-tiny/model");
  ASSERT_EQ(folder.rc, 0) << folder.out;
  EXPECT_NE(folder.out.find("Gemma3ForCausalLM"), std::string::npos);
  EXPECT_NE(folder.out.find("model.layers.3.mlp.down_proj.weight"), std::string::npos);
  auto mm = run("inspect " + kSource + "/tests/golden/gemma3/multimodal-seed3/model --no-tensors");
  ASSERT_EQ(mm.rc, 0) << mm.out;
  EXPECT_NE(mm.out.find("multimodal wrapper"), std::string::npos);
  auto adapter = run("inspect " + kShared + "/golden/gemma3-tiny/adapter");
  ASSERT_EQ(adapter.rc, 0) << adapter.out;
  EXPECT_NE(adapter.out.find("PEFT adapter"), std::string::npos);
  EXPECT_NE(adapter.out.find("lora_A.weight"), std::string::npos);
  auto st = run("inspect " + kShared + "/golden/gemma3-tiny/golden.safetensors");
  ASSERT_EQ(st.rc, 0) << st.out;
  EXPECT_NE(st.out.find("loss_lora"), std::string::npos);
  auto gguf = run("inspect " + kSource + "/tests/golden/gguf/tiny_q8_0.gguf");
  ASSERT_EQ(gguf.rc, 0) << gguf.out;
  EXPECT_NE(gguf.out.find("gemma3.block_count"), std::string::npos);
  EXPECT_NE(gguf.out.find("blk.0.attn_q.weight"), std::string::npos);
}

TEST(Cli, InspectBadInputsExitOneWithOneLineNamingTheFile) {
  for (const std::string& path : {std::string("/no/such/file.gguf"), kSource + "/README.md", kSource + "/tests"}) {
    auto r = run("inspect " + path);
    EXPECT_EQ(r.rc, 1) << path << ": " << r.out;
    EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(path), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line: " << r.out;
  }
}

}  // namespace
