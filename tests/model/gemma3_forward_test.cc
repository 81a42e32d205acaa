// The fp32 Gemma 3 forward against HF transformers (float64) golden cases: logits and loss.
// Tolerances (from ../shared/golden/README.md): logits max|d|/max|ref| <= 1e-4, loss relative <= 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/safetensors.h"
#include "model/weights.h"
#include "util/error.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  fs::path dir;
};

std::vector<Case> cases() {
  std::vector<Case> out = {{"shared-tiny", fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny"}};
  for (const char* n : {"v5-seed1", "hub-seed2", "multimodal-seed3", "softcap-seed4", "padded-seed5"})
    out.push_back({n, fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3" / n});
  return out;
}

class Gemma3Golden : public ::testing::TestWithParam<Case> {};

TEST_P(Gemma3Golden, LogitsAndLossMatchTransformers) {
  const Case& c = GetParam();
  if (!fs::exists(c.dir)) GTEST_SKIP() << "golden case missing: " << c.dir;
  auto folder = HfModelFolder::open(c.dir / "model");
  auto loaded = load_gemma3_fp32(folder);
  SafetensorsFile golden(c.dir / "golden.safetensors");
  auto ids64 = golden.tensor("input_ids").as<int64_t>();
  auto labels = golden.tensor("labels").as<int64_t>();
  auto shape = golden.tensor("input_ids").shape();
  const int64_t B = shape[0], T = shape[1], V = loaded.config.vocab_size;
  std::vector<int64_t> lengths(B, T);
  std::vector<int64_t> mask(B * T, 1);
  if (auto m = golden.find("attention_mask")) {
    auto mm = m->as<int64_t>();
    mask.assign(mm.begin(), mm.end());
    for (int64_t b = 0; b < B; ++b) {
      lengths[b] = 0;
      for (int64_t t = 0; t < T; ++t) lengths[b] += mask[b * T + t];
    }
  }
  std::vector<int32_t> ids(ids64.begin(), ids64.end());
  Gemma3 model(loaded.config, loaded.weights);
  std::vector<float> logits(B * T * V);
  model.forward(ids, lengths, B, T, logits.data());

  auto ref = golden.tensor("logits").to_f32();
  double max_diff = 0, max_ref = 0;
  for (int64_t n = 0; n < B * T; ++n) {
    if (!mask[n]) continue;  // padded queries: HF computes something, nothing uses it
    for (int64_t v = 0; v < V; ++v) {
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(logits[n * V + v]) - ref[n * V + v]));
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[n * V + v])));
    }
  }
  EXPECT_LE(max_diff / max_ref, 1e-4) << c.name << " max|d|=" << max_diff << " max|ref|=" << max_ref;

  const double loss = causal_lm_loss(logits.data(), labels.data(), B, T, V);
  const double ref_loss = golden.tensor("loss").to_f32()[0];
  EXPECT_LE(std::fabs(loss - ref_loss) / std::fabs(ref_loss), 1e-5) << c.name << " loss " << loss << " vs " << ref_loss;
}

INSTANTIATE_TEST_SUITE_P(Cases, Gemma3Golden, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

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
      double num = 0, den = 1e-30;
      for (int64_t v = 0; v < V; ++v) {
        num = std::max(num, std::fabs(static_cast<double>(logits[v]) - full[t * V + v]));
        den = std::max(den, std::fabs(static_cast<double>(full[t * V + v])));
      }
      EXPECT_LE(num / den, 1e-5) << name << " position " << t;
    };
    check(prompt - 1, model.forward_cached(std::span(ids).first(prompt), cache));
    for (int64_t t = prompt; t < T; ++t) check(t, model.forward_cached(std::span(ids).subspan(t, 1), cache));
    EXPECT_EQ(cache.pos, T);
    EXPECT_THROW(model.forward_cached(std::span(ids).first(300), cache), UserError);  // past max_len 512
  }
}

}  // namespace
}  // namespace scitune
