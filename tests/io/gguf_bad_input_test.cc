// GGUF reader failure boundaries: every malformed input is a UserError (never a crash, hang or huge
// allocation) whose message names the file and the offending key, tensor or field.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "io/gguf.h"
#include "util/error.h"

namespace scitune {
namespace {

// Builds raw GGUF bytes by hand, so that the tests can write what the (validating) writer never would.
struct Raw {
  std::vector<uint8_t> b;

  template <class T>
  Raw& put(T x) {
    const auto* p = reinterpret_cast<const uint8_t*>(&x);
    b.insert(b.end(), p, p + sizeof x);
    return *this;
  }
  Raw& u8(uint8_t x) { return put(x); }
  Raw& u32(uint32_t x) { return put(x); }
  Raw& u64(uint64_t x) { return put(x); }
  Raw& str(std::string_view s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  Raw& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  Raw& tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t n : ne) u64(n);
    return u32(type).u64(offset);
  }
  Raw& pad(size_t align = 32) {
    b.resize((b.size() + align - 1) / align * align, 0);
    return *this;
  }
  Raw& zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
};

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    GgufFile::parse(bytes, "bad.gguf");
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

#define EXPECT_ERROR(bytes, ...)                                                                \
  do {                                                                                          \
    const std::string msg = parse_error(bytes);                                                 \
    EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << msg;                                           \
    for (const std::string& part : std::initializer_list<std::string>{__VA_ARGS__})             \
      EXPECT_NE(msg.find(part), std::string::npos) << "missing \"" << part << "\" in: " << msg; \
  } while (0)

// A small valid file to corrupt: two keys, two F32 tensors [8] at offsets 0 and 32.
Raw valid_file() {
  Raw r;
  r.header(2, 2).kv_u32("a.count", 7).str("a.name").u32(8).str("tiny");
  r.tensor("t0", {8}, 0, 0).tensor("t1", {8}, 0, 32).pad().zeros(64);
  return r;
}

TEST(GgufBadInput, ValidBaseFileParses) {
  const Raw r = valid_file();
  const GgufFile f = GgufFile::parse(r.b, "ok.gguf");
  EXPECT_EQ(f.get_u32("a.count"), 7u);
  EXPECT_EQ(f.tensor("t1").offset, 32u);
}

TEST(GgufBadInput, EveryTruncationIsAUserError) {
  const Raw r = valid_file();
  for (size_t n = 0; n < r.b.size(); ++n) {
    // An exact-size copy, so that the sanitizers catch any read past the end.
    const std::vector<uint8_t> cut(r.b.begin(), r.b.begin() + n);
    const std::string msg = parse_error(cut);
    EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << "prefix of " << n << " bytes: " << msg;
  }
}

TEST(GgufBadInput, EveryTruncationOfAWrittenFileIsAUserError) {
  // A writer-made file covering all value types whose last tensor ends exactly at the end of the file.
  GgufWriter w;
  w.add("u8", GgufValue::u8(1));
  w.add("i16", GgufValue::i16(-2));
  w.add("f64", GgufValue::f64(0.25));
  w.add("b", GgufValue::boolean(true));
  w.add("s", GgufValue::str("string"));
  w.add("strs", GgufValue::array<std::string>({"x", "yy", ""}));
  w.add("bools", GgufValue::array<bool>({false, true}));
  w.add("u64s", GgufValue::array<uint64_t>({1, 2}));
  const std::vector<uint8_t> q8(34), f16(64);
  w.add_tensor("q", GgmlType::Q8_0, {32}, q8);
  w.add_tensor("h", GgmlType::F16, {32}, f16);
  const std::vector<uint8_t> bytes = w.to_bytes();
  ASSERT_NO_THROW(GgufFile::parse(bytes, "ok.gguf"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    EXPECT_THROW(GgufFile::parse(cut, "cut.gguf"), UserError) << "prefix of " << n << " bytes";
  }
}

TEST(GgufBadInput, MissingFinalPaddingIsAccepted) {
  // Only tensor bytes are required (llama.cpp's mmap loader and gguf-py need no more): trailing padding may be
  // cut, e.g. by a tool that strips it.
  Raw r = valid_file();
  r.b.erase(r.b.end() - 28, r.b.end());  // t1 is the last 32 bytes: cut into its data -> error
  EXPECT_ERROR(r.b, "tensor \"t1\"", "past the end of the file");
  Raw ok;
  ok.header(1, 0).tensor("t", {3}, 0, 0).pad().zeros(12);  // 12 bytes of data, no padding after
  EXPECT_EQ(GgufFile::parse(ok.b, "ok.gguf").tensor("t").nbytes, 12u);
}

TEST(GgufBadInput, MagicAndVersion) {
  Raw r = valid_file();
  r.b[0] = 'X';
  EXPECT_ERROR(r.b, "magic is 'XGUF', expected 'GGUF'");
  for (uint32_t v : {0u, 1u, 4u, 0x03000000u}) {
    Raw h = valid_file();
    std::memcpy(h.b.data() + 4, &v, 4);
    if (v == 1)
      EXPECT_ERROR(h.b, "version 1 is no longer supported");
    else if (v == 0x03000000u)
      EXPECT_ERROR(h.b, "big-endian");
    else
      EXPECT_ERROR(h.b, ("unsupported GGUF version " + std::to_string(v)).c_str());
  }
  const std::vector<uint8_t> two = {'G', 'G'};
  EXPECT_ERROR(two, "magic");
}

TEST(GgufBadInput, HugeCountsFailFastWithoutAllocating) {
  Raw kv;
  kv.header(0, uint64_t{1} << 60).zeros(64);
  EXPECT_ERROR(kv.b, "header", "claims 1152921504606846976 metadata keys");
  Raw tensors;
  tensors.header(uint64_t{1} << 60, 0).zeros(64);
  EXPECT_ERROR(tensors.b, "claims 1152921504606846976 tensors");
  Raw arr;
  arr.header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(uint64_t{1} << 60).zeros(64);
  EXPECT_ERROR(arr.b, "key \"tokenizer.ggml.tokens\"", "array of 1152921504606846976 STRING");
  Raw arr2;
  arr2.header(0, 1).str("big").u32(9).u32(12).u64(std::numeric_limits<uint64_t>::max()).zeros(64);
  EXPECT_ERROR(arr2.b, "key \"big\"", "FLOAT64");
  Raw str;
  str.header(0, 1).str("general.name").u32(8).u64(uint64_t{1} << 62).zeros(64);
  EXPECT_ERROR(str.b, "key \"general.name\"", "STRING value needs 4611686018427387904 bytes");
  Raw key;
  key.header(0, 1).u64(std::numeric_limits<uint64_t>::max()).zeros(64);
  EXPECT_ERROR(key.b, "metadata key #0", "truncated");
  Raw name;
  name.header(1, 0).u64(uint64_t{1} << 40).zeros(64);
  EXPECT_ERROR(name.b, "tensor #0", "tensor name");
}

TEST(GgufBadInput, MetadataValues) {
  Raw dup;
  dup.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
  EXPECT_ERROR(dup.b, "key \"a.b\"", "duplicate key");
  Raw type;
  type.header(0, 1).str("odd.type").u32(13).u32(0);
  EXPECT_ERROR(type.b, "key \"odd.type\"", "unknown value type 13");
  Raw nested;
  nested.header(0, 1).str("nested").u32(9).u32(9).u64(1).u32(4).u64(1).u32(5);
  EXPECT_ERROR(nested.b, "key \"nested\"", "arrays of arrays are not supported");
  Raw elem;
  elem.header(0, 1).str("arr").u32(9).u32(77).u64(0);
  EXPECT_ERROR(elem.b, "key \"arr\"", "unknown element type 77");
  Raw boolean;
  boolean.header(0, 1).str("flag").u32(7).u8(2);
  EXPECT_ERROR(boolean.b, "key \"flag\"", "BOOL byte is 2, expected 0 or 1");
  Raw bools;
  bools.header(0, 1).str("flags").u32(9).u32(7).u64(2).u8(1).u8(255);
  EXPECT_ERROR(bools.b, "key \"flags\"", "BOOL byte is 255");
  Raw empty;
  empty.header(0, 1).str("").u32(4).u32(1);
  EXPECT_ERROR(empty.b, "metadata key #0", "key is empty");
}

TEST(GgufBadInput, Alignment) {
  for (uint32_t a : {0u, 48u, 3u}) {
    Raw r;
    r.header(0, 1).kv_u32("general.alignment", a);
    EXPECT_ERROR(r.b, "key \"general.alignment\"",
                 ("alignment " + std::to_string(a) + " is not a power of two").c_str());
  }
  Raw wrong_type;
  wrong_type.header(0, 1).str("general.alignment").u32(5).u32(32);
  EXPECT_ERROR(wrong_type.b, "key \"general.alignment\"", "is INT32, expected UINT32");
  // A power of two above 64 KiB is refused (found by the fuzzer: a re-write padded by 1 GiB).
  Raw huge;
  huge.header(0, 1).kv_u32("general.alignment", 1u << 30);
  EXPECT_ERROR(huge.b, "key \"general.alignment\"", "alignment 1073741824 is larger than the 65536 bytes");
  // A valid alignment of 64 is honoured: an offset of 32 is then misaligned.
  Raw mis;
  mis.header(1, 1).kv_u32("general.alignment", 64).tensor("w", {8}, 0, 32).pad(64).zeros(128);
  EXPECT_ERROR(mis.b, "tensor \"w\"", "data offset 32 is not a multiple of the alignment 64");
}

TEST(GgufBadInput, TensorInfos) {
  auto one = [](std::string name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset = 0) {
    Raw r;
    r.header(1, 0).tensor(name, ne, type, offset).pad().zeros(256);
    return r.b;
  };
  EXPECT_ERROR(one("blk.0.attn_q.weight", {64}, 99), "tensor \"blk.0.attn_q.weight\"", "unknown ggml type code 99");
  EXPECT_ERROR(one("iq", {256}, 16), "tensor \"iq\"", "unknown ggml type code 16");  // IQ2_XXS: not supported
  EXPECT_ERROR(one("q", {40}, 8), "tensor \"q\"", "ne[0] = 40 is not a multiple of the q8_0 block size 32");
  EXPECT_ERROR(one("k", {64, 2}, 12), "tensor \"k\"", "q4_K block size 256");
  EXPECT_ERROR(one("z", {4, 0}, 0), "tensor \"z\"", "ne[1] is 0");
  EXPECT_ERROR(one("neg", {uint64_t{1} << 63}, 0), "tensor \"neg\"", "ne[0] is 9223372036854775808");
  EXPECT_ERROR(one("ovf", {uint64_t{1} << 32, uint64_t{1} << 32}, 0), "tensor \"ovf\"", "overflows int64");
  EXPECT_ERROR(one("bytes", {uint64_t{1} << 62}, 0), "tensor \"bytes\"", "byte size", "overflows");
  EXPECT_ERROR(one("off", {8}, 0, 16), "tensor \"off\"", "data offset 16 is not a multiple of the alignment 32");
  EXPECT_ERROR(one("far", {8}, 0, uint64_t{1} << 40), "tensor \"far\"", "past the end of the file");
  EXPECT_ERROR(one("wrap", {8}, 0, std::numeric_limits<uint64_t>::max() - 31), "tensor \"wrap\"", "past the end");
  EXPECT_ERROR(one(std::string(64, 'n'), {8}, 0), "is 64 bytes, longer than 63");
  EXPECT_NO_THROW(GgufFile::parse(one(std::string(63, 'n'), {8}, 0), "ok.gguf"));
  EXPECT_ERROR(one("", {8}, 0), "tensor #0", "tensor name is empty");
  Raw dims0;
  dims0.header(1, 0).str("d0").u32(0).u32(0).u64(0).pad().zeros(32);
  EXPECT_ERROR(dims0.b, "tensor \"d0\"", "n_dims is 0, expected 1..4");
  EXPECT_ERROR(one("d5", {1, 1, 1, 1, 1}, 0), "tensor \"d5\"", "n_dims is 5, expected 1..4");
}

TEST(GgufBadInput, DuplicateAndOverlappingTensors) {
  Raw dup;
  dup.header(2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad().zeros(64);
  EXPECT_ERROR(dup.b, "tensor \"w\"", "duplicate tensor name");
  Raw overlap;  // b [32, 96) overlaps a [0, 64)
  overlap.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {16}, 0, 32).pad().zeros(128);
  EXPECT_ERROR(overlap.b, "tensor \"b\"", "overlaps tensor \"a\"", "[32, 96)", "[0, 64)");
  Raw same;  // listed out of order: overlap is found whatever the info order
  same.header(2, 0).tensor("late", {8}, 0, 64).tensor("early", {24}, 0, 0).pad().zeros(128);
  EXPECT_ERROR(same.b, "tensor \"late\"", "overlaps tensor \"early\"");
  Raw gap;  // gaps and out-of-order data are fine
  gap.header(2, 0).tensor("x", {8}, 0, 96).tensor("y", {8}, 0, 0).pad().zeros(128);
  const GgufFile f = GgufFile::parse(gap.b, "gap.gguf");
  EXPECT_EQ(f.tensor("x").data.data(), gap.b.data() + f.data_offset() + 96);
}

TEST(GgufBadInput, OpenNamesThePath) {
  try {
    GgufFile::open("/nonexistent/dir/model.gguf");
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scitune
