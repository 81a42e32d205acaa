// `scitune eval` and `scitune compare` on a tiny random model with Gemma 3's real vocabulary: results per split,
// the loss equal to `scitune score` on the same example, byte-identical output for the same command, answers
// side by side, and named bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "cli/cli_run.h"
#include "test_util.h"
#include "cli/real_vocab_model.h"
#include "data/example_cache.h"
#include "io/safetensors.h"
#include "train/lora.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

class CliEval : public testing::RealVocabModel {
 protected:
  void SetUp() override {
    RealVocabModel::SetUp();
    if (IsSkipped()) return;
    dir_ = fs::temp_directory_path() / ("scitune_cli_eval_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream qa(dir_ / "qa.jsonl");
    const char* pairs[][2] = {{"What gas do plants absorb?", "Carbon dioxide."}, {"What is H2O?", "Water."},
                              {"How many legs has a spider?", "Eight."},        {"What orbits the Earth?", "The Moon."},
                              {"What is the speed of light?", "About 300,000 km/s."},
                              {"Which planet is red?", "Mars."}, {"What do bees make?", "Honey."}};
    for (const auto& p : pairs)
      qa << R"({"messages": [{"role": "user", "content": ")" << p[0]
         << R"("}, {"role": "assistant", "content": ")" << p[1] << R"("}]})" << "\n";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string prepare() {
    const auto r = testing::run_cli("-q data prepare --data " + (dir_ / "qa.jsonl").string() + " --tokenizer " + model() +
                                    " --out " + (dir_ / "d").string() + " --val-count 2 --holdout-count 2");
    EXPECT_EQ(r.rc, 0) << r.out;
    return (dir_ / "d").string();
  }
  fs::path dir_;
};

TEST_F(CliEval, SplitsLossEqualToScoreAndDeterministic) {
  const std::string data = prepare();
  const std::string cmd = "-q eval --model " + model() + " --data " + data + " --max-new-tokens 6 --batch 3 --out " +
                          (dir_ / "o").string();
  auto r = testing::run_cli(cmd);
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string rows = testing::read_text(dir_ / "o/eval_results.jsonl"), preds = testing::read_text(dir_ / "o/predictions.jsonl");
  std::vector<nlohmann::json> js;
  std::istringstream in(rows);
  for (std::string line; std::getline(in, line);) js.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(js.size(), 2u);
  EXPECT_EQ(js[0]["split"], "validation");
  EXPECT_EQ(js[1]["split"], "holdout");
  EXPECT_EQ(js[0]["examples"], 2);
  EXPECT_EQ(js[0]["answered"], 2);
  EXPECT_TRUE(js[0].contains("rouge_l_ci"));
  EXPECT_EQ(std::count(preds.begin(), preds.end(), '\n'), 4);

  // The same command again: byte-identical files; without --force it refuses.
  r = testing::run_cli(cmd);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("already exists"), std::string::npos) << r.out;
  r = testing::run_cli(cmd + " --force");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(testing::read_text(dir_ / "o/eval_results.jsonl"), rows);
  EXPECT_EQ(testing::read_text(dir_ / "o/predictions.jsonl"), preds);

  // Loss over the validation split == scitune score's HF loss on the same two examples (one at a time, token-
  // weighted: the eval loss is the mean over all scored tokens of the split).
  const auto ex = ExampleCache(fs::path(data) / "validation.bin").examples();
  double sum = 0;
  int64_t count = 0;
  for (size_t i = 0; i < ex.size(); ++i) {
    const int64_t T = static_cast<int64_t>(ex[i].input_ids.size());
    std::vector<int64_t> ids(ex[i].input_ids.begin(), ex[i].input_ids.end()), labels = ex[i].labels;
    const fs::path in_f = dir_ / ("in" + std::to_string(i) + ".safetensors"), out_f = dir_ / ("out" + std::to_string(i) + ".safetensors");
    write_safetensors(in_f, {{{"input_ids", DType::I64, {1, T}}, {reinterpret_cast<const uint8_t*>(ids.data()), ids.size() * 8}},
                             {{"labels", DType::I64, {1, T}}, {reinterpret_cast<const uint8_t*>(labels.data()), labels.size() * 8}}});
    r = testing::run_cli("-q score --model " + model() + " --input " + in_f.string() + " --output " + out_f.string());
    ASSERT_EQ(r.rc, 0) << r.out;
    int64_t n = 0;
    for (size_t t = 1; t < labels.size(); ++t) n += labels[t] != -100;
    sum += SafetensorsFile(out_f).tensor("loss").to_f32()[0] * static_cast<double>(n);
    count += n;
  }
  EXPECT_NEAR(js[0]["loss"].get<double>(), sum / static_cast<double>(count), 1e-5);
}

TEST_F(CliEval, CompareWritesBothAnswers) {
  LoraConfig lc;
  lc.r = 2;
  LoraAdapter a = LoraAdapter::create(session().weights.config, lc, 1);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  for (LoraModule& m : a.modules())
    for (float& b : m.B) b = nd(rng);
  a.save(dir_ / "run/adapter");
  std::ofstream(dir_ / "q.txt") << "What is DNA?\n\nWhy is the sky blue?\n";
  auto r = testing::run_cli("-q compare --model " + model() + " --adapter " + (dir_ / "run/adapter").string() +
                            " --questions " + (dir_ / "q.txt").string() + " --max-new-tokens 5 --greedy");
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string jsonl = testing::read_text(dir_ / "run/eval/compare.jsonl");
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 2);
  const auto first = nlohmann::json::parse(jsonl.substr(0, jsonl.find('\n')));
  EXPECT_EQ(first["question"], "What is DNA?");
  EXPECT_TRUE(first.contains("base") && first.contains("fine_tuned"));
  EXPECT_NE(testing::read_text(dir_ / "run/eval/compare.html").find("<th>fine-tuned</th>"), std::string::npos);
}

TEST_F(CliEval, ScholarQaBenchTask) {
  std::ofstream(dir_ / "scifact.jsonl")
      << R"({"input": "Aspirin lowers fever.", "gold_ctx": [{"title": "Antipyretics", "text": "Aspirin reduces fever."}], "answer": "true"})"
      << "\n"
      << R"({"input": "Water boils at 20 C at sea level.", "gold_ctx": [{"title": "Water", "text": "Water boils at 100 C."}], "answer": "false"})"
      << "\n";
  auto r = testing::run_cli("-q eval --model " + model() + " --benchmark scifact --file " + (dir_ / "scifact.jsonl").string() +
                            " --max-new-tokens 3 --out " + (dir_ / "b").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto row = nlohmann::json::parse(testing::read_text(dir_ / "b/eval_results.jsonl"));
  EXPECT_EQ(row["split"], "scifact");
  EXPECT_EQ(row["metric"], "accuracy");
  EXPECT_EQ(row["examples"], 2);
  EXPECT_TRUE(row.contains("accuracy_ci"));
  const std::string preds = testing::read_text(dir_ / "b/predictions.jsonl");
  EXPECT_EQ(std::count(preds.begin(), preds.end(), '\n'), 2);
  r = testing::run_cli("-q eval --model " + model() + " --benchmark sciq --file " + (dir_ / "scifact.jsonl").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("sciq"), std::string::npos) << r.out;
  r = testing::run_cli("-q eval --model " + model() + " --benchmark pubmedqa");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("needs --file"), std::string::npos) << r.out;
  r = testing::run_cli("-q eval --model " + model() + " --benchmark pubmedqa --file " + (dir_ / "scifact.jsonl").string() +
                       " --out " + (dir_ / "c").string());
  EXPECT_EQ(r.rc, 1) << r.out;  // a SciFact file is not PubMedQA: its labels are named
}

TEST_F(CliEval, PlainTextIsScoredAsLlamaPerplexityDoes) {
  std::ofstream(dir_ / "t.txt") << "We hold these truths to be self-evident, that all men are created equal, that they "
                                   "are endowed by their Creator with certain unalienable Rights, that among these are "
                                   "Life, Liberty and the pursuit of Happiness.\n";
  auto r = testing::run_cli("-q eval --model " + model() + " --data " + (dir_ / "t.txt").string() + " --ctx 16 --out " +
                            (dir_ / "o").string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto row = nlohmann::json::parse(testing::read_text(dir_ / "o/eval_results.jsonl"));
  const auto p = testing::run_cli("perplexity --model " + model() + " --file " + (dir_ / "t.txt").string() + " --ctx 16");
  ASSERT_EQ(p.rc, 0) << p.out;
  const size_t at = p.out.find("Final estimate: PPL = ");
  ASSERT_NE(at, std::string::npos) << p.out;
  EXPECT_NEAR(row["perplexity"].get<double>(), std::stod(p.out.substr(at + 22)), 1e-3);
  EXPECT_EQ(row["split"], "text");
}

TEST_F(CliEval, BadInputIsNamed) {
  const std::string data = prepare();
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--data " + data + " --split train,bogus", "--split bogus: expected train, validation or holdout"},
      {"--data " + (dir_ / "nothing").string(), "no such file or folder"},
      {"--data " + (dir_ / "qa.jsonl").string() + " --split validation", "--split applies to a prepared folder"},
      {"--data " + data + " --batch 0", "--batch must be at least 1"},
  };
  for (const Case& c : cases) {
    const auto r = testing::run_cli("-q eval --model " + model() + " " + c.args + " --out " + (dir_ / "o").string());
    EXPECT_EQ(r.rc, 1) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
  }
  fs::remove(fs::path(data) / "holdout.bin");
  auto r = testing::run_cli("-q eval --model " + model() + " --data " + data + " --split holdout --out " + (dir_ / "o").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("holdout.bin: missing"), std::string::npos) << r.out;
  std::ofstream(dir_ / "bad.jsonl") << "{\"question\": 3}\n";
  r = testing::run_cli("-q compare --model " + model() + " --adapter " + (dir_ / "x").string() + " --questions " +
                       (dir_ / "bad.jsonl").string() + " --out " + (dir_ / "c").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("bad.jsonl:1: expected {\"question\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace scitune
