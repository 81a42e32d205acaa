// `scitune score` end to end on HF golden cases: the loss it writes equals transformers' (1e-5 relative).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "io/safetensors.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

int run(const std::string& args) {
  int status = std::system((std::string(SCITUNE_BIN) + " --quiet " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CliScore, LossAndLogitsMatchGoldenAndOutputIsNeverClobbered) {
  const fs::path out = fs::temp_directory_path() / ("scitune_score_" + std::to_string(::getpid()) + ".safetensors");
  fs::remove(out);
  for (const char* c : {"v5-seed1", "padded-seed5"}) {
    const fs::path dir = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3" / c;
    ASSERT_EQ(run("score --force --model " + (dir / "model").string() + " --input " +
                  (dir / "golden.safetensors").string() + " --output " + out.string()),
              0);
    SafetensorsFile got(out), ref(dir / "golden.safetensors");
    const double loss = got.tensor("loss").to_f32()[0], want = ref.tensor("loss").to_f32()[0];
    EXPECT_LE(std::fabs(loss - want) / want, 1e-5) << c;
    EXPECT_EQ(got.tensor("logits").numel(), ref.tensor("logits").numel());
  }
  const auto before = fs::last_write_time(out);
  EXPECT_EQ(run("score --model x --input y --output " + out.string()), 1);  // exists, no --force
  EXPECT_EQ(fs::last_write_time(out), before);
  fs::remove(out);
  EXPECT_EQ(run("score --model " + std::string(SCITUNE_SOURCE_DIR) + "/README.md --input " +
                std::string(SCITUNE_SOURCE_DIR) + "/tests/golden/gemma3/v5-seed1/golden.safetensors --output " +
                out.string()),
            1);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace scitune
