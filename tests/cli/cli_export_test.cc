// `scitune export` as a user runs it: folder layout per format, the model card and Modelfile, refusing to
// overwrite, and bad input (unknown type, adapter that does not fit, disk full mid-write) leaving nothing behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_run.h"
#include "test_util.h"
#include "export/export_fixture.h"
#include "io/gguf.h"
#include "train/lora.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

class CliExport : public testing::ExportFixture {
 protected:
  void SetUp() override {
    out_ = root_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(out_);
    fs::create_directories(out_);
  }
  std::string args(const std::string& rest) const {
    return "-q export --model " + base().string() + " --adapter " + adapter().string() + " " + rest;
  }
  // Nothing but the listed names in out_ (no staging folders left over).
  void expect_only(std::initializer_list<std::string> names) const {
    std::vector<std::string> have;
    for (const auto& e : fs::directory_iterator(out_)) have.push_back(e.path().filename().string());
    std::sort(have.begin(), have.end());
    std::vector<std::string> want(names);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(have, want);
  }
  fs::path out_;
};

TEST_F(CliExport, GgufWithOllamaAndCard) {
  const fs::path dst = out_ / "q8";
  auto r = testing::run_cli(args("--format gguf --quant q8_0 --ollama --name tiny --out " + dst.string()));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(fs::exists(dst / "tiny-Q8_0.gguf"));
  EXPECT_EQ(GgufFile::open(dst / "tiny-Q8_0.gguf").get_u32("general.file_type"), 7u);
  EXPECT_NE(testing::read_text(dst / "Modelfile").find("FROM ./tiny-Q8_0.gguf"), std::string::npos);
  EXPECT_NE(testing::read_text(dst / "OLLAMA.md").find("ollama create tiny -f Modelfile"), std::string::npos);
  EXPECT_NE(testing::read_text(dst / "README.md").find("LoRA r 4"), std::string::npos);

  r = testing::run_cli(args("--format gguf --quant q8_0 --out " + dst.string()));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("already exists"), std::string::npos) << r.out;
  r = testing::run_cli(args("--format gguf --quant f16 --name tiny --force --out " + dst.string()));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(fs::exists(dst / "tiny-F16.gguf"));
  EXPECT_FALSE(fs::exists(dst / "tiny-Q8_0.gguf"));  // --force replaces the export as a whole
  expect_only({"q8"});
}

TEST_F(CliExport, PeftMergedAndLoraFolders) {
  auto r = testing::run_cli(args("--format peft --out " + (out_ / "peft").string()));
  ASSERT_EQ(r.rc, 0) << r.out;
  const LoraAdapter a = LoraAdapter::load(out_ / "peft", config());
  EXPECT_EQ(a.modules().size(), static_cast<size_t>(7 * config().num_hidden_layers));
  EXPECT_TRUE(fs::exists(out_ / "peft/README.md"));

  r = testing::run_cli(args("--format merged --dtype f16 --out " + (out_ / "merged").string()));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(testing::read_text(out_ / "merged/config.json").find("\"float16\""), std::string::npos);
  EXPECT_TRUE(fs::exists(out_ / "merged/model.safetensors"));
  EXPECT_TRUE(fs::exists(out_ / "merged/tokenizer.model"));

  r = testing::run_cli(args("--format gguf-lora --dtype bf16 --name t --out " + (out_ / "lora").string()));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(GgufFile::open(out_ / "lora/t-lora-BF16.gguf").get_string("general.type"), "adapter");
}

TEST_F(CliExport, BadInputIsNamedAndLeavesNothing) {
  const std::string dst = (out_ / "x").string();
  struct Case {
    std::string args, message;
  } cases[] = {
      {args("--format gguf --quant q3_k_xl --out " + dst), "unknown GGUF type \"q3_k_xl\""},
      {args("--format onnx --out " + dst), "expected peft, merged, gguf or gguf-lora"},
      {args("--format merged --ollama --out " + dst), "--ollama needs --format gguf"},
      {args("--format gguf --quant q4_k_m --imatrix im.gguf --out " + dst), "--imatrix"},
      {args("--format merged --dtype f8 --out " + dst), "--dtype"},
      {"-q export --model " + base().string() + " --format gguf-lora --out " + dst, "needs --adapter"},
      {"-q export --model " + (out_ / "none").string() + " --format gguf --out " + dst, "no such file or folder"},
  };
  for (const Case& c : cases) {
    const auto r = testing::run_cli(c.args);
    EXPECT_EQ(r.rc, 1) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
  }
  // An adapter made for another model shape.
  ModelConfig other = config();
  other.intermediate_size = 96;
  LoraAdapter::create(other, LoraConfig{}, 1).save(out_ / "wrong");
  const auto r = testing::run_cli("-q export --model " + base().string() + " --adapter " + (out_ / "wrong").string() +
                                  " --format merged --out " + dst);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("has shape"), std::string::npos) << r.out;
  expect_only({"wrong"});
}

TEST_F(CliExport, DiskFullMidWriteLeavesNothing) {
  // A file-size limit makes write() fail with EFBIG part-way through, as a full disk would.
  const std::string cmd = "sh -c 'ulimit -f 64; trap \"\" XFSZ; exec " + std::string(SCITUNE_BIN) + " " +
                          args("--format gguf --quant f32 --out " + (out_ / "full").string()) + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("full"), std::string::npos) << out;
  expect_only({});
}

}  // namespace
}  // namespace scitune
