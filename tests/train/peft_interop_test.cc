// PEFT interoperability without the oracle: adapters written by `scitune train` (tests/golden/peft/tiny/<case>/,
// made by tools/oracle/peft_roundtrip.sh --update-fixture) were loaded by PeftModel.from_pretrained with no
// missing/unexpected keys, and PEFT's float64 logits for them are committed next to them. Here: scitune's logits
// for the same adapters match PEFT's (max|d| / max|ref| <= 1e-4 at valid positions, a right-padded row included),
// and saving a loaded adapter writes back the same tensors and adapter_config.json, so the writer still produces
// what PEFT was shown to accept.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "io/json_limits.h"
#include "io/safetensors.h"
#include "model/load.h"
#include "train/gemma3_lora.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/peft/tiny";

class PeftInterop : public ::testing::TestWithParam<std::string> {};

TEST_P(PeftInterop, ScitunesLogitsMatchPeftForAnAdapterScituneWrote) {
  if (!fs::exists(kDir / GetParam())) GTEST_SKIP() << "fixture missing: " << kDir / GetParam();
  LoadedGemma3 base = load_model_fp32(kDir / "model");
  LoraAdapter adapter = LoraAdapter::load(kDir / GetParam(), base.config);
  SafetensorsFile ref(kDir / (GetParam() + ".peft_logits.safetensors"));
  const auto shape = ref.tensor("input_ids").shape();
  const int64_t B = shape[0], T = shape[1], V = base.config.vocab_size;
  auto ids64 = ref.tensor("input_ids").as<int64_t>();
  auto mask = ref.tensor("attention_mask").as<int64_t>();
  std::vector<int32_t> ids(ids64.begin(), ids64.end());
  std::vector<int64_t> lengths(B, 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) lengths[b] += mask[b * T + t];
  ASSERT_LT(lengths.back(), T) << "the fixture should include a padded row";
  const std::vector<float> want = ref.tensor("logits").to_f32();
  ASSERT_EQ(static_cast<int64_t>(want.size()), B * T * V);

  auto max_rel = [&](const std::vector<float>& got) {
    double num = 0, den = 0;
    for (int64_t n = 0; n < B * T; ++n) {
      if (!mask[n]) continue;
      for (int64_t v = 0; v < V; ++v) {
        num = std::max(num, std::fabs(static_cast<double>(got[n * V + v]) - want[n * V + v]));
        den = std::max(den, std::fabs(static_cast<double>(want[n * V + v])));
      }
    }
    return num / den;
  };
  std::vector<float> logits(static_cast<size_t>(B * T * V)), plain(logits.size());
  Gemma3Lora(base.config, base.weights, &adapter).logits(ids, lengths, B, T, logits.data());
  EXPECT_LT(max_rel(logits), 1e-4);
  // The adapter matters: without it the logits are far from PEFT's.
  Gemma3Lora(base.config, base.weights, nullptr).logits(ids, lengths, B, T, plain.data());
  EXPECT_GT(max_rel(plain), 1e-2);
}

TEST_P(PeftInterop, SavingALoadedAdapterWritesTheSameFiles) {
  if (!fs::exists(kDir / GetParam())) GTEST_SKIP() << "fixture missing: " << kDir / GetParam();
  LoadedGemma3 base = load_model_fp32(kDir / "model");
  LoraAdapter adapter = LoraAdapter::load(kDir / GetParam(), base.config);
  const fs::path out = fs::temp_directory_path() / ("scitune_peft_interop_" + std::to_string(::getpid()));
  fs::remove_all(out);
  adapter.save(out);
  EXPECT_EQ(read_json_file(out / "adapter_config.json"), read_json_file(kDir / GetParam() / "adapter_config.json"));
  SafetensorsFile a(out / "adapter_model.safetensors"), b(kDir / GetParam() / "adapter_model.safetensors");
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (const TensorInfo& t : b.tensors()) {
    ASSERT_TRUE(a.contains(t.name)) << t.name;
    TensorView x = a.tensor(t.name), y = b.view(t);
    EXPECT_EQ(x.dtype(), y.dtype()) << t.name;
    EXPECT_TRUE(std::equal(x.shape().begin(), x.shape().end(), y.shape().begin(), y.shape().end())) << t.name;
    EXPECT_TRUE(std::equal(x.data.begin(), x.data.end(), y.data.begin(), y.data.end())) << t.name;
  }
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Adapters, PeftInterop, ::testing::Values("all7", "rslora", "regex"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace scitune
