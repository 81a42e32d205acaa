// `scitune perplexity` against llama-perplexity's method computed here from Gemma3::forward logits: chunks of
// --ctx tokens with BOS first, only the second half scored, PPL = exp(mean NLL) with its error estimate.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "cli_run.h"
#include "real_vocab_model.h"

namespace scitune {
namespace {

using testing::run_cli;

const char* kText =
    "Water boils at 100 degrees Celsius at sea level, because its vapour pressure then equals the pressure of the "
    "air above it. On a high mountain the air pressure is lower, so water boils at a lower temperature and food "
    "takes longer to cook. In a pressure cooker the opposite happens: the pressure rises, the boiling point rises "
    "with it, and the food cooks faster.";

class CliPerplexity : public testing::RealVocabModel {
 protected:
  static std::string write(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(CliPerplexity, MatchesLlamaPerplexitysMethodComputedFromTheLogits) {
  const int64_t n_ctx = 16, first = n_ctx / 2, V = session().weights.config.vocab_size;
  const std::vector<int32_t> tokens = session().tok.encode(kText, /*add_special_tokens=*/true);
  ASSERT_EQ(tokens[0], 2);
  const int64_t n_chunk = static_cast<int64_t>(tokens.size()) / n_ctx;
  ASSERT_GE(n_chunk, 3);
  double nll = 0, nll2 = 0;
  int64_t count = 0;
  std::vector<double> running;
  std::vector<float> logits(static_cast<size_t>(n_ctx * V));
  for (int64_t c = 0; c < n_chunk; ++c) {
    std::vector<int32_t> ids(tokens.begin() + c * n_ctx, tokens.begin() + (c + 1) * n_ctx);
    ids[0] = 2;  // BOS
    const std::vector<int64_t> lengths = {n_ctx};
    session().net.forward(ids, lengths, 1, n_ctx, logits.data());
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const float* row = logits.data() + j * V;
      double mx = row[0], sum = 0;
      for (int64_t v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(row[v]));
      for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
      const double x = std::log(sum) + mx - row[tokens[c * n_ctx + j + 1]];
      nll += x;
      nll2 += x * x;
      ++count;
    }
    running.push_back(std::exp(nll / count));
  }
  const double ppl = std::exp(nll / count);
  const double err = std::sqrt((nll2 / count - std::pow(nll / count, 2)) / (count - 1)) * ppl;

  // --batch 2 over an odd number of chunks also runs a last batch of one.
  auto r = run_cli("--quiet perplexity --model " + model() + " --file " + write("ppl.txt", std::string(kText) + "\n") +
                   " --ctx 16 --batch 2");
  ASSERT_EQ(r.rc, 0) << r.out;
  size_t at = 0;
  for (int64_t c = 0; c < n_chunk; ++c) {
    const std::string tag = "[" + std::to_string(c + 1) + "]";
    at = r.out.find(tag, at);
    ASSERT_NE(at, std::string::npos) << tag << "\n" << r.out;
    EXPECT_NEAR(std::stod(r.out.substr(at + tag.size())), running[c], 1e-6 * running[c] + 1e-4) << tag;
  }
  EXPECT_EQ(r.out.find("[" + std::to_string(n_chunk + 1) + "]"), std::string::npos) << r.out;
  double got_ppl = 0, got_err = 0;
  const size_t final_at = r.out.find("Final estimate: PPL = ");
  ASSERT_NE(final_at, std::string::npos) << r.out;
  ASSERT_EQ(std::sscanf(r.out.c_str() + final_at, "Final estimate: PPL = %lf +/- %lf", &got_ppl, &got_err), 2);
  EXPECT_NEAR(got_ppl, ppl, 1e-6 * ppl + 1e-4);
  EXPECT_NEAR(got_err, err, 1e-3 * err + 1e-5);
}

TEST_F(CliPerplexity, TooShortATextOrContextIsAUserError) {
  auto short_text =
      run_cli("perplexity --model " + model() + " --file " + write("short.txt", "Too short.") + " --ctx 16");
  EXPECT_EQ(short_text.rc, 1) << short_text.out;
  EXPECT_NE(short_text.out.find("short.txt: tokenizes to 4 tokens; --ctx 16 needs at least 32"), std::string::npos)
      << short_text.out;
  auto tiny_ctx = run_cli("perplexity --model " + model() + " --file x --ctx 2");
  EXPECT_EQ(tiny_ctx.rc, 1);
  EXPECT_NE(tiny_ctx.out.find("--ctx = 2"), std::string::npos) << tiny_ctx.out;
  auto missing = run_cli("perplexity --model " + model() + " --file /no/such/text.txt");
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.out.find("/no/such/text.txt: cannot open"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace scitune
