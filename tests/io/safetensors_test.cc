#include "io/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "io/safetensors_index.h"
#include "util/error.h"
#include "util/half.h"
#include "test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class SafetensorsTest : public ::scitune::testing::TempDirTest {};

using ::scitune::testing::error_of;

// A file image: 8-byte LE length, header text, data bytes.
std::vector<uint8_t> image(const std::string& header, const std::vector<uint8_t>& data = {}) {
  std::vector<uint8_t> out(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string parse_error(const std::string& header, size_t data_bytes = 0) {
  auto img = image(header, std::vector<uint8_t>(data_bytes));
  return error_of([&] { SafetensorsHeader::parse(img, "m.safetensors"); });
}

void write_bytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST_F(SafetensorsTest, RoundTripEveryDtypeShapeAndMetadata) {
  std::mt19937 rng(7);
  const std::vector<DType> dtypes = {DType::F32, DType::F16, DType::BF16, DType::I64,  DType::I32, DType::U8, DType::I8,
                                     DType::F64, DType::I16, DType::U16,  DType::BOOL, DType::U32, DType::U64};
  const std::vector<std::vector<int64_t>> shapes = {{3, 5}, {}, {0}, {7}, {2, 0, 3}, {1, 1, 3}};
  std::vector<TensorData> tensors;
  std::vector<std::vector<uint8_t>> storage;
  storage.reserve(dtypes.size() * shapes.size());
  for (DType dt : dtypes)
    for (size_t s = 0; s < shapes.size(); ++s) {
      TensorSpec spec{std::string(dtype_name(dt)) + ".t" + std::to_string(s), dt, shapes[s]};
      storage.emplace_back(spec.nbytes());
      for (auto& b : storage.back()) b = static_cast<uint8_t>(rng());
      tensors.push_back({spec, storage.back()});
    }
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "h\u00e9llo \"q\""}};
  const fs::path p = dir_ / "rt.safetensors";
  write_safetensors(p, tensors, meta);

  SafetensorsFile f(p);
  EXPECT_EQ(f.metadata(), meta);
  EXPECT_EQ(f.header().header_size() % 8, 0u) << "header padded to 8 bytes";
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (const auto& t : tensors) {
    SCOPED_TRACE(t.spec.name);
    auto v = f.tensor(t.spec.name);
    EXPECT_EQ(v.dtype(), t.spec.dtype);
    EXPECT_EQ(std::vector<int64_t>(v.shape().begin(), v.shape().end()), t.spec.shape);
    ASSERT_EQ(v.data.size(), t.bytes.size());
    EXPECT_TRUE(std::equal(v.data.begin(), v.data.end(), t.bytes.begin()));
    // Larger dtypes are written first, so every tensor is aligned to its element size.
    EXPECT_EQ(v.info->begin % dtype_size(v.dtype()), 0u);
  }
  EXPECT_EQ(f.tensor("F32.t1").numel(), 1u) << "0-dim scalar has one element";
  EXPECT_EQ(f.tensor("F32.t2").numel(), 0u);
}

TEST_F(SafetensorsTest, EmptyFileWithoutTensors) {
  const fs::path p = dir_ / "empty.safetensors";
  write_safetensors(p, {});
  EXPECT_EQ(fs::file_size(p), 16u);  // 8 + "{}" padded to 8, as the reference writes it
  SafetensorsFile f(p);
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_TRUE(f.metadata().empty());
}

TEST_F(SafetensorsTest, ViewsAreZeroCopyAndTypedAccessWorks) {
  const std::vector<float> vals = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f};
  TensorSpec spec{"w", DType::F32, {2, 3}};
  const fs::path p = dir_ / "w.safetensors";
  write_safetensors(p, {{spec, {reinterpret_cast<const uint8_t*>(vals.data()), vals.size() * 4}}});
  SafetensorsFile f(p);
  auto v = f.tensor("w");
  auto typed = v.as<float>();
  ASSERT_EQ(typed.size(), 6u);
  EXPECT_EQ(typed[2], 3.25f);
  EXPECT_EQ(static_cast<const void*>(typed.data()), static_cast<const void*>(v.data.data()));
  EXPECT_EQ(f.tensor("w").data.data(), v.data.data()) << "same bytes every time: a view into the map";
  EXPECT_EQ(v.to_f32(), vals);
  auto msg = error_of([&] { v.as<uint16_t>(); });
  EXPECT_NE(msg.find("tensor \"w\" is F32"), std::string::npos) << msg;
}

TEST_F(SafetensorsTest, ToF32ConvertsHalfTypes) {
  const std::vector<float> vals = {1.0f, -0.5f, 65504.0f, 0.099975586f};
  std::vector<uint16_t> h, b;
  for (float x : vals) h.push_back(fp32_to_fp16(x)), b.push_back(fp32_to_bf16(x));
  const fs::path p = dir_ / "h.safetensors";
  write_safetensors(p, {{{"h", DType::F16, {4}}, {reinterpret_cast<const uint8_t*>(h.data()), 8}},
                        {{"b", DType::BF16, {4}}, {reinterpret_cast<const uint8_t*>(b.data()), 8}}});
  SafetensorsFile f(p);
  auto hf = f.tensor("h").to_f32();
  auto bf = f.tensor("b").to_f32();
  for (size_t i = 0; i < vals.size(); ++i) {
    EXPECT_EQ(hf[i], fp16_to_fp32(h[i]));
    EXPECT_EQ(bf[i], bf16_to_fp32(b[i]));
  }
  EXPECT_EQ(hf[2], 65504.0f);
}

TEST_F(SafetensorsTest, UnpaddedAndUnalignedFilesFromOtherWritersAreRead) {
  // Header of 61 bytes: data starts at byte 69, so the F32 data is misaligned in memory.
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::vector<uint8_t> data(8);
  const float two[2] = {2.0f, -4.0f};
  std::memcpy(data.data(), two, 8);
  write_bytes(dir_ / "u.safetensors", image(header, data));
  SafetensorsFile f(dir_ / "u.safetensors");
  auto v = f.tensor("a");
  EXPECT_EQ(v.to_f32(), (std::vector<float>{2.0f, -4.0f}));
  if (reinterpret_cast<uintptr_t>(v.data.data()) % 4 != 0) {
    auto msg = error_of([&] { v.as<float>(); });
    EXPECT_NE(msg.find("not aligned"), std::string::npos) << msg;
  }
}

TEST_F(SafetensorsTest, WriterRefusesToOverwriteUnlessAsked) {
  const fs::path p = dir_ / "x.safetensors";
  write_safetensors(p, {});
  auto msg = error_of([&] { write_safetensors(p, {}); });
  EXPECT_NE(msg.find("already exists"), std::string::npos) << msg;
  const uint8_t one = 1;
  write_safetensors(p, {{{"t", DType::U8, {1}}, {&one, 1}}}, {}, Overwrite::kYes);
  EXPECT_TRUE(SafetensorsFile(p).contains("t"));
}

TEST_F(SafetensorsTest, WriterValidatesInput) {
  const uint8_t b[4] = {};
  const fs::path p = dir_ / "bad.safetensors";
  auto msg = error_of([&] {
    write_safetensors(p, {{{"t", DType::U8, {1}}, {b, 1}}, {{"t", DType::U8, {1}}, {b, 1}}});
  });
  EXPECT_NE(msg.find("duplicate tensor name \"t\""), std::string::npos) << msg;
  msg = error_of([&] { write_safetensors(p, {{{"__metadata__", DType::U8, {1}}, {b, 1}}}); });
  EXPECT_NE(msg.find("reserved"), std::string::npos) << msg;
  msg = error_of([&] { write_safetensors(p, {{{"", DType::U8, {1}}, {b, 1}}}); });
  EXPECT_NE(msg.find("must not be empty"), std::string::npos) << msg;
  msg = error_of([&] { write_safetensors(p, {{{"t", DType::F32, {2}}, {b, 4}}}); });
  EXPECT_NE(msg.find("tensor \"t\": 4 bytes given but shape [2] x F32 needs 8"), std::string::npos) << msg;
  msg = error_of([&] { write_safetensors(p, {{{"t", DType::F32, {-1}}, {b, 0}}}); });
  EXPECT_NE(msg.find("shape [-1] is negative or overflows"), std::string::npos) << msg;
  msg = error_of([&] { write_safetensors(p, {{{"\xff", DType::U8, {1}}, {b, 1}}}); });
  EXPECT_NE(msg.find("not valid UTF-8"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(p)) << "nothing is left behind by a failed write";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 0) << "no temp files either";
}

TEST_F(SafetensorsTest, StreamingWriterChecksFillerByteCount) {
  const fs::path p = dir_ / "s.safetensors";
  EXPECT_THROW(write_safetensors_streaming(p, {{"t", DType::F32, {4}}}, {},
                                           [](const TensorSpec&, TensorSink& s) {
                                             const uint8_t z[8] = {};
                                             s.write(z);
                                           }),
               InternalError);
  EXPECT_FALSE(fs::exists(p));
}

// --- validation: each rule has a failing input whose message names the field ---

TEST(SafetensorsValidation, FileAndHeaderFraming) {
  std::vector<uint8_t> tiny = {1, 2, 3};
  auto msg = error_of([&] { SafetensorsHeader::parse(tiny, "m.safetensors"); });
  EXPECT_NE(msg.find("m.safetensors: file is 3 bytes, too short"), std::string::npos) << msg;

  auto huge = image("{}");
  huge[3] = 0x10;  // 256 MiB header length
  msg = error_of([&] { SafetensorsHeader::parse(huge, "m.safetensors"); });
  EXPECT_NE(msg.find("header length 268435458 exceeds the limit of 100000000"), std::string::npos) << msg;

  auto trunc = image("{}    ");
  trunc[0] = 40;
  msg = error_of([&] { SafetensorsHeader::parse(trunc, "m.safetensors"); });
  EXPECT_NE(msg.find("header length 40 but only 6 bytes follow"), std::string::npos) << msg;

  EXPECT_NE(parse_error(" {}").find("starting with '{'"), std::string::npos);
  EXPECT_NE(parse_error("[1]").find("starting with '{'"), std::string::npos);
  EXPECT_NE(parse_error("").find("starting with '{'"), std::string::npos);
  EXPECT_NE(parse_error("{\"a\":").find("invalid JSON"), std::string::npos);
  msg = parse_error(R"({"a":{"dtype":"F32","shape":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]],"data_offsets":[0,4]}})");
  EXPECT_NE(msg.find("nested deeper"), std::string::npos) << msg;
}

TEST(SafetensorsValidation, DuplicateTensorNames) {
  auto msg = parse_error(
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
      2);
  EXPECT_NE(msg.find("duplicate key \"a\""), std::string::npos) << msg;
}

TEST(SafetensorsValidation, Metadata) {
  auto msg = parse_error(R"({"__metadata__":["x"]})");
  EXPECT_NE(msg.find("\"__metadata__\": expected an object, found array"), std::string::npos) << msg;
  msg = parse_error(R"({"__metadata__":{"format":"pt","n":3}})");
  EXPECT_NE(msg.find("\"__metadata__\" \"n\": expected a string, found integer 3"), std::string::npos) << msg;
  msg = parse_error(R"({"__metadata__":{"k":"a","k":"b"}})");
  EXPECT_NE(msg.find("duplicate key \"k\""), std::string::npos) << msg;
}

TEST(SafetensorsValidation, EntryFields) {
  struct Case {
    std::string header;
    size_t data;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {R"({"a":[1]})", 0, "tensor \"a\": expected an object"},
      {R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4, "tensor \"a\": missing \"dtype\""},
      {R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1,
       "tensor \"a\": dtype \"F8_E4M3\" is not supported"},
      {R"({"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", 4, "dtype \"f32\" is not supported"},
      {R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4, "tensor \"a\": \"dtype\": expected a string"},
      {R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4, "tensor \"a\": missing \"shape\""},
      {R"({"a":{"dtype":"F32","shape":{},"data_offsets":[0,4]}})", 4, "\"shape\": expected an array"},
      {R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4,
       "\"shape\"[0]: expected a non-negative integer, found -1"},
      {R"({"a":{"dtype":"F32","shape":[1,2.5],"data_offsets":[0,4]}})", 4,
       "\"shape\"[1]: expected a non-negative integer, found number 2.5"},
      {R"({"a":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]}})", 4,
       "\"shape\"[0] = 9223372036854775808 is too large"},
      {R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4,
       "\"shape\" [4294967296, 4294967296] overflows 64 bits"},
      {R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}})", 4, "overflows 64 bits"},
      {R"({"a":{"dtype":"F32","shape":[1]}})", 4, "tensor \"a\": missing \"data_offsets\""},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 4,
       "\"data_offsets\" must be [begin, end], found 3 values"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4,
       "\"data_offsets\"[0]: expected a non-negative integer"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4, "\"data_offsets\" [4, 0] has begin > end"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", 4,
       "\"data_offsets\" [0, 8] reach past the data section of 4 bytes"},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8,
       "tensor \"a\": \"data_offsets\" [0, 8] span 8 bytes but \"shape\" [3] x F32 needs 12 bytes"},
      {R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,0]}})", 0, "\"shape\" [] x F32 needs 4 bytes"},
  };
  for (const auto& c : cases) {
    auto msg = parse_error(c.header, c.data);
    EXPECT_NE(msg.find("m.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.header << "\n  -> " << msg;
  }
}

TEST(SafetensorsValidation, TensorsMustTileTheDataSection) {
  auto msg = parse_error(
      R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
      6);
  EXPECT_NE(msg.find("tensor \"b\": \"data_offsets\" [2, 6] overlap tensor \"a\" which ends at 4"), std::string::npos)
      << msg;
  msg = parse_error(
      R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
      6);
  EXPECT_NE(msg.find("tensor \"b\": \"data_offsets\" [4, 6] leave a hole of 2 bytes after tensor \"a\""),
            std::string::npos)
      << msg;
  msg = parse_error(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})", 3);
  EXPECT_NE(msg.find("leave a hole of 1 bytes after the header"), std::string::npos) << msg;
  msg = parse_error(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 5);
  EXPECT_NE(msg.find("data section is 5 bytes but the tensors cover only 2"), std::string::npos) << msg;
  // Identical ranges (two names for one buffer) overlap too.
  msg = parse_error(
      R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})",
      2);
  EXPECT_NE(msg.find("overlap"), std::string::npos) << msg;
  // Out-of-order entries and empty tensors are fine.
  auto img = image(
      R"({"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},"e":{"dtype":"F32","shape":[0],"data_offsets":[2,2]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})",
      std::vector<uint8_t>(4));
  auto h = SafetensorsHeader::parse(img, "m");
  ASSERT_EQ(h.tensors().size(), 3u);
  EXPECT_EQ(h.tensors()[0].name, "a");
  EXPECT_EQ(h.tensors()[2].name, "b");
}

// --- interop: files written by Python (the shared golden data) ---

TEST(SafetensorsGolden, ReadsPythonWrittenFile) {
  const fs::path p = fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny/golden.safetensors";
  if (!fs::exists(p)) GTEST_SKIP() << "shared golden data not found at " << p;
  SafetensorsFile f(p);
  auto ids = f.tensor("input_ids");
  EXPECT_EQ(ids.dtype(), DType::I64);
  EXPECT_EQ(std::vector<int64_t>(ids.shape().begin(), ids.shape().end()), (std::vector<int64_t>{2, 16}));
  EXPECT_EQ(ids.as<int64_t>()[0], 2) << "sequences start with BOS";
  auto logits = f.tensor("logits");
  EXPECT_EQ(logits.dtype(), DType::F32);
  EXPECT_EQ(logits.numel(), 2u * 16u * 512u);
}

// --- sharded models ---

class TensorStoreTest : public SafetensorsTest {
 protected:
  void make_shards() {
    const uint8_t a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
    write_safetensors(dir_ / "s-1.safetensors", {{{"a", DType::U8, {4}}, a}});
    write_safetensors(dir_ / "s-2.safetensors", {{{"b", DType::I16, {1}}, b}});
  }
  void write_index(const std::string& text) { std::ofstream(dir_ / "model.safetensors.index.json") << text; }
};

TEST_F(TensorStoreTest, OneLookupAcrossShards) {
  make_shards();
  write_index(R"({"metadata":{"total_size":6},"weight_map":{"a":"s-1.safetensors","b":"s-2.safetensors"}})");
  auto store = TensorStore::open_folder(dir_);
  EXPECT_EQ(store.num_files(), 2u);
  EXPECT_EQ(store.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(store.tensor("a").data[3], 4);
  EXPECT_EQ(store.tensor("b").dtype(), DType::I16);
  EXPECT_EQ(store.index_metadata()["total_size"], 6);
  EXPECT_FALSE(store.find("c").has_value());
  auto msg = error_of([&] { store.tensor("c"); });
  EXPECT_NE(msg.find("no tensor named \"c\""), std::string::npos) << msg;
  TensorStore moved = std::move(store);
  EXPECT_EQ(moved.tensor("a").data[0], 1) << "views survive moving the store";
}

TEST_F(TensorStoreTest, SingleFileFolder) {
  const uint8_t a[1] = {9};
  write_safetensors(dir_ / "model.safetensors", {{{"a", DType::U8, {1}}, a}});
  auto store = TensorStore::open_folder(dir_);
  EXPECT_EQ(store.num_files(), 1u);
  EXPECT_EQ(store.tensor("a").data[0], 9);
}

TEST_F(TensorStoreTest, IndexValidation) {
  make_shards();
  struct Case {
    std::string index, expect;
  };
  const std::vector<Case> cases = {
      {R"({"weight_map":{"a":"../s-1.safetensors"}})",
       "\"weight_map\" \"a\": shard file name \"../s-1.safetensors\" must be a plain file name"},
      {R"({"weight_map":{"a":"sub/s-1.safetensors"}})", "must be a plain file name"},
      {R"({"weight_map":{"a":".."}})", "must be a plain file name"},
      {R"({"weight_map":{"a":""}})", "shard file name is empty"},
      {R"({"weight_map":{"a":3}})", "\"weight_map\" \"a\": expected a string"},
      {R"({"metadata":{}})", "missing \"weight_map\""},
      {R"({"weight_map":{}})", "lists no tensors"},
      {R"({"weight_map":[]})", "\"weight_map\": expected an object"},
      {R"({"weight_map":{"a":"s-1.safetensors","a":"s-2.safetensors"}})", "duplicate key \"a\""},
      {R"({"weight_map":{"a":"s-2.safetensors","b":"s-2.safetensors"}})",
       "puts tensor \"a\" in s-2.safetensors, which has no such tensor"},
      {R"({"weight_map":{"a":"s-1.safetensors"}})", "(no error)"},
      {R"({"weight_map":{"b":"s-2.safetensors","a":"s-1.safetensors","c":"s-3.safetensors"}})",
       "s-3.safetensors: cannot open"},
  };
  for (const auto& c : cases) {
    write_index(c.index);
    auto msg = error_of([&] { TensorStore::open_folder(dir_); });
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.index << "\n  -> " << msg;
  }
  // A shard tensor the weight_map does not list means the index does not describe the shards.
  const uint8_t x[2] = {};
  write_safetensors(dir_ / "s-1.safetensors", {{{"a", DType::U8, {1}}, {x, 1}}, {{"extra", DType::U8, {1}}, {x, 1}}},
                    {}, Overwrite::kYes);
  write_index(R"({"weight_map":{"a":"s-1.safetensors","b":"s-2.safetensors"}})");
  auto msg = error_of([&] { TensorStore::open_folder(dir_); });
  EXPECT_NE(msg.find("shard s-1.safetensors holds tensor \"extra\" that \"weight_map\" does not list"),
            std::string::npos)
      << msg;
}

TEST_F(TensorStoreTest, FolderWithoutWeights) {
  auto msg = error_of([&] { TensorStore::open_folder(dir_); });
  EXPECT_NE(msg.find("has neither model.safetensors nor model.safetensors.index.json"), std::string::npos) << msg;
  msg = error_of([&] { TensorStore::open_folder(dir_ / "missing"); });
  EXPECT_NE(msg.find("not a directory"), std::string::npos) << msg;
}

}  // namespace
}  // namespace scitune
