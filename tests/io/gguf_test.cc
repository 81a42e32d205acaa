// GGUF reader and writer against the reference: files made by llama.cpp's converter and llama-quantize, a file
// written by scitune and read by gguf-py (tools/oracle/gguf_dump.py), round trips, streaming writes and the
// typed getters. Bad input is in gguf_bad_input_test.cc.
#include "io/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/half.h"
#include "util/sha256.h"
#include "util/paths.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kGolden = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gguf";

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

json read_json(const fs::path& p) {
  std::ifstream f(p);
  EXPECT_TRUE(f.good()) << p;
  return json::parse(f);
}

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("scitune_gguf_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

// ---- comparison with a gguf-py dump -------------------------------------------------------------------

template <class T>
void expect_element(const T& ours, const json& ref, const std::string& ctx) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (ref.is_object()) {
      std::string hex;
      for (unsigned char c : ours) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
      EXPECT_EQ(hex, ref.at("hex").get<std::string>()) << ctx;
    } else {
      EXPECT_EQ(ours, ref.get<std::string>()) << ctx;
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    EXPECT_EQ(ours, ref.get<bool>()) << ctx;
  } else if constexpr (std::is_floating_point_v<T>) {
    const double x = static_cast<double>(ours);
    if (ref.is_string()) {
      const std::string s = ref.get<std::string>();
      if (s == "nan") {
        EXPECT_TRUE(std::isnan(x)) << ctx;
      } else {
        EXPECT_EQ(x, s == "inf" ? INFINITY : -INFINITY) << ctx;
      }
    } else {
      EXPECT_EQ(x, ref.get<double>()) << ctx;  // exact: the dump prints doubles with round-trip precision
    }
  } else if constexpr (std::is_signed_v<T>) {
    EXPECT_EQ(static_cast<int64_t>(ours), ref.get<int64_t>()) << ctx;
  } else {
    EXPECT_EQ(static_cast<uint64_t>(ours), ref.get<uint64_t>()) << ctx;
  }
}

void expect_value(const GgufValue& v, const json& ref, const std::string& ctx) {
  ASSERT_EQ(gguf_type_name(v.type()), ref.at("type").get<std::string>()) << ctx;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, GgufArray>) {
          ASSERT_EQ(gguf_type_name(x.elem_type()), ref.at("elem_type").get<std::string>()) << ctx;
          ASSERT_EQ(x.size(), ref.at("len").get<size_t>()) << ctx;
          std::vector<uint8_t> enc;
          gguf_encode_value(v, enc);  // element type (4 bytes) + count (8 bytes) + the elements
          EXPECT_EQ(sha256_hex(std::span(enc).subspan(12)), ref.at("sha256").get<std::string>()) << ctx;
          if (!ref.contains("value")) return;
          std::visit(
              [&](const auto& items) {
                using V = std::decay_t<decltype(items)>;
                if constexpr (!std::is_same_v<V, GgufNoNestedArrays>) {
                  const json& vals = ref.at("value");
                  ASSERT_EQ(items.size(), vals.size()) << ctx;
                  for (size_t i = 0; i < items.size(); ++i)
                    expect_element(static_cast<typename V::value_type>(items[i]), vals[i],
                                   ctx + "[" + std::to_string(i) + "]");
                }
              },
              x.items);
        } else {
          expect_element(x, ref.at("value"), ctx);
        }
      },
      v.v);
}

// Everything gguf-py reports must match: header, each key in order with type and value, each tensor.
void expect_matches_dump(const GgufFile& f, const json& d, std::span<const uint8_t> file_bytes = {}) {
  EXPECT_EQ(f.version(), d.at("version").get<uint32_t>());
  EXPECT_EQ(f.alignment(), d.at("alignment").get<size_t>());
  EXPECT_EQ(f.data_offset(), d.at("data_offset").get<uint64_t>());
  if (!file_bytes.empty()) {
    EXPECT_EQ(file_bytes.size(), d.at("file_size").get<size_t>());
  }
  const json& md = d.at("metadata");
  ASSERT_EQ(f.metadata().size(), md.size());
  ASSERT_EQ(f.metadata().size(), d.at("kv_count").get<size_t>());
  for (size_t i = 0; i < md.size(); ++i) {
    const auto& [key, value] = f.metadata()[i];
    ASSERT_EQ(key, md[i].at("key").get<std::string>()) << "key #" << i;
    expect_value(value, md[i], key);
  }
  const json& ts = d.at("tensors");
  ASSERT_EQ(f.tensors().size(), ts.size());
  ASSERT_EQ(f.tensors().size(), d.at("tensor_count").get<size_t>());
  for (size_t i = 0; i < ts.size(); ++i) {
    const GgufTensorInfo& t = f.tensors()[i];
    const std::string ctx = "tensor " + t.name;
    EXPECT_EQ(t.name, ts[i].at("name").get<std::string>());
    EXPECT_EQ(static_cast<uint32_t>(t.type), ts[i].at("type_code").get<uint32_t>()) << ctx;
    EXPECT_EQ(t.ne, ts[i].at("ne").get<std::vector<uint64_t>>()) << ctx;
    EXPECT_EQ(t.offset, ts[i].at("offset").get<uint64_t>()) << ctx;
    EXPECT_EQ(t.nbytes, ts[i].at("nbytes").get<uint64_t>()) << ctx;
    EXPECT_EQ(t.data.size(), t.nbytes) << ctx;
    EXPECT_EQ(sha256_hex(t.data), ts[i].at("sha256").get<std::string>()) << ctx;
  }
}

// ---- files made by llama.cpp -----------------------------------------------------------------------------

class LlamaCppFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(LlamaCppFixture, ReaderAgreesWithGgufPy) {
  const fs::path path = kGolden / (std::string(GetParam()) + ".gguf");
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.source_name(), path.string());
  expect_matches_dump(f, read_json(kGolden / (std::string(GetParam()) + ".json")), read_bytes(path));
  // The tiny model's hyper-parameters, read the way llama.cpp reads them (strict types).
  EXPECT_EQ(f.get_string("general.architecture"), "gemma3");
  EXPECT_EQ(f.get_u32("gemma3.block_count"), 4u);
  EXPECT_EQ(f.get_u32("gemma3.embedding_length"), 64u);
  EXPECT_EQ(f.get_u32("gemma3.attention.head_count_kv"), 2u);
  EXPECT_EQ(f.get_u32("gemma3.attention.sliding_window"), 6u);
  EXPECT_EQ(f.get_f32("gemma3.attention.layer_norm_rms_epsilon"), 1e-6f);
  EXPECT_EQ(f.get_f32("gemma3.rope.scaling.factor"), 8.0f);
  EXPECT_EQ(f.get_array<std::string>("tokenizer.ggml.tokens").size(), 512u);
  EXPECT_EQ(f.get_array<std::string>("tokenizer.ggml.tokens")[1], "<eos>");
  EXPECT_EQ(f.get_array<float>("tokenizer.ggml.scores").size(), 512u);
  EXPECT_EQ(f.get_array<int32_t>("tokenizer.ggml.token_type").size(), 512u);
  EXPECT_FALSE(f.get_bool("tokenizer.ggml.add_space_prefix"));
  EXPECT_EQ(f.tensors().size(), 54u);
  EXPECT_EQ(f.tensor("token_embd.weight").ne, (std::vector<uint64_t>{64, 512}));
  EXPECT_EQ(f.tensor("blk.0.attn_q.weight").ne, (std::vector<uint64_t>{64, 128}));
  EXPECT_EQ(f.tensor("output_norm.weight").type, GgmlType::F32);
}

// llama.cpp writes the canonical layout, so our writer must reproduce its files exactly.
TEST_P(LlamaCppFixture, RewriteIsByteIdentical) {
  const fs::path path = kGolden / (std::string(GetParam()) + ".gguf");
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(GgufWriter::copy_of(f).to_bytes(), read_bytes(path));
}

INSTANTIATE_TEST_SUITE_P(Gemma3Tiny, LlamaCppFixture, ::testing::Values("tiny_f16", "tiny_q8_0", "tiny_q4_k_m"));

TEST(GgufFixtures, QuantizedTypesAreAsRecorded) {
  // With hidden size 64 the K-quants cannot be used (rows are not multiples of 256): llama-quantize falls back.
  auto count = [](const GgufFile& f, GgmlType type) {
    return std::count_if(f.tensors().begin(), f.tensors().end(), [&](const auto& t) { return t.type == type; });
  };
  const GgufFile f16 = GgufFile::open(kGolden / "tiny_f16.gguf");
  EXPECT_EQ(count(f16, GgmlType::F16), 29);
  EXPECT_EQ(count(f16, GgmlType::F32), 25);  // norms stay F32
  const GgufFile q8 = GgufFile::open(kGolden / "tiny_q8_0.gguf");
  EXPECT_EQ(count(q8, GgmlType::Q8_0), 29);
  EXPECT_EQ(q8.get_u32("general.file_type"), 7u);
  const GgufFile q4 = GgufFile::open(kGolden / "tiny_q4_k_m.gguf");
  EXPECT_EQ(count(q4, GgmlType::Q5_0), 24);
  EXPECT_EQ(count(q4, GgmlType::Q8_0), 5);
  EXPECT_EQ(q4.get_u32("general.file_type"), 15u);
  EXPECT_EQ(q4.get_u32("general.quantization_version"), 2u);
}

// ---- a file written by scitune, read by gguf-py ------------------------------------------------------

// Deterministic content covering every value type and several tensor types. The buffers live in the struct so
// that the writer's spans stay valid.
struct InteropFile {
  std::vector<uint8_t> f32, f16, bf16, q8_0, i32;
  GgufWriter w;

  static std::vector<uint8_t> pseudo_random(size_t n, uint32_t seed) {
    std::vector<uint8_t> out(n);
    for (auto& b : out) {
      seed = seed * 1664525u + 1013904223u;
      b = static_cast<uint8_t>(seed >> 24);
    }
    return out;
  }
  template <class T>
  static void append(std::vector<uint8_t>& out, T x) {
    const auto* p = reinterpret_cast<const uint8_t*>(&x);
    out.insert(out.end(), p, p + sizeof x);
  }

  InteropFile() {
    w.add("general.architecture", GgufValue::str("scitune-test"));
    w.add("test.u8", GgufValue::u8(200));
    w.add("test.i8", GgufValue::i8(-100));
    w.add("test.u16", GgufValue::u16(60000));
    w.add("test.i16", GgufValue::i16(-30000));
    w.add("test.u32", GgufValue::u32(4000000000u));
    w.add("test.i32", GgufValue::i32(-2000000000));
    w.add("test.f32", GgufValue::f32(0.1f));
    w.add("test.bool", GgufValue::boolean(true));
    w.add("test.string", GgufValue::str("h\xc3\xa9llo\n\"w\\orld\"\t<end_of_turn>"));
    w.add("test.u64", GgufValue::u64(std::numeric_limits<uint64_t>::max()));
    w.add("test.i64", GgufValue::i64(std::numeric_limits<int64_t>::min()));
    w.add("test.f64", GgufValue::f64(1.0 / 3.0));
    w.add("test.f32_tiny", GgufValue::f32(1e-45f));  // a subnormal
    w.add("test.empty_string", GgufValue::str(""));
    w.add("arr.u8", GgufValue::array<uint8_t>({0, 1, 255}));
    w.add("arr.i8", GgufValue::array<int8_t>({-128, 0, 127}));
    w.add("arr.u16", GgufValue::array<uint16_t>({0, 65535}));
    w.add("arr.i16", GgufValue::array<int16_t>({-32768, 32767}));
    w.add("arr.u32", GgufValue::array<uint32_t>({0, 1, 4294967295u}));
    w.add("arr.i32", GgufValue::array<int32_t>({-1, 0, 106}));
    w.add("arr.f32", GgufValue::array<float>({1.5f, -0.0f, 3.25e-8f, -65504.0f}));
    w.add("arr.bool", GgufValue::array<bool>({true, false, true, true}));
    w.add("arr.string", GgufValue::array<std::string>({"<pad>", "", "\xe2\x96\x81the",
                                                       "\xc3\xbcnic\xc3\xb6"
                                                       "de"}));
    w.add("arr.u64", GgufValue::array<uint64_t>({0, std::numeric_limits<uint64_t>::max()}));
    w.add("arr.i64", GgufValue::array<int64_t>({std::numeric_limits<int64_t>::min(), 7}));
    w.add("arr.f64", GgufValue::array<double>({0.1, -2.5e300}));
    w.add("arr.empty", GgufValue::array<int32_t>({}));
    std::vector<std::string> many;
    std::vector<float> scores;
    for (int i = 0; i < 40; ++i) many.push_back("tok" + std::to_string(i * 7919 % 1000));
    for (int i = 0; i < 100; ++i) scores.push_back(-static_cast<float>(i) / 3.0f);
    w.add("tokenizer.ggml.tokens", GgufValue::array(std::move(many)));  // long: summarised by the dump
    w.add("tokenizer.ggml.scores", GgufValue::array(std::move(scores)));

    for (int i = 0; i < 12; ++i) append(f32, static_cast<float>(i) * 0.25f - 1.0f);
    for (int i = 0; i < 16; ++i) append(f16, fp32_to_fp16(static_cast<float>(i) / 7.0f));
    for (int i = 0; i < 16; ++i) append(bf16, fp32_to_bf16(static_cast<float>(i * i) - 3.5f));
    q8_0 = pseudo_random(2 * 2 * 34, 1);  // [64, 2] Q8_0: 2 rows x 2 blocks x 34 bytes
    for (int i = 0; i < 5; ++i) append(i32, static_cast<int32_t>(i * 1000 - 2));
    w.add_tensor("f32.weight", GgmlType::F32, {4, 3}, f32);
    w.add_tensor("f16.weight", GgmlType::F16, {8, 2}, f16);
    w.add_tensor("bf16.weight", GgmlType::BF16, {16}, bf16);
    w.add_tensor("q8_0.weight", GgmlType::Q8_0, {64, 2}, q8_0);
    w.add_tensor("i32.weight", GgmlType::I32, {5}, i32);
    // Q4_K [256, 1, 2] produced in uneven chunks at write time (the streaming path); 288 bytes, a multiple of
    // 32, so the file ends exactly at the end of this last tensor's data.
    w.add_tensor("q4_k.weight", GgmlType::Q4_K, {256, 1, 2}, [](GgufTensorSink& sink) {
      const std::vector<uint8_t> bytes = pseudo_random(2 * 144, 2);
      for (size_t i = 0; i < bytes.size(); i += 100)
        sink.write(std::span(bytes).subspan(i, std::min<size_t>(100, bytes.size() - i)));
    });
  }
};

TEST(GgufInterop, WrittenFileIsStableAndReadByGgufPy) {
  const fs::path golden = kGolden / "scitune_written.gguf";
  InteropFile file;
  if (const char* regen = std::getenv("SCITUNE_REGEN"); regen && std::string(regen) == "1") {
    file.w.write(golden, Overwrite::kYes);
    GTEST_SKIP() << "wrote " << golden << "; now run tools/oracle/gguf_dump.py on it in the oracle";
  }
  const fs::path out = temp_dir() / "written.gguf";
  fs::remove(out);
  file.w.write(out);
  const std::vector<uint8_t> bytes = read_bytes(out);
  EXPECT_EQ(bytes, read_bytes(golden)) << "the writer's output changed; if intended, regenerate with SCITUNE_REGEN=1";
  const GgufFile f = GgufFile::open(out);
  expect_matches_dump(f, read_json(kGolden / "scitune_written.json"), bytes);
  EXPECT_EQ(f.tensors().back().offset + f.tensors().back().nbytes + f.data_offset(), bytes.size());
  fs::remove_all(out.parent_path());
}

// ---- round trips --------------------------------------------------------------------------------------

TEST(GgufRoundTrip, WriteReadIsIdenticalAndRewriteIsByteIdentical) {
  InteropFile file;
  const std::vector<uint8_t> bytes = file.w.to_bytes();
  const GgufFile f = GgufFile::parse(bytes, "mem.gguf");
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata(), file.w.metadata());  // keys, order, exact types and values
  const std::vector<GgufTensorInfo> layout = file.w.layout();
  ASSERT_EQ(f.tensors().size(), layout.size());
  for (size_t i = 0; i < layout.size(); ++i) {
    const GgufTensorInfo& t = f.tensors()[i];
    EXPECT_EQ(t.name, layout[i].name);
    EXPECT_EQ(t.type, layout[i].type);
    EXPECT_EQ(t.ne, layout[i].ne);
    EXPECT_EQ(t.offset, layout[i].offset);
    EXPECT_EQ(t.offset % 32, 0u);
    EXPECT_EQ(t.nbytes, layout[i].nbytes);
  }
  EXPECT_TRUE(std::ranges::equal(f.tensor("f16.weight").data, file.f16));
  EXPECT_TRUE(std::ranges::equal(f.tensor("q8_0.weight").data, file.q8_0));
  EXPECT_EQ(f.tensor("q4_k.weight").data.size(), 288u);
  EXPECT_EQ(GgufWriter::copy_of(f).to_bytes(), bytes);
}

TEST(GgufRoundTrip, FileWriteMatchesMemoryAndRefusesToOverwrite) {
  InteropFile file;
  const fs::path out = temp_dir() / "atomic.gguf";
  fs::remove(out);
  file.w.write(out);
  EXPECT_EQ(read_bytes(out), file.w.to_bytes());
  EXPECT_THROW(file.w.write(out), UserError);  // no silent overwrite
  file.w.write(out, Overwrite::kYes);
  fs::remove_all(out.parent_path());
}

TEST(GgufRoundTrip, CustomAlignmentPadsEverything) {
  GgufWriter w;
  w.add("general.alignment", GgufValue::u32(64));
  const std::vector<uint8_t> a(4 * 3, 1), b(2 * 5, 2);
  w.add_tensor("a", GgmlType::F32, {3}, a);
  w.add_tensor("b", GgmlType::F16, {5}, b);
  EXPECT_EQ(w.alignment(), 64u);
  const std::vector<uint8_t> bytes = w.to_bytes();
  const GgufFile f = GgufFile::parse(bytes, "aligned.gguf");
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.tensor("b").offset, 64u);
  EXPECT_EQ(bytes.size(), f.data_offset() + 128);  // the last tensor is padded too
  EXPECT_TRUE(std::all_of(bytes.begin() + f.data_offset() + 12, bytes.begin() + f.data_offset() + 64,
                          [](uint8_t x) { return x == 0; }));
  EXPECT_EQ(GgufWriter::copy_of(f).to_bytes(), bytes);
}

TEST(GgufRoundTrip, EmptyFileAndVersion2) {
  GgufWriter w;
  std::vector<uint8_t> bytes = w.to_bytes();
  EXPECT_EQ(bytes.size(), 32u);  // 24-byte header padded to the alignment, as gguf-py writes it
  EXPECT_EQ(GgufFile::parse(bytes, "empty.gguf").metadata().size(), 0u);
  bytes[4] = 2;  // v2 has the same layout as v3 (v3 only added big-endian files)
  EXPECT_EQ(GgufFile::parse(bytes, "v2.gguf").version(), 2u);
}

TEST(GgufWriter, StreamingProducerMustWriteExactSize) {
  GgufWriter w;
  w.add_tensor("t", GgmlType::F32, {4}, [](GgufTensorSink& s) {
    const uint8_t half[8] = {};
    s.write(half);
  });
  EXPECT_THROW(w.to_bytes(), InternalError);
  GgufWriter w2;
  w2.add_tensor("t", GgmlType::F32, {1}, [](GgufTensorSink& s) {
    const uint8_t too_much[8] = {};
    s.write(too_much);
  });
  EXPECT_THROW(w2.to_bytes(), InternalError);
}

TEST(GgufWriter, StreamsLargeTensorsWithoutHoldingThem) {
  // 64 MiB of F32 produced 1 MiB at a time and written to disk: the writer never holds the tensor.
  constexpr uint64_t kRows = 64, kCols = 256 * 1024;
  GgufWriter w;
  w.add("general.architecture", GgufValue::str("big"));
  uint64_t produced = 0;
  w.add_tensor("big.weight", GgmlType::F32, {kCols, kRows}, [&](GgufTensorSink& s) {
    std::vector<uint8_t> row(kCols * 4);
    for (uint64_t r = 0; r < kRows; ++r) {
      std::fill(row.begin(), row.end(), static_cast<uint8_t>(r));
      s.write(row);
      produced += row.size();
    }
  });
  const fs::path out = temp_dir() / "big.gguf";
  fs::remove(out);
  w.write(out);
  EXPECT_EQ(produced, kRows * kCols * 4);
  const GgufFile f = GgufFile::open(out);
  const auto& t = f.tensor("big.weight");
  ASSERT_EQ(t.nbytes, kRows * kCols * 4);
  EXPECT_EQ(t.data[0], 0);
  EXPECT_EQ(t.data[t.nbytes - 1], kRows - 1);
  fs::remove_all(out.parent_path());
}

TEST(GgufWriter, RejectsBadInput) {
  const std::vector<uint8_t> four(4);
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  GgufWriter w;
  w.add("a.key", GgufValue::u32(1));
  EXPECT_NE(message([&] { w.add("a.key", GgufValue::u32(2)); }).find("duplicate key \"a.key\""), std::string::npos);
  EXPECT_NE(message([&] { w.add("", GgufValue::u32(2)); }).find("empty"), std::string::npos);
  EXPECT_NE(message([&] { w.add("general.alignment", GgufValue::i32(32)); }).find("INT32, expected UINT32"),
            std::string::npos);
  EXPECT_NE(message([&] { w.add("general.alignment", GgufValue::u32(48)); }).find("not a power of two"),
            std::string::npos);
  EXPECT_NE(message([&] { w.add_tensor(std::string(64, 'x'), GgmlType::F32, {1}, four); }).find("longer than 63"),
            std::string::npos);
  EXPECT_NE(message([&] { w.add_tensor("t", GgmlType::F32, {2}, four); }).find("4 bytes given but [2] x f32 needs 8"),
            std::string::npos);
  EXPECT_NE(message([&] { w.add_tensor("q", GgmlType::Q8_0, {40}, four); }).find("block size 32"), std::string::npos);
  EXPECT_NE(message([&] { w.add_tensor("z", GgmlType::F32, {1, 0}, four); }).find("ne[1] is 0"), std::string::npos);
  EXPECT_NE(message([&] {
              w.add_tensor("d", GgmlType::F32, {1, 1, 1, 1, 1}, four);
            }).find("5 dimensions"),
            std::string::npos);
  w.add_tensor("t", GgmlType::F32, {1}, four);
  EXPECT_NE(message([&] { w.add_tensor("t", GgmlType::F32, {1}, four); }).find("duplicate tensor name \"t\""),
            std::string::npos);
  // set replaces in place, remove drops, and the order of the rest is kept.
  w.add("b.key", GgufValue::str("x"));
  w.set("a.key", GgufValue::f32(2.5f));
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata()[0].first, "a.key");
  EXPECT_EQ(w.metadata()[0].second, GgufValue::f32(2.5f));
  EXPECT_TRUE(w.remove("a.key"));
  EXPECT_FALSE(w.remove("a.key"));
  EXPECT_EQ(w.metadata()[0].first, "b.key");
}

// ---- getters and printing -----------------------------------------------------------------------------

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

TEST(GgufGetters, StrictTypesAndLenientNumbers) {
  GgufWriter w;
  w.add("n.i32", GgufValue::i32(18));
  w.add("n.neg", GgufValue::i64(-1));
  w.add("n.f64", GgufValue::f64(0.5));
  w.add("n.u16", GgufValue::u16(7));
  w.add("s", GgufValue::str("x"));
  w.add("toks", GgufValue::array<std::string>({"a", "b"}));
  const std::vector<uint8_t> bytes = w.to_bytes();
  const GgufFile f = GgufFile::parse(bytes, "g.gguf");
  EXPECT_EQ(error_of([&] { f.get_u32("n.i32"); }), "g.gguf: key \"n.i32\" is INT32, expected UINT32");
  EXPECT_EQ(error_of([&] { f.get_u32("missing.key"); }), "g.gguf: missing key \"missing.key\" (expected UINT32)");
  EXPECT_EQ(error_of([&] { f.get_array<float>("toks"); }),
            "g.gguf: key \"toks\" is ARRAY of STRING, expected ARRAY of FLOAT32");
  EXPECT_EQ(error_of([&] { f.get_f32("n.f64"); }), "g.gguf: key \"n.f64\" is FLOAT64, expected FLOAT32");
  EXPECT_EQ(f.get_i32("n.i32"), 18);
  EXPECT_EQ(f.get_string("s"), "x");
  EXPECT_EQ(f.get_array<std::string>("toks"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.get_optional<uint16_t>("n.u16"), std::optional<uint16_t>(7));
  EXPECT_EQ(f.get_optional<uint32_t>("absent"), std::nullopt);
  EXPECT_THROW(f.get_optional<uint32_t>("n.u16"), UserError);  // present with the wrong type is still an error
  EXPECT_EQ(f.get_uint_lenient("n.i32"), 18u);
  EXPECT_EQ(f.get_uint_lenient("n.u16"), 7u);
  EXPECT_EQ(error_of([&] { f.get_uint_lenient("n.neg"); }),
            "g.gguf: key \"n.neg\" is -1, expected a non-negative integer");
  EXPECT_EQ(error_of([&] { f.get_uint_lenient("n.f64"); }),
            "g.gguf: key \"n.f64\" is FLOAT64, expected a non-negative integer");
  EXPECT_EQ(f.get_float_lenient("n.f64"), 0.5);
  EXPECT_EQ(f.get_float_lenient("n.i32"), 18.0);
  EXPECT_THROW(f.get_float_lenient("s"), UserError);
  EXPECT_EQ(f.find("s")->type(), GgufValueType::STRING);
  EXPECT_EQ(f.find("nope"), nullptr);
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
  EXPECT_EQ(error_of([&] { f.tensor("nope"); }), "g.gguf: missing tensor \"nope\"");
}

TEST(GgufValue, ToString) {
  EXPECT_EQ(to_string(GgufValue::u32(18)), "18");
  EXPECT_EQ(to_string(GgufValue::i8(-5)), "-5");
  EXPECT_EQ(to_string(GgufValue::f32(1e-6f)), "1e-06");
  EXPECT_EQ(to_string(GgufValue::f32(0.1f)), "0.1");  // shortest text that reads back as the same float
  EXPECT_EQ(to_string(GgufValue::f64(0.1)), "0.1");
  EXPECT_EQ(to_string(GgufValue::boolean(true)), "true");
  EXPECT_EQ(to_string(GgufValue::str("a\"b\n\x01")), "\"a\\\"b\\n\\x01\"");
  EXPECT_EQ(to_string(GgufValue::array<int32_t>({1, 2, 3})), "[1, 2, 3]");
  EXPECT_EQ(to_string(GgufValue::array<std::string>({"a", "b", "c"}), 2), "[\"a\", \"b\", ... (3 items)]");
  EXPECT_EQ(to_string(GgufValue::array<bool>({true}), 0), "[... (1 items)]");
  EXPECT_EQ(to_string(GgufValue::array<float>({})), "[]");
}

// ---- the real Gemma 3 270M model, when it is in the cache ---------------------------------------------

fs::path real_model_path() { return default_model_path(); }

TEST(GgufRealModel, Gemma3_270mMatchesGgufPy) {
  const fs::path path = real_model_path();
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (fetch the model to run this test)";
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.get_string("general.architecture"), "gemma3");
  EXPECT_EQ(f.get_u32("gemma3.block_count"), 18u);
  EXPECT_EQ(f.get_u32("gemma3.embedding_length"), 640u);
  EXPECT_EQ(f.get_u32("gemma3.feed_forward_length"), 2048u);
  EXPECT_EQ(f.get_u32("gemma3.attention.head_count"), 4u);
  EXPECT_EQ(f.get_u32("gemma3.attention.head_count_kv"), 1u);
  EXPECT_EQ(f.get_u32("gemma3.attention.key_length"), 256u);
  EXPECT_EQ(f.get_u32("gemma3.attention.sliding_window"), 512u);
  EXPECT_EQ(f.get_f32("gemma3.rope.freq_base"), 1000000.0f);
  const auto& tokens = f.get_array<std::string>("tokenizer.ggml.tokens");
  EXPECT_EQ(f.tensor("token_embd.weight").ne, (std::vector<uint64_t>{640, tokens.size()}));
  EXPECT_EQ(f.tensors().size(), 18u * 13 + 2);  // 13 tensors a layer, token_embd, output_norm (tied output)
  expect_matches_dump(f, read_json(kGolden / "gemma-3-270m-q4_k_m.json"));
}

}  // namespace
}  // namespace scitune
