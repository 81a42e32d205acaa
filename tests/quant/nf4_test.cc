// NF4 against bitsandbytes 0.50 on CPU (tests/golden/quant/nf4.json from tools/oracle/make_quant_golden.py),
// plus the contract: validation errors, nibble order, tie rule, state checks.
#include "quant/nf4.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "golden_util.h"
#include "quant/test_data.h"
#include "util/error.h"

namespace scitune {
namespace {

using quant::golden::from_hex;
using quant::golden::sha256_hex;

const nlohmann::json& nf4_golden() {
  static const nlohmann::json j = quant::golden::read_json("nf4.json");
  return j;
}

std::string bits_hex(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", u);
  return buf;
}

std::string canon_sha(const std::vector<float>& y) {
  std::vector<uint32_t> bits(y.size());
  std::memcpy(bits.data(), y.data(), y.size() * 4);
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i] != y[i]) bits[i] = 0x7FC00000u;
  return sha256_hex(bits.data(), bits.size() * 4);
}

// The case's input: rows of the shape's last dimension, kinds cycling through the recorded list.
std::vector<float> case_input(const nlohmann::json& c) {
  std::vector<int64_t> shape = c["shape"];
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const int64_t cols = shape.back(), rows = n / cols;
  const std::vector<int> kinds = c["kinds"];
  const uint64_t seed = c["seed"];
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r)
    quant::testdata::make_row(seed, static_cast<uint64_t>(r), kinds[r % kinds.size()], x.data() + r * cols, cols);
  return x;
}

TEST(Nf4Golden, CodeBookAndDynamicMapMatchBitsandbytes) {
  const auto& c0 = nf4_golden()["cases"]["bs64_dq"];
  const std::vector<float> qmap = c0["quant_map"];
  ASSERT_EQ(qmap.size(), 16u);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(bits_hex(nf4_code()[i]), bits_hex(qmap[i])) << i;
  const auto dyn = from_hex(nf4_golden()["dynamic_map"].get<std::string>());
  ASSERT_EQ(dyn.size(), 256u * 4);
  EXPECT_EQ(std::memcmp(dyn.data(), bnb_dynamic_map().data(), dyn.size()), 0);
  EXPECT_EQ(sha256_hex(bnb_dynamic_map().data(), 1024), c0["nested_quant_map_sha256"]);
}

class Nf4GoldenCase : public ::testing::TestWithParam<std::string> {};

TEST_P(Nf4GoldenCase, QuantizeAndDequantizeMatchBitsandbytes) {
  const auto& c = nf4_golden()["cases"][GetParam()];
  const auto x = case_input(c);
  const int bs = c["blocksize"];
  const bool dq = c["double_quant"];
  const int threads = nf4_golden()["threads"];
  const Nf4Quantized q = nf4_quantize(x, bs, dq, threads);
  ASSERT_EQ(q.nested, dq);

  const auto head = from_hex(c["packed_head"].get<std::string>());
  for (size_t i = 0; i < head.size(); ++i)
    ASSERT_EQ(q.packed[i], head[i]) << "packed byte " << i << " (block " << 2 * i / bs << ")";
  EXPECT_EQ(sha256_hex(q.packed.data(), q.packed.size()), c["packed_sha256"]);

  if (dq) {
    const auto& plain = nf4_quantize(x, bs, false).absmax;
    EXPECT_EQ(sha256_hex(plain.data(), plain.size() * 4), c["absmax_plain_sha256"]);
    EXPECT_EQ(bits_hex(quant::bnb::torch_mean_f32(plain, 1)), c["absmax_mean_bits_threads1"]);
    EXPECT_EQ(bits_hex(quant::bnb::torch_mean_f32(plain, 2)), c["absmax_mean_bits_threads2"]);
    EXPECT_EQ(bits_hex(q.nested_offset), c["nested_offset_bits"]);
    EXPECT_EQ(q.nested_blocksize, c["nested_blocksize"]);
    const auto nested = from_hex(c["nested_absmax"].get<std::string>());
    ASSERT_EQ(nested.size(), q.nested_absmax.size() * 4);
    EXPECT_EQ(std::memcmp(nested.data(), q.nested_absmax.data(), nested.size()), 0);
    const auto ahead = from_hex(c["absmax_head"].get<std::string>());
    for (size_t i = 0; i < ahead.size(); ++i) ASSERT_EQ(q.absmax_q[i], ahead[i]) << "absmax code " << i;
    EXPECT_EQ(sha256_hex(q.absmax_q.data(), q.absmax_q.size()), c["absmax_sha256"]);
  } else {
    EXPECT_EQ(sha256_hex(q.absmax.data(), q.absmax.size() * 4), c["absmax_sha256"]);
  }

  std::vector<float> y(x.size());
  nf4_dequantize(q, y);
  const auto dhead = from_hex(c["dequant_head"].get<std::string>());
  for (size_t i = 0; i < dhead.size() / 4; ++i) {
    float want;
    std::memcpy(&want, dhead.data() + 4 * i, 4);
    ASSERT_TRUE(quant::golden::same_float(y[i], want)) << "value " << i << ": " << y[i] << " vs bnb " << want;
  }
  EXPECT_EQ(canon_sha(y), c["dequant_sha256"]);
}

INSTANTIATE_TEST_SUITE_P(Bnb, Nf4GoldenCase,
                         ::testing::Values("bs64_dq", "bs64_plain", "bs32_dq", "bs128_dq", "bs256_plain", "bs1024_dq",
                                           "bs2048_dq", "bs4096_dq", "tail_dq", "odd_1d_dq", "big_dq", "weights_dq",
                                           "big_weights_dq"));

TEST(Nf4, TorchMeanDependsOnThreadsOnlyAboveGrainSize) {
  std::vector<float> a(40000);
  for (size_t i = 0; i < a.size(); ++i) a[i] = 1.0f + static_cast<float>(i % 977) * 1e-3f;
  std::vector<float> small(a.begin(), a.begin() + 30000);
  EXPECT_EQ(quant::bnb::torch_mean_f32(small, 1), quant::bnb::torch_mean_f32(small, 4));
  double exact = 0;
  for (float v : a) exact += v;
  exact /= static_cast<double>(a.size());
  for (int t : {1, 2, 3}) EXPECT_NEAR(quant::bnb::torch_mean_f32(a, t), exact, 1e-6 * exact);
}

TEST(Nf4, PacksFirstValueInHighNibbleAndTiesGoDown) {
  const auto& c = nf4_code();
  std::vector<float> x(64, 0.0f);
  x[0] = 1.0f;                        // absmax 1: codes are the values themselves
  x[1] = -1.0f;                       // code 0
  x[2] = c[9];                        // exact code value
  x[3] = (c[9] + c[10]) / 2;          // exactly on the midpoint: the lower code
  x[4] = std::nextafter(x[3], 2.0f);  // just above: the upper code
  const auto q = nf4_quantize(x, 64, false);
  ASSERT_EQ(q.packed.size(), 32u);
  EXPECT_EQ(q.packed[0], 0xF0);  // 15 high, 0 low
  EXPECT_EQ(q.packed[1], 0x99);  // 9, 9 (tie down)
  EXPECT_EQ(q.packed[2] >> 4, 10);
  EXPECT_EQ(q.packed[2] & 0xF, 7);  // zero is code 7
  std::vector<float> y(64);
  nf4_dequantize(q, y);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -1.0f);
  EXPECT_EQ(y[63], 0.0f);
}

TEST(Nf4, RoundTripErrorIsBoundedByHalfTheCodeGap) {
  std::vector<float> x(64 * 50);
  for (int r = 0; r < 50; ++r) quant::testdata::make_row(7, static_cast<uint64_t>(r), 0, x.data() + 64 * r, 64);
  const auto q = nf4_quantize(x, 64, false);
  std::vector<float> y(x.size());
  nf4_dequantize(q, y);
  float max_gap = 0;
  for (int i = 0; i < 15; ++i) max_gap = std::max(max_gap, nf4_code()[i + 1] - nf4_code()[i]);
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_LE(std::fabs(x[i] - y[i]), q.absmax[i / 64] * (max_gap / 2 + 1e-6f)) << i;
}

TEST(Nf4, DoubleQuantRecoversAbsmaxClosely) {
  std::vector<float> x(64 * 512);
  for (int r = 0; r < 512; ++r) quant::testdata::make_row(9, static_cast<uint64_t>(r), 0, x.data() + 64 * r, 64);
  const auto plain = nf4_quantize(x, 64, false);
  const auto nested = nf4_quantize(x, 64, true);
  EXPECT_EQ(nested.packed, plain.packed);  // double quant changes the scales, not the codes
  const auto rec = nf4_block_absmax(nested);
  ASSERT_EQ(rec.size(), plain.absmax.size());
  for (size_t b = 0; b < rec.size(); ++b) {
    const float spread = nested.nested_absmax[b / 256];  // 8-bit dynamic code: error well below 1% of it
    EXPECT_NEAR(rec[b], plain.absmax[b], 0.01f * spread + 1e-6f) << b;
  }
  EXPECT_EQ(nested.absmax_q.size(), 512u);
  EXPECT_EQ(nested.nested_absmax.size(), 2u);
  EXPECT_TRUE(nested.absmax.empty());
}

TEST(Nf4, RejectsBadInput) {
  std::vector<float> x(128, 1.0f);
  for (int bs : {0, 16, 48, 8192, -64}) EXPECT_THROW(nf4_quantize(x, bs), UserError) << bs;
  for (int bs : {32, 64, 128, 256, 512, 1024, 2048, 4096}) EXPECT_NO_THROW(nf4_quantize(x, bs)) << bs;
  EXPECT_THROW(nf4_quantize(std::span<const float>(), 64), UserError);
  x[77] = NAN;
  try {
    nf4_quantize(x, 64);
    FAIL() << "NaN accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("element 77"), std::string::npos) << e.what();
  }
  x[77] = INFINITY;
  EXPECT_THROW(nf4_quantize(x, 64), UserError);
  std::vector<float> huge(64 * 4, 3e38f);  // absmax mean overflows fp32
  EXPECT_THROW(nf4_quantize(huge, 64, true), UserError);
  EXPECT_NO_THROW(nf4_quantize(huge, 64, false));
}

TEST(Nf4, DequantizeValidatesTheState) {
  std::vector<float> x(1000, 0.5f);
  const auto good = nf4_quantize(x, 64, true);
  std::vector<float> y(1000);
  EXPECT_NO_THROW(nf4_dequantize(good, y));
  auto bad = good;
  bad.packed.pop_back();
  EXPECT_THROW(nf4_dequantize(bad, y), UserError);
  bad = good;
  bad.absmax_q.pop_back();
  EXPECT_THROW(nf4_dequantize(bad, y), UserError);
  bad = good;
  bad.nested_absmax.clear();
  EXPECT_THROW(nf4_dequantize(bad, y), UserError);
  bad = good;
  bad.blocksize = 100;
  EXPECT_THROW(nf4_dequantize(bad, y), UserError);
  bad = good;
  bad.shape = {10, 100};  // same numel: fine
  EXPECT_NO_THROW(nf4_dequantize(bad, y));
  bad.shape = {10, 101};
  EXPECT_THROW(nf4_dequantize(bad, y), UserError);
  auto plain = nf4_quantize(x, 64, false);
  plain.absmax.push_back(1.0f);
  EXPECT_THROW(nf4_dequantize(plain, y), UserError);
  std::vector<float> short_out(999);
  EXPECT_THROW(nf4_dequantize(good, short_out), InternalError);
}

TEST(Nf4, StateCarriesSerialisationFields) {
  std::vector<float> x(640, 0.25f);
  const auto q = nf4_quantize(x, 64, true);
  EXPECT_EQ(q.quant_type, "nf4");
  EXPECT_EQ(q.blocksize, 64);
  EXPECT_EQ(q.shape, std::vector<int64_t>{640});
  EXPECT_EQ(q.nested_blocksize, 256);
  EXPECT_STREQ(Nf4Quantized::kNestedDtype, "float32");
  EXPECT_EQ(q.quant_map, nf4_code());
  EXPECT_EQ(q.nested_quant_map, bnb_dynamic_map());
  EXPECT_EQ(q.nested_offset, 0.25f);  // mean of ten equal absmax values
}

}  // namespace
}  // namespace scitune
