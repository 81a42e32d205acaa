// `scitune train` end to end on a random tiny model with Gemma 3's real vocabulary: the log, the adapters, the
// schedule, resuming from a checkpoint bit for bit, and its input errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_run.h"
#include "io/safetensors.h"
#include "test_util.h"
#include "train/lora.h"
#include "train_fixture.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

class CliTrain : public testing::TrainCliTest {
 protected:
  CliTrain() : TrainCliTest("scitune_train_") {}
  fs::path data() {
    const fs::path p = tmp("data.jsonl");
    testing::write_science_qa_jsonl(p);
    return p;
  }
  static std::vector<nlohmann::json> log_lines(const fs::path& out) {
    return testing::read_jsonl_lines(out / "train_log.jsonl");
  }
  // `part` becomes a run that stopped after its step-2 checkpoint: that checkpoint and the first two log lines of
  // `full`.
  static void stopped_after_step_2(const fs::path& full, const fs::path& part) {
    fs::create_directories(part);
    fs::copy(full / "checkpoint-2", part / "checkpoint-2", fs::copy_options::recursive);
    std::ifstream in(full / "train_log.jsonl");
    std::ofstream outf(part / "train_log.jsonl");
    std::string line;
    for (int i = 0; i < 2 && std::getline(in, line); ++i) outf << line << "\n";
  }
  // Every logged step of the two runs has the same loss and grad_norm, bit for bit.
  static void expect_same_losses(const fs::path& full, const fs::path& part) {
    const auto a = log_lines(full), b = log_lines(part);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i]["loss"].get<double>(), b[i]["loss"].get<double>()) << "step " << i + 1;
      EXPECT_EQ(a[i]["grad_norm"].get<double>(), b[i]["grad_norm"].get<double>()) << "step " << i + 1;
    }
  }
  std::string common(const fs::path& d, const fs::path& out) {
    return "train --model " + model() + " --data " + d.string() + " --output-dir " + out.string() +
           " --per-device-train-batch-size 2 --gradient-accumulation-steps 2 --learning-rate 1e-2"
           " --lr-scheduler-type cosine --warmup-steps 1 --r 4 --lora-alpha 8 --logging-steps 1 -q";
  }
};

TEST_F(CliTrain, WritesALogPerStepAndLoadableAdapters) {
  const fs::path d = data(), out = tmp("run");
  auto r = run_cli(common(d, out) + " --max-steps 3 --save-steps 2");
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto lines = log_lines(out);
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["step"], i + 1);
    EXPECT_TRUE(std::isfinite(lines[i]["loss"].get<double>()));
    EXPECT_GT(lines[i]["grad_norm"].get<double>(), 0.0);
  }
  // Cosine with 1 warmup step over 3: the first update uses lambda(0) = 0, then 1, then 0.5 (HF's LambdaLR).
  EXPECT_EQ(lines[0]["learning_rate"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(lines[1]["learning_rate"].get<double>(), 1e-2);
  EXPECT_NEAR(lines[2]["learning_rate"].get<double>(), 0.5e-2, 1e-12);
  EXPECT_TRUE(fs::exists(out / "checkpoint-2/trainer_state.json"));
  EXPECT_TRUE(fs::exists(out / "train_config.yaml"));
  LoraAdapter a = LoraAdapter::load(out / "adapter", session().weights.config);
  EXPECT_EQ(a.config().r, 4);
  double sum_b = 0;
  for (const auto& m : a.modules())
    for (float x : m.B) sum_b += std::fabs(x);
  EXPECT_GT(sum_b, 0.0) << "B moved away from its zero init";
  // A second run into the same folder must not silently replace the first.
  auto again = run_cli(common(d, out) + " --max-steps 3");
  EXPECT_EQ(again.rc, 1) << again.out;
  EXPECT_NE(again.out.find("--resume"), std::string::npos) << again.out;
}

TEST_F(CliTrain, ResumedRunMatchesTheUninterruptedOneBitForBit) {
  const fs::path d = data(), full = tmp("full"), part = tmp("part");
  ASSERT_EQ(run_cli(common(d, full) + " --max-steps 5 --save-steps 2").rc, 0);
  stopped_after_step_2(full, part);
  auto r = run_cli(common(d, part) + " --max-steps 5 --save-steps 2 --resume");
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_same_losses(full, part);
}

// optim adamw_8bit (bitsandbytes' 8-bit AdamW): r 128 on this model makes LoRA tensors of 2048..8192 elements, so
// both the 8-bit states (codes + absmax) and the fp32 ones of tensors under 4096 elements go through a checkpoint.
TEST_F(CliTrain, EightBitAdamWResumesBitForBit) {
  const fs::path d = data(), full = tmp("full8"), part = tmp("part8");
  std::string args = common(d, full);
  const std::string rank = " --r 4 --lora-alpha 8";
  args.replace(args.find(rank), rank.size(), " --r 128 --lora-alpha 16");
  args += " --optim adamw_8bit --weight-decay 0.01 --max-steps 4 --save-steps 2";
  auto r = run_cli(args);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("optimizer: adamw_8bit, states "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(fp32 would be "), std::string::npos) << r.out;
  {
    const SafetensorsFile opt(full / "checkpoint-2/optimizer.safetensors");
    EXPECT_EQ(opt.metadata().at("optim"), "adamw_8bit");
    size_t u8 = 0, f32 = 0;
    for (const auto& t : opt.tensors()) (t.dtype == DType::U8 ? u8 : f32) += t.name.rfind("state", 0) == 0;
    EXPECT_GT(u8, 0u);
    EXPECT_GT(f32, 0u);
  }
  stopped_after_step_2(full, part);
  std::string resume = args;
  resume.replace(resume.find(full.string()), full.string().size(), part.string());
  // The 8-bit state cannot continue as torch's AdamW.
  std::string wrong = resume;
  wrong.replace(wrong.find("adamw_8bit"), 10, "adamw_torch");
  r = run_cli(wrong + " --resume");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("holds adamw_8bit optimizer state"), std::string::npos) << r.out;
  r = run_cli(resume + " --resume");
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_same_losses(full, part);
  EXPECT_EQ(testing::read_text(part / "adapter/adapter_model.safetensors"),
            testing::read_text(full / "adapter/adapter_model.safetensors"));
}

TEST_F(CliTrain, BadConfigAndDataAreNamed) {
  const fs::path d = data(), cfg = tmp("cfg.yaml");
  std::ofstream(cfg) << "learning_rate: 1e-4\nlerning_rate: 2\n";
  auto r = run_cli("train --config " + cfg.string() + " --model " + model() + " --data " + d.string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("unknown key \"lerning_rate\""), std::string::npos) << r.out;
  const fs::path bad = tmp("bad.jsonl");
  std::ofstream(bad) << "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n{not json\n";
  r = run_cli("train --model " + model() + " --data " + bad.string() + " --output-dir " + tmp("o").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("bad.jsonl"), std::string::npos) << r.out;
  r = run_cli("train --model " + model() + " --data " + d.string() + " --gradient-accumulation-steps 0");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("gradient_accumulation_steps"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace scitune
