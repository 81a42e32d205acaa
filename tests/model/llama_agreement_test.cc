// The real Gemma 3 270M (Q4_K_M GGUF, weights used in place as generate / perplexity use them) against
// llama.cpp on real English text: the first 2 x 256 tokens of tests/golden/llama/public_domain_en.txt, run as
// llama-perplexity -c 256 runs them (each chunk on its own, token 0 = BOS, the second half scored). Each golden
// file holds llama.cpp's tokens, its 8 most likely next tokens with their log-probabilities and the log p of the
// actual next token (tools/oracle/llama_kld_topk.py over llama-perplexity --kl-divergence-base; how they were
// made and the full-text numbers: tests/golden/llama/README.md). Two llama.cpp references:
//   f32deq  llama.cpp on the same weights dequantised to F32 (llama-quantize --allow-requantize ... F32): the
//           exact model, what our prompt path computes (fp32 activations) -> near-identical distributions;
//   q4km    llama.cpp on the Q4_K_M file itself, which quantises every activation row it multiplies (Q8_K per
//           256 values for Q4_K/Q6_K weights, Q8_0 per 32 for Q5_0/Q8_0). That noise moves llama.cpp's own
//           Q4_K_M run away from the exact model (94.5% same top-1 on these positions); the test pins the gap.
// Skips when the model is not in the cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

#include "io/safetensors.h"
#include "model/load.h"
#include "util/paths.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

struct Agreement {
  int64_t positions = 0, top1 = 0, top1_or_near_tie = 0, n_dlogp = 0;
  double max_dlogp = 0, sum_dlogp = 0, nll_ours = 0, nll_llama = 0;
  double top1_pct() const { return 100.0 * top1 / positions; }
  double mean_dlogp() const { return sum_dlogp / n_dlogp; }
  double ppl_ratio() const { return std::exp((nll_ours - nll_llama) / positions); }
};

// ids [T] -> final hidden states [T, C]
using HiddenOf = std::function<std::vector<float>(Gemma3&, const std::vector<int32_t>&)>;

std::vector<float> prompt_path(Gemma3& net, const std::vector<int32_t>& ids) {  // perplexity / score
  const int64_t T = static_cast<int64_t>(ids.size());
  const std::vector<int64_t> len = {T};
  return net.forward(ids, len, 1, T, nullptr);
}

std::vector<float> cached_path(Gemma3& net, const std::vector<int32_t>& ids) {  // generate
  const int64_t T = static_cast<int64_t>(ids.size()), first = T / 2, C = net.config().hidden_size;
  std::vector<float> hidden(T * C);
  KvCache cache = net.new_cache(T);
  auto h = net.forward_cached(std::span<const int32_t>(ids.data(), first + 1), cache);  // the prompt
  std::copy(h.begin(), h.end(), hidden.begin() + first * C);
  for (int64_t t = first + 1; t < T - 1; ++t) {  // then one token at a time
    h = net.forward_cached(std::span<const int32_t>(ids.data() + t, 1), cache);
    std::copy(h.begin(), h.end(), hidden.begin() + t * C);
  }
  return hidden;
}

class LlamaAgreement : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (fs::exists(default_model_path())) model_ = new LoadedGemma3(load_model(default_model_path()));
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "real model not in the cache (run scripts/fetch_model.sh)";
  }

  // The LM head gets what the command under test gives it: 32 rows at a time on the prompt path (sgemm, fp32
  // activations, as perplexity), one row on the cached path (vec_dot on quantised activations, as generate).
  static Agreement compare(const char* golden_name, const HiddenOf& hidden_of, int64_t head_rows, int64_t max_chunks) {
    SafetensorsFile golden(fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/llama" / golden_name);
    const TensorView tokens = golden.tensor("tokens"), top_ids = golden.tensor("top_ids");
    const auto tok = tokens.as<int32_t>(), ids_top = top_ids.as<int32_t>();
    const auto lp_top = golden.tensor("top_logp").as<float>(), lp_target = golden.tensor("target_logp").as<float>();
    const int64_t n_chunk = std::min(tokens.shape()[0], max_chunks), n_ctx = tokens.shape()[1];
    const int64_t K = top_ids.shape()[1], first = n_ctx / 2, n_scored = n_ctx - 1 - first;
    const int64_t V = model_->config.vocab_size, C = model_->config.hidden_size;
    Gemma3 net(model_->config, model_->weights);
    std::vector<float> block(head_rows * V);
    Agreement a;
    for (int64_t c = 0; c < n_chunk; ++c) {
      std::vector<int32_t> ids(tok.begin() + c * n_ctx, tok.begin() + (c + 1) * n_ctx);
      ids[0] = tok[0];  // BOS, as llama-perplexity puts it first in every chunk
      const std::vector<float> hidden = hidden_of(net, ids);
      for (int64_t j = 0; j < n_scored; ++j) {
        const int64_t p = c * n_scored + j, t = first + j;
        if (j % head_rows == 0)
          net.lm_head(block.data(), hidden.data() + t * C, std::min(head_rows, n_scored - j));
        const float* logits = block.data() + (j % head_rows) * V;
        const float mx = *std::max_element(logits, logits + V);
        double sum = 0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(logits[v] - mx));
        const double lse = std::log(sum) + mx;
        const int32_t ours = static_cast<int32_t>(std::max_element(logits, logits + V) - logits);
        const int32_t* top = ids_top.data() + p * K;
        const float* lp = lp_top.data() + p * K;
        const int64_t rank = std::find(top, top + K, ours) - top;
        ++a.positions;
        a.top1 += rank == 0;
        // A swap of two candidates llama.cpp itself puts within 0.05 nats is rounding, not a different model.
        a.top1_or_near_tie += rank == 0 || (rank < K && lp[0] - lp[rank] < 0.05f);
        for (int64_t k = 0; k < K; ++k) {
          const double d = std::fabs(logits[top[k]] - lse - lp[k]);
          a.max_dlogp = std::max(a.max_dlogp, d);
          a.sum_dlogp += d;
          ++a.n_dlogp;
        }
        a.nll_ours -= logits[ids[t + 1]] - lse;
        a.nll_llama -= lp_target[p];
      }
    }
    std::printf("%s: top-1 %lld/%lld (%.2f%%; %lld counting llama's near ties), |d log p| over llama's top %lld: "
                "max %.4f mean %.5f; PPL ours/llama %.5f\n",
                golden_name, static_cast<long long>(a.top1), static_cast<long long>(a.positions), a.top1_pct(),
                static_cast<long long>(a.top1_or_near_tie), static_cast<long long>(K), a.max_dlogp, a.mean_dlogp(),
                a.ppl_ratio());
    return a;
  }

  static inline LoadedGemma3* model_ = nullptr;
};

constexpr const char* kExact = "real270m_f32deq_c256_top8.safetensors";
constexpr const char* kQ4KM = "real270m_q4km_c256_top8.safetensors";

TEST_F(LlamaAgreement, PromptPathEqualsLlamaCppOnTheSameWeights) {
  const Agreement a = compare(kExact, prompt_path, 32, 2);
  EXPECT_EQ(a.top1_or_near_tie, a.positions);
  EXPECT_GE(a.top1_pct(), 99.0);             // measured 254/254
  EXPECT_LT(a.max_dlogp, 0.15);              // measured 0.065 (llama.cpp keeps K/V in f16)
  EXPECT_LT(a.mean_dlogp(), 0.01);           // measured 0.0019
  EXPECT_NEAR(a.ppl_ratio(), 1.0, 1e-3);     // measured +0.03%
}

TEST_F(LlamaAgreement, CachedDecodePathStaysNearTheExactModel) {
  // Decoding quantises activations to Q8_0 (kernels/cpu/matvec_vnni.h): a little noise, as llama.cpp's own.
  const Agreement a = compare(kExact, cached_path, 1, 1);
  EXPECT_GE(a.top1_pct(), 94.0);            // measured 126/127
  EXPECT_LT(a.mean_dlogp(), 0.35);          // measured 0.24 (1 chunk)
  EXPECT_NEAR(a.ppl_ratio(), 1.0, 0.05);    // measured +2.1%
}

TEST_F(LlamaAgreement, GapToLlamaCppQ4KMIsItsActivationQuantisation) {
  // The same prompt path against llama.cpp running the Q4_K_M file: agreement equals llama.cpp's agreement
  // with itself on the exact weights (94.5%, llama-perplexity --kl-divergence), so the gap is on its side.
  const Agreement a = compare(kQ4KM, prompt_path, 32, 2);
  EXPECT_GE(a.top1_pct(), 92.0);
  EXPECT_NEAR(a.ppl_ratio(), 1.0, 0.03);
}

}  // namespace
}  // namespace scitune
