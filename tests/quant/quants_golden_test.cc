// Bit-exactness with ggml's reference quantizers (tests/golden/quant, made by tools/oracle/make_quant_golden.py
// from the oracle's libggml-base): 10240 generated rows of 256 values per type, including the edge-case kinds
// of quant/test_data.h. Both the public (dispatching) functions and the scalar ref:: ones are checked.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "golden_util.h"
#include "quant/quants.h"
#include "quant/test_data.h"

namespace scitune::quant {
namespace {

using golden::read_json;
using golden::sha256_hex;
using golden::type_named;

struct Golden {
  nlohmann::json manifest = read_json("manifest.json");
  uint64_t seed = std::stoull(manifest["generator"]["seed"].get<std::string>(), nullptr, 16);
  int64_t rows = manifest["generator"]["rows"];
  int64_t n = manifest["generator"]["n_per_row"];
  std::vector<float> input = make_input();

  std::vector<float> make_input() const {
    std::vector<float> x(static_cast<size_t>(rows * n));
    for (int64_t r = 0; r < rows; ++r) testdata::make_row(seed, static_cast<uint64_t>(r), x.data() + r * n, n);
    return x;
  }
};

const Golden& golden_data() {
  static const Golden g;
  return g;
}

std::string canon_float_sha(const std::vector<float>& y) {
  std::vector<uint32_t> bits(y.size());
  std::memcpy(bits.data(), y.data(), y.size() * 4);
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i] != y[i]) bits[i] = 0x7FC00000u;
  return sha256_hex(bits.data(), bits.size() * 4);
}

// Names the first differing row/block against the stored detail rows, to make a hash mismatch debuggable.
std::string first_mismatch(const std::vector<uint8_t>& ours, const std::vector<uint8_t>& detail, size_t row_bytes,
                           size_t block_bytes) {
  for (size_t i = 0; i < detail.size() && i < ours.size(); ++i)
    if (ours[i] != detail[i])
      return "first difference in detail rows: row " + std::to_string(i / row_bytes) + " (kind " +
             std::to_string(i / row_bytes % testdata::kNumKinds) + "), block " +
             std::to_string(i % row_bytes / block_bytes) + ", byte " + std::to_string(i % block_bytes);
  return "detail rows identical; the difference is in a later row";
}

class QuantGolden : public ::testing::TestWithParam<std::string> {};

TEST(QuantGoldenInput, GeneratorMatchesPython) {
  const auto& g = golden_data();
  EXPECT_EQ(sha256_hex(g.input.data(), g.input.size() * 4), g.manifest["generator"]["input_sha256"])
      << "quant/test_data.cc and make_quant_golden.py generate different inputs";
}

TEST_P(QuantGolden, QuantizeAndDequantizeMatchGgml) {
  const auto& g = golden_data();
  const std::string name = GetParam();
  const auto& rec = g.manifest["types"][name];
  const GgmlType t = type_named(name);
  const size_t row_bytes = rec["row_bytes"];
  ASSERT_EQ(row_bytes, ggml_row_size(t, static_cast<uint64_t>(g.n)));
  const auto file = golden::read_file(golden::golden_dir() + rec["file"].get<std::string>());
  const size_t detail_rows = g.manifest["detail_rows"], deq_rows = g.manifest["dequant_rows"];
  ASSERT_EQ(file.size(), detail_rows * row_bytes + deq_rows * static_cast<size_t>(g.n) * 4);
  const std::vector<uint8_t> detail(file.begin(), file.begin() + static_cast<long>(detail_rows * row_bytes));

  const int64_t total = g.rows * g.n;
  std::vector<uint8_t> q(static_cast<size_t>(g.rows) * row_bytes), q_ref(q.size());
  quantize_row(t, g.input.data(), q.data(), total);
  ref::quantize_row(t, g.input.data(), q_ref.data(), total);
  const size_t block_bytes = ggml_info(t).type_size;
  EXPECT_EQ(sha256_hex(q.data(), q.size()), rec["quant_sha256"]) << first_mismatch(q, detail, row_bytes, block_bytes);
  EXPECT_EQ(sha256_hex(q_ref.data(), q_ref.size()), rec["quant_sha256"])
      << "ref: " << first_mismatch(q_ref, detail, row_bytes, block_bytes);

  // Dequantising ggml's own bytes of the detail rows gives ggml's floats.
  std::vector<float> y(deq_rows * static_cast<size_t>(g.n)), y_ref(y.size()), want(y.size());
  std::memcpy(want.data(), file.data() + detail_rows * row_bytes, want.size() * 4);
  dequantize_row(t, detail.data(), y.data(), static_cast<int64_t>(y.size()));
  ref::dequantize_row(t, detail.data(), y_ref.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < y.size(); ++i) {
    ASSERT_TRUE(golden::same_float(y[i], want[i]))
        << name << " dequantize, value " << i << " (row " << i / g.n << "): " << y[i] << " vs ggml " << want[i];
    ASSERT_TRUE(golden::same_float(y_ref[i], want[i])) << name << " ref dequantize, value " << i;
  }
  // And over all rows (our bytes equal ggml's when the quantize check passed).
  std::vector<float> all(static_cast<size_t>(total));
  dequantize_row(t, q.data(), all.data(), total);
  EXPECT_EQ(canon_float_sha(all), rec["dequant_sha256"]);
  ref::dequantize_row(t, q.data(), all.data(), total);
  EXPECT_EQ(canon_float_sha(all), rec["dequant_sha256"]);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantGolden,
                         ::testing::Values("f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q8_1", "q4_K",
                                           "q5_K", "q6_K", "q8_K"));

TEST(QuantGoldenSpecials, HalfConversionsOfInfNanAndRoundingCases) {
  const auto& sp = golden_data().manifest["specials"];
  std::vector<float> x;
  for (const auto& b : sp["input_bits"]) {
    const auto u = static_cast<uint32_t>(std::stoul(b.get<std::string>(), nullptr, 16));
    float f;
    std::memcpy(&f, &u, 4);
    x.push_back(f);
  }
  for (const char* name : {"f16", "bf16"}) {
    const GgmlType t = type_named(name);
    std::vector<uint8_t> q(x.size() * 2);
    quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));  // F16/BF16 accept NaN/Inf
    EXPECT_EQ(q, golden::from_hex(sp[name].get<std::string>())) << name;
  }
}

}  // namespace
}  // namespace scitune::quant
