// The imatrix reader (GGUF as llama-imatrix writes it, and the legacy .dat format): importance = in_sum2 /
// count as llama-quantize computes it, and every malformed input a UserError naming the file and the tensor.
// Also the has_imatrix rule of llama-quantize's type mix (Q4_0/Q5_0 ffn_down in the first n/8 layers).
#include "export/imatrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "export/gguf_types.h"
#include "io/gguf.h"
#include "model/config.h"
#include "model/gguf_model.h"
#include "model/tensor_names.h"
#include "util/error.h"

namespace scitune {
namespace {

std::span<const uint8_t> bytes_of(const std::vector<float>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)};
}

// A GGUF imatrix under construction; tensors keep their data alive here until to_bytes().
struct GgufImatrix {
  GgufWriter w;
  std::vector<std::vector<float>> keep;

  explicit GgufImatrix(bool metadata = true) {
    if (!metadata) return;
    w.add("general.type", GgufValue::str("imatrix"));
    w.add("imatrix.datasets", GgufValue::array(std::vector<std::string>{"wiki.train.raw", "other.txt"}));
    w.add("imatrix.chunk_count", GgufValue::u32(10));
    w.add("imatrix.chunk_size", GgufValue::u32(512));
  }
  GgufImatrix& tensor(const std::string& name, std::vector<float> v, std::vector<uint64_t> ne = {}) {
    if (ne.empty()) ne = {v.size()};
    keep.push_back(std::move(v));
    w.add_tensor(name, GgmlType::F32, ne, bytes_of(keep.back()));
    return *this;
  }
  ImportanceMatrix parse() {
    bytes = w.to_bytes();
    return parse_imatrix(bytes, "im.gguf");
  }
  std::vector<uint8_t> bytes;
};

void expect_user_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "accepted";
  } catch (const UserError& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << "\n  lacks: " << p;
  }
}

// One dense entry built by hand (GgufWriter needs the shape up front).
GgufImatrix dense_file() {
  GgufImatrix g;
  g.tensor("blk.0.attn_q.weight.in_sum2", {2, 4, 6, 8}, {4, 1});
  g.tensor("blk.0.attn_q.weight.counts", {2}, {1, 1});
  g.tensor("blk.0.attn_q.weight.in_sum", {1, 1, 1, 1}, {4, 1});
  g.tensor("blk.0.ffn_down.weight.in_sum2", {3, 5}, {2, 1});
  g.tensor("blk.0.ffn_down.weight.counts", {0}, {1, 1});
  g.tensor("blk.1.ffn_up_exps.weight.in_sum2", {3, 6, 10, 20}, {2, 2});
  g.tensor("blk.1.ffn_up_exps.weight.counts", {3, 5}, {1, 2});
  return g;
}

TEST(ImatrixGguf, ImportanceIsInSum2OverCount) {
  GgufImatrix g = dense_file();
  const ImportanceMatrix m = g.parse();
  EXPECT_FALSE(m.legacy);
  EXPECT_EQ(m.source, "im.gguf");
  EXPECT_EQ(m.datasets, (std::vector<std::string>{"wiki.train.raw", "other.txt"}));
  EXPECT_EQ(m.chunk_count, 10u);
  EXPECT_EQ(m.chunk_size, 512u);
  ASSERT_EQ(m.entries.size(), 3u);
  EXPECT_EQ(*m.find("blk.0.attn_q.weight"), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(*m.find("blk.0.ffn_down.weight"), (std::vector<float>{1, 1}));           // count 0: importance 1
  EXPECT_EQ(*m.find("blk.1.ffn_up_exps.weight"), (std::vector<float>{1, 2, 2, 4}));  // per-expert counts
  EXPECT_EQ(m.find("blk.9.attn_q.weight"), nullptr);
}

TEST(ImatrixGguf, CountsAreRoundedToIntegersFirst) {
  GgufImatrix g;
  g.tensor("a.weight.in_sum2", {3, 3}, {2, 1});
  g.tensor("a.weight.counts", {2.6f}, {1, 1});  // lround -> 3
  EXPECT_EQ(*g.parse().find("a.weight"), (std::vector<float>{1, 1}));
}

TEST(ImatrixGguf, MissingMetadataIsRefusedLikeLlamaQuantize) {
  for (const char* drop : {"imatrix.datasets", "imatrix.chunk_count", "imatrix.chunk_size"}) {
    GgufImatrix g = dense_file();
    g.w.remove(drop);
    expect_user_error([&] { g.parse(); }, {"im.gguf", drop, "metadata"});
  }
}

TEST(ImatrixGguf, MetadataTypesAreChecked) {
  GgufImatrix g = dense_file();
  g.w.set("imatrix.chunk_count", GgufValue::i32(10));
  expect_user_error([&] { g.parse(); }, {"im.gguf", "imatrix.chunk_count"});
  GgufImatrix h = dense_file();
  h.w.set("imatrix.datasets", GgufValue::str("wiki"));
  expect_user_error([&] { h.parse(); }, {"im.gguf", "imatrix.datasets"});
}

TEST(ImatrixGguf, BadEntriesNameTheFileAndTensor) {
  {
    GgufImatrix g;
    g.tensor("x.weight.in_sum2", {1, 2}, {2, 1});
    expect_user_error([&] { g.parse(); }, {"im.gguf", "\"x.weight\"", "no counts"});
  }
  {
    GgufImatrix g;
    g.tensor("x.weight.counts", {1}, {1, 1});
    expect_user_error([&] { g.parse(); }, {"im.gguf", "\"x.weight\"", "no in_sum2"});
  }
  {
    GgufImatrix g;
    g.tensor("x.weight.in_sum2", {1, 2, 3}, {3, 1});
    g.tensor("x.weight.counts", {1, 1}, {1, 2});
    expect_user_error([&] { g.parse(); }, {"im.gguf", "\"x.weight\"", "slices"});
  }
  for (float bad : {-1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 1e30f}) {
    GgufImatrix g;
    g.tensor("x.weight.in_sum2", {1, 2}, {2, 1});
    g.tensor("x.weight.counts", {bad}, {1, 1});
    expect_user_error([&] { g.parse(); }, {"im.gguf", "\"x.weight\"", "count 0"});
  }
  {
    GgufImatrix g;
    g.tensor("x.weight.in_sum2", {1, std::numeric_limits<float>::infinity()}, {2, 1});
    g.tensor("x.weight.counts", {4}, {1, 1});
    expect_user_error([&] { g.parse(); }, {"im.gguf", "\"x.weight\"", "value 1", "not finite"});
  }
  {
    GgufImatrix g;
    g.tensor("x.weight.in_sum2", {1, 2}, {2, 1});
    g.tensor("x.weight.counts", {4}, {1, 1});
    g.tensor("x.weight.in_sum", {1, 2, 3}, {3, 1});
    expect_user_error([&] { g.parse(); }, {"im.gguf", "\"x.weight\"", "in_sum has 3"});
  }
  {
    GgufImatrix g;
    std::vector<uint16_t> half(2, 0x3C00);
    g.w.add_tensor("x.weight.in_sum2", GgmlType::F16, {2, 1},
                   std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(half.data()), 4));
    g.tensor("x.weight.counts", {4}, {1, 1});
    expect_user_error([&] { g.parse(); }, {"im.gguf", "x.weight.in_sum2", "f16", "f32"});
  }
  {
    GgufImatrix g;  // a GGUF without a single imatrix entry (e.g. a model)
    g.tensor("token_embd.weight", {1, 2}, {2, 1});
    expect_user_error([&] { g.parse(); }, {"im.gguf", "no importance entries"});
  }
}

// ---- legacy .dat ----

struct Dat {
  std::vector<uint8_t> b;
  Dat& i32(int32_t v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + 4);
    return *this;
  }
  Dat& str(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Dat& floats(const std::vector<float>& v) {
    const auto s = bytes_of(v);
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Dat& entry(const std::string& name, int32_t ncall, const std::vector<float>& v) {
    return i32(static_cast<int32_t>(name.size())).str(name).i32(ncall).i32(static_cast<int32_t>(v.size())).floats(v);
  }
  ImportanceMatrix parse() const { return parse_imatrix(b, "im.dat"); }
};

Dat legacy_file() {
  Dat d;
  d.i32(2).entry("blk.0.attn_k.weight", 4, {4, 8, 12}).entry("blk.0.attn_v.weight", 0, {5, 6});
  return d;
}

TEST(ImatrixLegacy, ImportanceIsSumOverCalls) {
  Dat d = legacy_file();
  d.i32(7).i32(9).str("calib.txt");
  const ImportanceMatrix m = d.parse();
  EXPECT_TRUE(m.legacy);
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(*m.find("blk.0.attn_k.weight"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(*m.find("blk.0.attn_v.weight"), (std::vector<float>{5, 6}));  // ncall 0: the sums as they are
  EXPECT_EQ(m.chunk_count, 7u);
  EXPECT_EQ(m.datasets, std::vector<std::string>{"calib.txt"});
}

TEST(ImatrixLegacy, TrailerIsOptional) {
  const ImportanceMatrix m = legacy_file().parse();
  EXPECT_EQ(m.chunk_count, 0u);
  EXPECT_TRUE(m.datasets.empty());
  Dat d = legacy_file();
  d.i32(3);  // chunk count only
  EXPECT_EQ(d.parse().chunk_count, 3u);
}

TEST(ImatrixLegacy, MalformedFilesAreRefused) {
  expect_user_error([] { Dat{}.parse(); }, {"im.dat", "ends inside the entry count"});
  expect_user_error([] { Dat{}.i32(0).parse(); }, {"im.dat", "0 entries"});
  expect_user_error([] { Dat{}.i32(3).i32(8).str("x.weight").parse(); }, {"im.dat", "not an imatrix", "3 entries"});
  const std::string pad(16, 'x');
  expect_user_error([&] { Dat{}.i32(1).i32(0).str(pad).parse(); }, {"im.dat", "name length 0"});
  expect_user_error([&] { Dat{}.i32(1).i32(1 << 30).str(pad).parse(); }, {"im.dat", "name length"});
  expect_user_error([&] { Dat{}.i32(1).i32(40).str(pad).parse(); }, {"im.dat", "ends inside entry 1 of 1's name"});
  expect_user_error([] { Dat{}.i32(1).i32(3).str(std::string("a\0b", 3)).i32(1).i32(1).floats({1}).parse(); },
                    {"im.dat", "NUL"});
  expect_user_error([] { Dat{}.i32(1).entry("x.weight", 1, {}).parse(); }, {"im.dat", "\"x.weight\"", "0 values"});
  expect_user_error(
      [] {
        Dat{}.i32(1).i32(8).str("x.weight").i32(1).i32(4).floats({1, 2}).parse();
      },
      {"im.dat", "\"x.weight\"'s values"});
  expect_user_error([] { Dat{}.i32(2).entry("x.weight", 1, {1}).entry("x.weight", 1, {2}).parse(); },
                    {"im.dat", "\"x.weight\"", "twice"});
  expect_user_error([] { Dat{}.i32(1).entry("x.weight", 1, {std::numeric_limits<float>::quiet_NaN()}).parse(); },
                    {"im.dat", "\"x.weight\"", "not finite"});
  expect_user_error([] { legacy_file().i32(1).i32(-1).parse(); }, {"im.dat", "dataset name length -1"});
  expect_user_error([] { legacy_file().i32(1).i32(4).str("ab").parse(); }, {"im.dat", "dataset name"});
  expect_user_error([] { legacy_file().i32(1).i32(1).str("ab").parse(); }, {"im.dat", "1 unexpected bytes"});
  expect_user_error([] { legacy_file().str("xy").parse(); }, {"im.dat", "chunk count"});
}

TEST(Imatrix, EveryTruncationIsAUserErrorOrParses) {
  GgufImatrix g = dense_file();
  g.parse();
  Dat d = legacy_file();
  d.i32(7).i32(9).str("calib.txt");
  for (const std::vector<uint8_t>* whole : {&g.bytes, &d.b})
    for (size_t n = 0; n < whole->size(); ++n) {
      const std::vector<uint8_t> cut(whole->begin(), whole->begin() + static_cast<std::ptrdiff_t>(n));
      try {
        parse_imatrix(cut, "cut");
      } catch (const UserError&) {
      }
    }
}

TEST(Imatrix, MissingFileNamesThePath) {
  expect_user_error([] { read_imatrix("/nonexistent/im.gguf"); }, {"/nonexistent/im.gguf"});
}

// ---- the type mix with an imatrix ----

std::vector<GgufTensorPlan> plan_270m(std::string_view type, bool has_imatrix) {
  std::vector<GgufTensorPlan> v;
  for (const TensorDesc& d : text_tensors(*preset("gemma3-270m"))) {
    if (d.role == TensorRole::kLmHead) continue;
    v.push_back({*gguf_tensor_name(d.name), std::vector<uint64_t>(d.shape.rbegin(), d.shape.rend())});
  }
  plan_gguf_types(*parse_gguf_file_type(type), v, has_imatrix);
  return v;
}

TEST(ImatrixTypes, Q4_0AndQ5_0FfnDownOfTheFirstEighthOfLayersMoveUp) {
  // 18 layers: 18 / 8 = 2, so blk.0 and blk.1 ffn_down (llama-quantize's guard, only with an imatrix).
  for (const auto& [ft, from, to] :
       {std::tuple{"q4_0", GgmlType::Q4_0, GgmlType::Q4_1}, std::tuple{"q5_0", GgmlType::Q5_0, GgmlType::Q5_1}}) {
    const auto with = plan_270m(ft, true), without = plan_270m(ft, false);
    ASSERT_EQ(with.size(), without.size());
    int changed = 0;
    for (size_t i = 0; i < with.size(); ++i) {
      if (with[i].type == without[i].type) continue;
      ++changed;
      EXPECT_TRUE(with[i].name == "blk.0.ffn_down.weight" || with[i].name == "blk.1.ffn_down.weight") << with[i].name;
      EXPECT_EQ(without[i].type, from);
      EXPECT_EQ(with[i].type, to);
    }
    EXPECT_EQ(changed, 2) << ft;
  }
}

TEST(ImatrixTypes, OtherFileTypesAreUnchanged) {
  for (const char* ft : {"q8_0", "q4_1", "q5_1", "q4_k_m", "q5_k_m", "q6_k", "f16"}) {
    const auto with = plan_270m(ft, true), without = plan_270m(ft, false);
    for (size_t i = 0; i < with.size(); ++i) EXPECT_EQ(with[i].type, without[i].type) << ft << " " << with[i].name;
  }
}

}  // namespace
}  // namespace scitune
