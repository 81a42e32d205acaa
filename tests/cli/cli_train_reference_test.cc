// `scitune train` reproduces a float64 PyTorch reference run step by step (tests/golden/sft_reference, made by
// tools/oracle/make_sft_fixture.py + reference_sft.py, which checks itself against transformers.Trainer): the same
// random tiny Gemma 3, initial PEFT adapter, pre-tokenised data in the same order and hyper-parameters, with
// gradient accumulation (and a short last step per epoch), warmup + cosine decay, weight decay and clipping on some
// of the steps. Every step's loss, learning_rate and grad_norm must agree within 1e-3 relative.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_run.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

const fs::path kFixture = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/sft_reference";
constexpr double kMaxGradNorm = 1.2;

std::vector<nlohmann::json> read_jsonl(const fs::path& p) {
  std::vector<nlohmann::json> v;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  return v;
}

double rel_diff(double ref, double got) { return ref == got ? 0.0 : std::fabs(got - ref) / std::fabs(ref); }

class CliTrainReference : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(out_); }
  fs::path out_ = fs::temp_directory_path() / ("scitune_train_reference_" + std::to_string(::getpid()));
};

TEST_F(CliTrainReference, EveryStepMatchesTheFloat64Reference) {
  fs::remove_all(out_);
  const std::vector<nlohmann::json> ref = read_jsonl(kFixture / "reference_log.jsonl");
  ASSERT_GE(ref.size(), 30u);
  // The fixture exercises both sides of clipping and the zero-lr first update.
  int clipped = 0;
  for (const auto& r : ref) clipped += r["grad_norm"].get<double>() > kMaxGradNorm;
  EXPECT_GT(clipped, 0);
  EXPECT_LT(clipped, static_cast<int>(ref.size()));
  EXPECT_EQ(ref[0]["learning_rate"].get<double>(), 0.0);

  const std::string args =
      "train --model " + (kFixture / "model").string() + " --data " + (kFixture / "data.jsonl").string() +
      " --data-format tokens --shuffle false --init-adapter " + (kFixture / "adapter").string() + " --output-dir " +
      out_.string() +
      " --per-device-train-batch-size 2 --gradient-accumulation-steps 3 --learning-rate 5e-3"
      " --lr-scheduler-type cosine --warmup-steps 4 --num-train-epochs 5 --weight-decay 0.1 --max-grad-norm 1.2"
      " --seed 42 --save-steps 1000 -q";
  const auto r = run_cli(args);
  ASSERT_EQ(r.rc, 0) << r.out;
  std::vector<nlohmann::json> got;
  for (auto& j : read_jsonl(out_ / "train_log.jsonl"))
    if (j.contains("loss")) got.push_back(std::move(j));
  ASSERT_EQ(got.size(), ref.size());
  double worst[3] = {0, 0, 0};
  const char* keys[3] = {"loss", "learning_rate", "grad_norm"};
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(got[i]["step"].get<int64_t>(), ref[i]["step"].get<int64_t>());
    for (int k = 0; k < 3; ++k) {
      const double want = ref[i][keys[k]].get<double>(), have = got[i][keys[k]].get<double>();
      const double d = rel_diff(want, have);
      worst[k] = std::max(worst[k], d);
      EXPECT_LE(d, 1e-3) << "step " << i + 1 << " " << keys[k] << ": scitune " << have << ", reference " << want;
    }
  }
  std::printf("max relative difference over %zu steps: loss %.2e, learning_rate %.2e, grad_norm %.2e\n", ref.size(),
              worst[0], worst[1], worst[2]);
}

}  // namespace
}  // namespace scitune
