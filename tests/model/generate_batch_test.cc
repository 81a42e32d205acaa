// generate_batch(): several prompts decoded together give each prompt's own generate() result (greedy and
// seeded sampling), and forward_cached_batch() gives the hidden states of one-at-a-time decoding.
#include "model/generate_batch.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/load.h"
#include "test_util.h"

namespace scitune {
namespace {

class GenerateBatch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    loaded_ = new LoadedGemma3(
        load_model_fp32(std::filesystem::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3/padded-seed5/model"));
  }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }
  static inline LoadedGemma3* loaded_ = nullptr;
  Gemma3 model() { return Gemma3(loaded_->config, loaded_->weights); }
  // Different lengths, so the sequences sit at different positions in every step.
  const std::vector<std::vector<int32_t>> prompts_ = {
      {2, 105, 300, 301, 302, 107}, {2, 7, 9}, {2, 105, 420, 421, 422, 423, 424, 425, 426, 107, 105}, {2, 11}};
};

TEST_F(GenerateBatch, EqualsOneAtATime) {
  for (bool sample : {false, true}) {
    GenerateOptions o;
    o.max_new_tokens = 24;
    o.sampling.do_sample = sample;
    o.sampling.temperature = 1.0;
    o.sampling.seed = 17;
    o.stop_ids = {1};
    Gemma3 m = model();
    const auto batch = generate_batch(m, prompts_, o);
    ASSERT_EQ(batch.size(), prompts_.size());
    for (size_t b = 0; b < prompts_.size(); ++b) {
      GenerateOptions one = o;
      one.sampling.seed = o.sampling.seed + b;
      const GenerateResult r = generate(m, prompts_[b], one);
      EXPECT_EQ(batch[b].ids, r.ids) << "prompt " << b << (sample ? " sampled" : " greedy");
      EXPECT_EQ(batch[b].reason, r.reason);
      EXPECT_EQ(batch[b].prompt_tokens, static_cast<int64_t>(prompts_[b].size()));
    }
  }
}

TEST_F(GenerateBatch, BatchStepEqualsSingleSteps) {
  Gemma3 m = model();
  const int64_t C = loaded_->config.hidden_size;
  std::vector<KvCache> a, b;
  for (const auto& p : prompts_) {
    a.push_back(m.new_cache(64));
    b.push_back(m.new_cache(64));
    m.forward_cached(p, a.back());
    m.forward_cached(p, b.back());
  }
  std::vector<int32_t> ids = {5, 6, 7, 8};
  std::vector<KvCache*> ptrs;
  for (auto& c : b) ptrs.push_back(&c);
  for (int step = 0; step < 3; ++step) {
    const std::vector<float> together = m.forward_cached_batch(ids, ptrs);
    for (size_t i = 0; i < ids.size(); ++i) {
      const int32_t one[1] = {ids[i]};
      const std::vector<float> alone = m.forward_cached(one, a[i]);
      const std::vector<float> row(together.begin() + static_cast<int64_t>(i) * C,
                                   together.begin() + static_cast<int64_t>(i + 1) * C);
      EXPECT_LT(testing::rel_err(row, alone), 1e-5) << "sequence " << i << " step " << step;
      EXPECT_EQ(a[i].pos, b[i].pos);
    }
    for (auto& id : ids) id += 10;
  }
}

TEST_F(GenerateBatch, BadPromptsAreNamed) {
  Gemma3 m = model();
  GenerateOptions o;
  const std::vector<std::vector<int32_t>> bad = {{2, 3}, {}};
  EXPECT_NE(testing::error_of([&] { generate_batch(m, bad, o); }).find("prompt 1 is empty"), std::string::npos);
  o.max_new_tokens = 0;
  EXPECT_NE(testing::error_of([&] { generate_batch(m, prompts_, o); }).find("max_new_tokens"), std::string::npos);
}

}  // namespace
}  // namespace scitune
