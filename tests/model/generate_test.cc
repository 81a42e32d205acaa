// generate() / generate_more() on a golden tiny model (no tokenizer needed) and the stop-string filter.
#include "model/generate.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/load.h"
#include "test_util.h"

namespace scitune {
namespace {

class Generate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    loaded_ = new LoadedGemma3(
        load_model_fp32(std::filesystem::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3/v5-seed1/model"));
  }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }
  static LoadedGemma3* loaded_;
  Gemma3 model() { return Gemma3(loaded_->config, loaded_->weights); }
  const std::vector<int32_t> prompt_ = {2, 105, 300, 301, 302, 107, 105, 420};
};
LoadedGemma3* Generate::loaded_ = nullptr;

GenerateOptions greedy_options(int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.sampling.do_sample = false;
  return o;
}

TEST_F(Generate, GreedyEqualsGenerateGreedyAndStreamsEveryToken) {
  Gemma3 m = model();
  GreedyOptions g;
  g.max_new_tokens = 20;
  const auto want = generate_greedy(m, prompt_, g);
  ASSERT_EQ(want.size(), 20u);
  std::vector<int32_t> streamed;
  const GenerateResult r = generate(m, prompt_, greedy_options(20), [&](int32_t id) {
    streamed.push_back(id);
    return true;
  });
  EXPECT_EQ(r.ids, want);
  EXPECT_EQ(streamed, want);
  EXPECT_EQ(r.reason, StopReason::kMaxTokens);
  EXPECT_EQ(r.prompt_tokens, static_cast<int64_t>(prompt_.size()));
}

TEST_F(Generate, StopIdsAndTheCallbackEndGeneration) {
  Gemma3 m = model();
  const auto all = generate(m, prompt_, greedy_options(12)).ids;
  GenerateOptions o = greedy_options(12);
  o.stop_ids = {all[5]};
  const GenerateResult r = generate(m, prompt_, o);
  const size_t first = std::find(all.begin(), all.end(), all[5]) - all.begin();
  EXPECT_EQ(r.ids, std::vector<int32_t>(all.begin(), all.begin() + first));
  EXPECT_EQ(r.reason, StopReason::kStopToken);
  EXPECT_EQ(r.stop_id, all[5]);
  int calls = 0;
  const GenerateResult c = generate(m, prompt_, greedy_options(12), [&](int32_t) { return ++calls < 3; });
  EXPECT_EQ(c.ids, std::vector<int32_t>(all.begin(), all.begin() + 3));
  EXPECT_EQ(c.reason, StopReason::kCallback);
}

TEST_F(Generate, ContinuingACachedSequenceEqualsRunningItWhole) {
  Gemma3 m = model();
  KvCache cache = m.new_cache(64);
  std::vector<int32_t> tokens;
  GenerateOptions o = greedy_options(5);
  Sampler sampler(o.sampling);
  const auto first = generate_more(m, cache, tokens, prompt_, o, sampler).ids;
  EXPECT_EQ(cache.pos, static_cast<int64_t>(prompt_.size() + first.size() - 1));  // the last token is not run yet
  const std::vector<int32_t> turn = {106, 107, 105, 333};
  const auto second = generate_more(m, cache, tokens, turn, o, sampler).ids;

  std::vector<int32_t> whole = prompt_;
  whole.insert(whole.end(), first.begin(), first.end());
  whole.insert(whole.end(), turn.begin(), turn.end());
  EXPECT_EQ(second, generate(m, whole, o).ids);
  whole.insert(whole.end(), second.begin(), second.end());
  EXPECT_EQ(tokens, whole);
}

TEST_F(Generate, SamplingIsDeterministicForASeedAndTheContextLimitsTheReply) {
  Gemma3 m = model();
  GenerateOptions o;
  o.max_new_tokens = 16;
  o.sampling.seed = 77;
  o.sampling.top_k = 0;
  o.sampling.top_p = 1.0;
  const auto a = generate(m, prompt_, o).ids;
  EXPECT_EQ(a, generate(m, prompt_, o).ids);
  o.sampling.seed = 78;
  EXPECT_NE(a, generate(m, prompt_, o).ids);

  KvCache small = m.new_cache(10);
  std::vector<int32_t> tokens;
  Sampler s(o.sampling);
  const GenerateResult r = generate_more(m, small, tokens, prompt_, o, s);
  EXPECT_EQ(r.reason, StopReason::kContextFull);
  EXPECT_EQ(r.ids.size(), 3u);  // positions 8 and 9 run, then one more token is chosen
  EXPECT_NE(testing::error_of([&] { generate_more(m, small, tokens, prompt_, o, s); }).find("context holds 10"),
            std::string::npos);
}

TEST_F(Generate, VocabLimitIsNeverExceeded) {
  Gemma3 m = model();
  GenerateOptions o;
  o.max_new_tokens = 30;
  o.sampling.top_k = 0;
  o.sampling.top_p = 1.0;
  o.sampling.temperature = 3.0;
  o.vocab_limit = 20;
  for (int32_t id : generate(m, prompt_, o).ids) EXPECT_LT(id, 20);
}

TEST(StopStrings, HoldsBackPossibleStartsAndStopsAtTheFirstOccurrence) {
  StopStrings s({"</end>", "\n\n"});
  EXPECT_EQ(s.push("Hello <"), "Hello ");
  EXPECT_EQ(s.push("/e"), "");
  EXPECT_EQ(s.push("x> and\n"), "</ex> and");
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(s.push("\nmore"), "");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.push("ignored"), "");
  EXPECT_EQ(s.finish(), "");

  StopStrings t({"END"});
  EXPECT_EQ(t.push("abcENDdef"), "abc");  // inside one piece of text
  EXPECT_TRUE(t.stopped());
  StopStrings u({"END"});
  EXPECT_EQ(u.push("x E"), "x ");
  EXPECT_EQ(u.finish(), "E");  // never completed: shown at the end
  StopStrings none({});
  EXPECT_EQ(none.push("anything"), "anything");
  EXPECT_NE(testing::error_of([] { StopStrings bad({""}); }).find("empty stop string"), std::string::npos);
}

}  // namespace
}  // namespace scitune
