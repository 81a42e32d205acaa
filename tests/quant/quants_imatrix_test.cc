// Bit-exactness of the importance-weighted quantizers with ggml_quantize_chunk(type, rows, ..., importance)
// from the oracle's libggml-base (tests/golden/quant/imatrix, made by tools/oracle/make_imatrix_quant_golden.py):
// 56 generated rows of 512 values (every edge-case kind of quant/test_data.h) under five importance vectors
// (dense, sparse, all zero, all one, spiky), for Q4_0 .. Q6_K and Q8_0 (which must ignore the importance).
#include "quant/quants_imatrix.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "golden_util.h"
#include "quant/quants.h"
#include "quant/test_data.h"
#include "util/error.h"
#include "util/half.h"

namespace scitune::quant {
namespace {

using golden::read_json;
using golden::sha256_hex;
using golden::type_named;

float pow2(int e) { return f32_from_bits(static_cast<uint32_t>(127 + e) << 23); }

// Mirror of importance() in make_imatrix_quant_golden.py: a 24-bit integer times a power of two, exact.
std::vector<float> importance(uint64_t seed, int set, const std::string& name, int64_t n) {
  std::vector<float> w(static_cast<size_t>(n), 0.0f);
  if (name == "zeros") return w;
  if (name == "ones") return std::vector<float>(static_cast<size_t>(n), 1.0f);
  for (int64_t j = 0; j < n; ++j) {
    const uint64_t u = testdata::splitmix(seed, 1000 + 2 * static_cast<uint64_t>(set), static_cast<uint64_t>(j));
    const uint64_t v = testdata::splitmix(seed, 1001 + 2 * static_cast<uint64_t>(set), static_cast<uint64_t>(j));
    float x = static_cast<float>((u >> 40) + 1) * pow2(-24 - static_cast<int>(v % 16));
    if (name == "sparse" && (v >> 60) < 4) x = 0.0f;
    if (name == "spiky" && (v >> 58) == 0) x *= pow2(20);
    w[static_cast<size_t>(j)] = x;
  }
  return w;
}

struct Golden {
  nlohmann::json manifest = read_json("imatrix/manifest.json");
  uint64_t seed = std::stoull(manifest["generator"]["seed"].get<std::string>(), nullptr, 16);
  int64_t rows = manifest["generator"]["rows_per_set"];
  int64_t n = manifest["generator"]["n_per_row"];
  std::vector<std::string> sets = manifest["generator"]["sets"];
  std::vector<std::vector<float>> inputs, weights;

  Golden() {
    for (size_t s = 0; s < sets.size(); ++s) {
      std::vector<float> x(static_cast<size_t>(rows * n));
      for (int64_t r = 0; r < rows; ++r)
        testdata::make_row(seed, s * static_cast<uint64_t>(rows) + static_cast<uint64_t>(r),
                           static_cast<int>(r % testdata::kNumKinds), x.data() + r * n, n);
      inputs.push_back(std::move(x));
      weights.push_back(importance(seed, static_cast<int>(s), sets[s], n));
    }
  }
};

const Golden& golden_data() {
  static const Golden g;
  return g;
}

std::vector<uint8_t> quantize_set(GgmlType t, const Golden& g, size_t s) {
  const size_t row_bytes = ggml_row_size(t, static_cast<uint64_t>(g.n));
  std::vector<uint8_t> q(static_cast<size_t>(g.rows) * row_bytes);
  for (int64_t r = 0; r < g.rows; ++r)
    quantize_row_weighted(t, g.inputs[s].data() + r * g.n, q.data() + static_cast<size_t>(r) * row_bytes, g.n,
                          g.weights[s].data());
  return q;
}

TEST(ImatrixGoldenInput, GeneratorsMatchPython) {
  const auto& g = golden_data();
  for (size_t s = 0; s < g.sets.size(); ++s) {
    EXPECT_EQ(sha256_hex(g.inputs[s].data(), g.inputs[s].size() * 4), g.manifest["generator"]["input_sha256"][s])
        << "rows of set " << g.sets[s];
    EXPECT_EQ(sha256_hex(g.weights[s].data(), g.weights[s].size() * 4), g.manifest["generator"]["importance_sha256"][s])
        << "importance of set " << g.sets[s];
  }
}

class ImatrixGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ImatrixGolden, WeightedQuantizeMatchesGgml) {
  const auto& g = golden_data();
  const std::string name = GetParam();
  const auto& rec = g.manifest["types"][name];
  const GgmlType t = type_named(name);
  const size_t row_bytes = rec["row_bytes"];
  ASSERT_EQ(row_bytes, ggml_row_size(t, static_cast<uint64_t>(g.n)));
  const auto detail = golden::read_file(golden::golden_dir() + "imatrix/" + rec["file"].get<std::string>());
  const size_t detail_rows = g.manifest["generator"]["detail_rows"];
  const size_t block_bytes = ggml_info(t).type_size;
  for (size_t s = 0; s < g.sets.size(); ++s) {
    const auto q = quantize_set(t, g, s);
    if (sha256_hex(q.data(), q.size()) == rec["sets"][g.sets[s]].get<std::string>()) continue;
    std::string where = "detail rows identical; the difference is in a later row";
    for (size_t i = 0; i < detail_rows * row_bytes; ++i)
      if (q[i] != detail[s * detail_rows * row_bytes + i]) {
        where = "row " + std::to_string(i / row_bytes) + " (kind " +
                std::to_string(i / row_bytes % testdata::kNumKinds) + "), block " +
                std::to_string(i % row_bytes / block_bytes) + ", byte " + std::to_string(i % block_bytes);
        break;
      }
    ADD_FAILURE() << name << " with importance set " << g.sets[s] << " differs from ggml: " << where;
  }
  // No importance: what llama-quantize writes for a tensor without an imatrix entry (the reference quantizer).
  std::vector<uint8_t> q(static_cast<size_t>(g.rows) * row_bytes);
  for (int64_t r = 0; r < g.rows; ++r)
    quantize_row_weighted(t, g.inputs[0].data() + r * g.n, q.data() + static_cast<size_t>(r) * row_bytes, g.n, nullptr);
  EXPECT_EQ(sha256_hex(q.data(), q.size()), rec["dense_without_importance"].get<std::string>()) << name;
}

INSTANTIATE_TEST_SUITE_P(Types, ImatrixGolden,
                         ::testing::Values("q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q4_K", "q5_K", "q6_K"),
                         [](const auto& info) { return info.param; });

TEST(QuantizeRowWeighted, WhichTypesUseImportance) {
  for (GgmlType t :
       {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K})
    EXPECT_TRUE(quant_uses_importance(t)) << ggml_info(t).name;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q8_K})
    EXPECT_FALSE(quant_uses_importance(t)) << ggml_info(t).name;
}

TEST(QuantizeRowWeighted, ImportanceChangesTheResult) {
  // The weighted search is not the reference quantizer in disguise: a dense importance changes Q4_K's bytes.
  const auto& g = golden_data();
  const size_t row_bytes = ggml_row_size(GgmlType::Q4_K, static_cast<uint64_t>(g.n));
  std::vector<uint8_t> a(row_bytes), b(row_bytes);
  quantize_row_weighted(GgmlType::Q4_K, g.inputs[0].data(), a.data(), g.n, g.weights[0].data());
  quantize_row(GgmlType::Q4_K, g.inputs[0].data(), b.data(), g.n);
  EXPECT_NE(a, b);
}

TEST(QuantizeRowWeighted, RejectsNonFiniteInput) {
  std::vector<float> x(256, 0.5f), w(256, 1.0f);
  x[17] = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint8_t> q(ggml_row_size(GgmlType::Q4_K, 256));
  try {
    quantize_row_weighted(GgmlType::Q4_K, x.data(), q.data(), 256, w.data());
    FAIL() << "NaN accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("value 17"), std::string::npos) << e.what();
  }
}

TEST(QuantizeRowWeighted, RowNotAMultipleOfTheBlockIsABug) {
  std::vector<float> x(100, 0.5f), w(100, 1.0f);
  std::vector<uint8_t> q(1024);
  EXPECT_THROW(quantize_row_weighted(GgmlType::Q4_0, x.data(), q.data(), 100, w.data()), InternalError);
}

}  // namespace
}  // namespace scitune::quant
