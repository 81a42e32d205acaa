// bitsandbytes' 8-bit AdamW (optim adamw_8bit): the quantisation maps equal bitsandbytes' create_dynamic_map,
// four steps equal bitsandbytes 0.50's CPU optimizer bit for bit (tests/golden/adamw8bit, made by
// tools/oracle/make_adamw8bit_golden.py: codes, absmax and parameters all exact, 0 ULP), the threaded block
// kernel equals the plain reference, non-finite gradients are skipped, and the state survives a checkpoint.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "io/safetensors.h"
#include "model/config.h"
#include "test_util.h"
#include "train/optimizer8bit.h"
#include "util/error.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/adamw8bit/adamw8bit.safetensors";

template <class T>
std::vector<T> get(const SafetensorsFile& f, const std::string& name) {
  const auto s = f.tensor(name).as<T>();
  return {s.begin(), s.end()};
}

// Bitwise equality of fp32 arrays, reporting the first difference.
void expect_bits_equal(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      ADD_FAILURE() << what << "[" << i << "]: " << got[i] << " vs bitsandbytes " << want[i];
      return;
    }
}

TEST(AdamW8bit, DynamicMapsEqualBitsandbytes) {
  const SafetensorsFile f(kGolden);
  const std::array<float, 256> s = create_dynamic_map(true), u = create_dynamic_map(false);
  expect_bits_equal({s.begin(), s.end()}, get<float>(f, "qmap.signed"), "create_dynamic_map(signed=True)");
  expect_bits_equal({u.begin(), u.end()}, get<float>(f, "qmap.unsigned"), "create_dynamic_map(signed=False)");
  EXPECT_EQ(u.front(), 0.0f);
  EXPECT_EQ(s.back(), 1.0f);
  EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
}

TEST(AdamW8bit, FourStepsEqualBitsandbytesBitForBit) {
  const SafetensorsFile f(kGolden);
  const auto& meta = f.metadata();
  const auto lrs = nlohmann::json::parse(meta.at("lr")).get<std::vector<double>>();
  const auto wd = nlohmann::json::parse(meta.at("weight_decay"));
  for (const std::string name : {"a_small", "b_exact", "c_ragged"}) {
    AdamWConfig cfg;  // betas (0.9, 0.999), eps 1e-8: the Trainer defaults the fixture uses
    cfg.weight_decay = wd.at(name).get<double>();
    std::vector<float> p = get<float>(f, name + ".p0");
    const size_t n = p.size(), blocks = (n + 255) / 256;
    const bool quantized = static_cast<int64_t>(n) >= kBnbMin8bitSize;
    std::vector<uint8_t> c1(n, 0), c2(n, 0);
    std::vector<float> a1(blocks, 0.0f), a2(blocks, 0.0f), m(n, 0.0f), v(n, 0.0f);
    for (size_t k = 1; k <= lrs.size(); ++k) {
      const std::string at = name + " step " + std::to_string(k);
      const std::vector<float> g = get<float>(f, name + ".g" + std::to_string(k));
      const Adam8bitScalars s = Adam8bitScalars::make(cfg, static_cast<int64_t>(k), lrs[k - 1]);
      if (quantized) {
        adamw8bit_update(p, g, c1, c2, a1, a2, s);
        EXPECT_EQ(c1, get<uint8_t>(f, name + ".s1_" + std::to_string(k))) << at << " state1 codes";
        EXPECT_EQ(c2, get<uint8_t>(f, name + ".s2_" + std::to_string(k))) << at << " state2 codes";
        expect_bits_equal(a1, get<float>(f, name + ".absmax1_" + std::to_string(k)), at + " absmax1");
        expect_bits_equal(a2, get<float>(f, name + ".absmax2_" + std::to_string(k)), at + " absmax2");
      } else {
        adamw32bit_update(p, g, m, v, s);
        expect_bits_equal(m, get<float>(f, name + ".s1_" + std::to_string(k)), at + " state1");
        expect_bits_equal(v, get<float>(f, name + ".s2_" + std::to_string(k)), at + " state2");
      }
      expect_bits_equal(p, get<float>(f, name + ".p" + std::to_string(k)), at + " parameter");
    }
  }
}

// Gradients with a magnitude per block over 1e-8..1, some zero; one block all zero.
std::vector<float> gradient(std::mt19937& rng, size_t n) {
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> exponent(-8.0f, 0.0f);
  std::vector<float> g(n);
  float scale = 1;
  for (size_t i = 0; i < n; ++i) {
    if (i % 256 == 0) scale = std::pow(10.0f, exponent(rng));
    g[i] = (i / 256 == 1 || rng() % 40 == 0) ? 0.0f : normal(rng) * scale;
  }
  return g;
}

TEST(AdamW8bit, BlockKernelEqualsTheReference) {
  EXPECT_EQ(CpuQuantizer::bin_of(-1.0f), 0);
  EXPECT_EQ(CpuQuantizer::bin_of(0.0f), 32768);
  EXPECT_EQ(CpuQuantizer::bin_of(1.0f), 65535);
  EXPECT_EQ(CpuQuantizer::bin_of(7.0f), 65535);  // clamped
  std::mt19937 rng(5);
  for (const size_t n : {size_t{256}, size_t{4096}, size_t{4500}, size_t{70001}}) {  // 70001: several threads
    AdamWConfig cfg;
    cfg.weight_decay = n == 4500 ? 0.0 : 0.1;
    const size_t blocks = (n + 255) / 256;
    std::vector<float> p(n), a1(blocks, 0.0f), a2(blocks, 0.0f);
    for (float& x : p) x = std::uniform_real_distribution<float>(-0.1f, 0.1f)(rng);
    std::vector<uint8_t> c1(n, 0), c2(n, 0);
    std::vector<float> rp = p, ra1 = a1, ra2 = a2;
    std::vector<uint8_t> rc1 = c1, rc2 = c2;
    for (int64_t t = 1; t <= 5; ++t) {
      const std::vector<float> g = gradient(rng, n);
      const Adam8bitScalars s = Adam8bitScalars::make(cfg, t, 1e-3 * static_cast<double>(t));
      adamw8bit_update(p, g, c1, c2, a1, a2, s);
      ref::adamw8bit_update(rp, g, rc1, rc2, ra1, ra2, s);
      const std::string at = "n " + std::to_string(n) + " step " + std::to_string(t);
      ASSERT_EQ(c1, rc1) << at;
      ASSERT_EQ(c2, rc2) << at;
      expect_bits_equal(a1, ra1, at + " absmax1");
      expect_bits_equal(a2, ra2, at + " absmax2");
      expect_bits_equal(p, rp, at + " parameter");
    }
  }
}

TEST(AdamW8bit, NonFiniteGradientElementsZeroTheirStatesAndKeepTheParameter) {
  const size_t n = 4096;
  std::vector<float> p(n, 0.5f), g(n, 1e-3f), a1(16, 0.0f), a2(16, 0.0f);
  std::vector<uint8_t> c1(n, 0), c2(n, 0);
  g[3] = NAN;
  g[300] = INFINITY;
  g[301] = -INFINITY;
  AdamWConfig cfg;
  cfg.weight_decay = 0.01;
  adamw8bit_update(p, g, c1, c2, a1, a2, Adam8bitScalars::make(cfg, 1, 1e-3));
  for (size_t i : {size_t{3}, size_t{300}, size_t{301}}) {
    EXPECT_EQ(p[i], 0.5f) << i;
    // a zero state, quantised as the CPU backend does (to the code nearest the bin of 0, not necessarily 0.0)
    EXPECT_EQ(c1[i], CpuQuantizer::signed_map().bin_code(CpuQuantizer::bin_of(0.0f))) << i;
    EXPECT_EQ(c2[i], CpuQuantizer::unsigned_map().bin_code(CpuQuantizer::bin_of(0.0f))) << i;
  }
  EXPECT_LT(p[4], 0.5f);
  for (float a : a1) EXPECT_TRUE(std::isfinite(a) && a > 0);
  for (float a : a2) EXPECT_TRUE(std::isfinite(a) && a > 0);
  std::vector<float> q(100, 0.5f), h(100, NAN), m(100, 1.0f), v(100, 1.0f);
  adamw32bit_update(q, h, m, v, Adam8bitScalars::make(cfg, 1, 1e-3));
  EXPECT_EQ(q, std::vector<float>(100, 0.5f));
  EXPECT_EQ(m, std::vector<float>(100, 0.0f));
}

// A one-layer model whose LoRA r 4 tensors are 256..4400 elements: both state kinds, ragged blocks.
LoraAdapter small_adapter() {
  ModelConfig c = *preset("tiny");
  c.num_hidden_layers = 1;
  c.layer_types.resize(1);
  c.intermediate_size = 1100;  // gate/up B and down A: 4400 elements
  LoraConfig lc;
  lc.r = 4;
  return LoraAdapter::create(c, lc, 3);
}

void fill_gradients(LoraAdapter& a, int step) {
  std::mt19937 rng(static_cast<uint32_t>(step));
  for (LoraModule& m : a.modules()) {
    for (float& x : m.dA) x = std::normal_distribution<float>(0.0f, 1e-3f)(rng);
    for (float& x : m.dB) x = std::normal_distribution<float>(0.0f, 1e-4f)(rng);
  }
}

TEST(AdamW8bit, QuantisesTensorsFrom4096ElementsAndSurvivesACheckpoint) {
  LoraAdapter a = small_adapter();
  AdamWConfig cfg;
  cfg.weight_decay = 0.01;
  AdamW8bit opt(a, cfg);
  size_t quantized = 0, fp32 = 0;
  uint64_t bytes = 0;  // 8-bit: two codes and, per 256-block, two fp32 absmax; else two fp32 moments
  for (size_t k = 0; k < opt.states().size(); ++k) {
    const size_t n = lora_param(a, k).size();
    EXPECT_EQ(opt.states()[k].quantized, n >= 4096) << k;
    (opt.states()[k].quantized ? quantized : fp32) += n;
    bytes += opt.states()[k].quantized ? 2 * n + 8 * ((n + 255) / 256) : 8 * n;
  }
  ASSERT_GT(quantized, 0u);
  ASSERT_GT(fp32, 0u);
  EXPECT_EQ(opt.state_bytes(), bytes);
  for (int s = 1; s <= 2; ++s) {
    fill_gradients(a, s);
    opt.step(a, 1e-2);
  }
  const fs::path path = fs::temp_directory_path() / ("adamw8bit_test_" + std::to_string(::getpid()) + ".safetensors");
  write_safetensors(path, opt.state_tensors(), {}, Overwrite::kYes);
  LoraAdapter b = a;
  AdamW8bit resumed(b, cfg);
  resumed.load_state(SafetensorsFile(path));
  resumed.set_steps_taken(opt.steps_taken());
  for (LoraAdapter* x : {&a, &b}) fill_gradients(*x, 3);
  opt.step(a, 1e-2);
  resumed.step(b, 1e-2);
  for (size_t k = 0; k < lora_tensor_count(a); ++k) expect_bits_equal(lora_param(b, k), lora_param(a, k), "tensor");
  for (size_t k = 0; k < opt.states().size(); ++k) {
    EXPECT_EQ(resumed.states()[k].code1, opt.states()[k].code1);
    EXPECT_EQ(resumed.states()[k].code2, opt.states()[k].code2);
    expect_bits_equal(resumed.states()[k].absmax1, opt.states()[k].absmax1, "absmax1");
    expect_bits_equal(resumed.states()[k].m, opt.states()[k].m, "m");
  }
  // torch-AdamW state in its place is refused with the file's name.
  AdamW other(a, cfg);
  write_safetensors(path, other.state_tensors(), {}, Overwrite::kYes);
  const std::string err = testing::error_of([&] { resumed.load_state(SafetensorsFile(path)); });
  EXPECT_NE(err.find(path.filename().string()), std::string::npos) << err;
  fs::remove(path);
}

}  // namespace
}  // namespace scitune
