// The fp32 Gemma 3 forward against HF transformers (float64) golden cases: logits and loss.
// Tolerances (from ../shared/golden/README.md): logits max|d|/max|ref| <= 1e-4, loss relative <= 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/safetensors.h"
#include "kernels/cpu/q4_0x16.h"
#include "model/golden_cases.h"
#include "model/weights.h"
#include "test_util.h"
#include "util/error.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::GoldenCase;

class Gemma3Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Gemma3Golden, LogitsAndLossMatchTransformers) {
  const GoldenCase& c = GetParam();
  if (!fs::exists(c.dir)) GTEST_SKIP() << "golden case missing: " << c.dir;
  auto folder = HfModelFolder::open(c.dir / "model");
  auto loaded = load_gemma3_fp32(folder);
  SafetensorsFile golden(c.dir / "golden.safetensors");
  const testing::GoldenBatch b = testing::read_golden_batch(golden);
  const int64_t B = b.B, T = b.T, V = loaded.config.vocab_size;
  Gemma3 model(loaded.config, loaded.weights);
  std::vector<float> logits(B * T * V);
  model.forward(b.ids, b.lengths, B, T, logits.data());

  auto ref = golden.tensor("logits").to_f32();
  const testing::MaskedDiff d = testing::masked_diff(logits, ref, b.mask, V);
  EXPECT_LE(d.rel(), 1e-4) << c.name << " max|d|=" << d.max_diff << " max|ref|=" << d.max_ref;

  const double loss = causal_lm_loss(logits.data(), b.labels.data(), B, T, V);
  const double ref_loss = golden.tensor("loss").to_f32()[0];
  EXPECT_LE(std::fabs(loss - ref_loss) / std::fabs(ref_loss), 1e-5) << c.name << " loss " << loss << " vs " << ref_loss;
}

INSTANTIATE_TEST_SUITE_P(Cases, Gemma3Golden, ::testing::ValuesIn(testing::gemma3_golden_cases()),
                         testing::GoldenCaseName());

}  // namespace
}  // namespace scitune

namespace scitune {
namespace {

// Incremental decoding with the KV cache reproduces the full-sequence logits, across the chunk boundary and
// after the sliding layers' ring buffer has wrapped (300 tokens, window 4-6, ring of window + 255).
TEST(Gemma3Cache, IncrementalDecodingReproducesFullSequenceLogits) {
  for (const char* name : {"v5-seed1", "padded-seed5", "softcap-seed4"}) {
    auto folder = HfModelFolder::open(fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3" / name / "model");
    auto loaded = load_gemma3_fp32(folder);
    Gemma3 model(loaded.config, loaded.weights);
    const int64_t T = 300, V = loaded.config.vocab_size, prompt = 280;
    std::vector<int32_t> ids(T);
    for (int64_t t = 0; t < T; ++t) ids[t] = static_cast<int32_t>(3 + (t * 7919 + 13) % (V - 3));
    std::vector<float> full(T * V);
    const int64_t len[1] = {T};
    model.forward(ids, len, 1, T, full.data());

    KvCache cache = model.new_cache(512);
    std::vector<float> logits(V);
    auto check = [&](int64_t t, const std::vector<float>& hidden) {
      model.lm_head(logits.data(), hidden.data(), 1);
      EXPECT_LE(testing::rel_err(logits, std::span(full).subspan(t * V, V)), 1e-5) << name << " position " << t;
    };
    check(prompt - 1, model.forward_cached(std::span(ids).first(prompt), cache));
    for (int64_t t = prompt; t < T; ++t) check(t, model.forward_cached(std::span(ids).subspan(t, 1), cache));
    EXPECT_EQ(cache.pos, T);
    EXPECT_THROW(model.forward_cached(std::span(ids).first(300), cache), UserError);  // past max_len 512
  }
}

// Generation on a Q4_0 model repacked for the integer kernels (LoadOptions::inference_layout): a prompt through the cache
// multiplies as decoding steps do (Q8_0 activations), so feeding it at once or token by token gives the same
// states; both stay within activation-rounding distance of the exact fp32 forward on the same Q4_0 weights, and of
// the same model decoded without the repack.
TEST(Gemma3Cache, RepackedQ4_0PromptEqualsTokenByTokenDecoding) {
  auto folder = HfModelFolder::open(fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3/v5-seed1/model");
  LoadOptions opts;
  opts.quant = GgmlType::Q4_0;
  auto plain = load_gemma3(folder, opts);
  opts.inference_layout = true;
  auto packed = load_gemma3(folder, opts);
  if (!ops::q4_0x16_available()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  for (const auto& L : packed.weights.layers)
    for (const WeightMatrix* w : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) ASSERT_NE(w->q4_0x16, nullptr);
  ASSERT_NE(packed.weights.embed.q4_0x16, nullptr);
  EXPECT_EQ(plain.weights.layers[0].q.q4_0x16, nullptr);

  Gemma3 model(packed.config, packed.weights), reference(plain.config, plain.weights);
  const int64_t T = 40, V = packed.config.vocab_size, C = packed.config.hidden_size;
  std::vector<int32_t> ids(T);
  for (int64_t t = 0; t < T; ++t) ids[t] = static_cast<int32_t>(3 + (t * 7919 + 13) % (V - 3));
  std::vector<float> exact(T * V);
  const int64_t len[1] = {T};
  reference.forward(ids, len, 1, T, exact.data());

  KvCache at_once = model.new_cache(64), stepwise = model.new_cache(64), unpacked = reference.new_cache(64);
  const std::vector<float> h_prompt = model.forward_cached(ids, at_once);
  std::vector<float> h_step, h_unpacked;
  for (int64_t t = 0; t < T; ++t) {
    h_step = model.forward_cached(std::span(ids).subspan(t, 1), stepwise);
    h_unpacked = reference.forward_cached(std::span(ids).subspan(t, 1), unpacked);
  }
  ASSERT_EQ(h_prompt.size(), static_cast<size_t>(C));
  EXPECT_LE(testing::rel_err(h_prompt, h_step), 1e-6);
  EXPECT_LE(testing::rel_err(h_step, h_unpacked), 1e-5);  // same arithmetic, other float order
  std::vector<float> logits(V);
  model.lm_head(logits.data(), h_prompt.data(), 1);
  const double err = testing::rel_err(logits, std::span(exact).subspan((T - 1) * V, V));
  EXPECT_LE(err, 3e-2);
  EXPECT_GT(err, 0.0);  // the prompt did go the integer way
}

}  // namespace
}  // namespace scitune
