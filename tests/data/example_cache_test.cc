// The tokenised-example cache: exact round trip, and every corruption is refused with a message.
#include "data/example_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "data_test_util.h"
#include "util/sha256.h"

namespace scitune {
namespace {

using testing::error_of;
using ::testing::HasSubstr;

std::vector<TokenizedExample> sample_examples() {
  return {
      {{2, 105, 2364, 107, 106, 107}, {-100, -100, -100, -100, 106, 107}, "a.jsonl:1"},
      {{2, 9}, {2, 9}, ""},
      {{2, 100, 200, 300, 262143}, {-100, 100, -100, 300, 262143}, "b.json.gz:17"},
  };
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Rewrites the trailing SHA-256 so that a deliberate edit reaches the structural checks.
void reseal(std::string& bytes) {
  const std::string digest = [&] {
    Sha256 sha;
    sha.update(std::string_view(bytes).substr(0, bytes.size() - 32));
    const auto d = sha.digest();
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }();
  bytes.replace(bytes.size() - 32, 32, digest);
}

class ExampleCacheTest : public testing::TempDirTest {};

TEST_F(ExampleCacheTest, RoundTrip) {
  const auto examples = sample_examples();
  const nlohmann::json meta = {{"split", "train"}, {"seed", 42}};
  write_example_cache(dir_ / "train.bin", examples, 262144, meta);
  const ExampleCache cache(dir_ / "train.bin");
  ASSERT_EQ(cache.size(), examples.size());
  EXPECT_EQ(cache.total_tokens(), 13u);
  EXPECT_EQ(cache.vocab_size(), 262144u);
  EXPECT_EQ(cache.meta(), meta);
  for (size_t i = 0; i < examples.size(); ++i) {
    const TokenizedExample ex = cache.example(i);
    EXPECT_EQ(ex.input_ids, examples[i].input_ids) << i;
    EXPECT_EQ(ex.labels, examples[i].labels) << i;
    EXPECT_EQ(ex.source, examples[i].source) << i;
    EXPECT_EQ(cache.source(i), examples[i].source);
  }
  EXPECT_EQ(cache.packed(0)[4], 106u | kTrainedBit);
  EXPECT_EQ(cache.packed(0)[0], 2u);
  EXPECT_EQ(cache.examples().size(), 3u);
  // The file is exactly header + offsets + tokens (padded) + offsets + sources (padded) + meta + digest.
  const size_t sources = 9 + 0 + 12;
  EXPECT_EQ(std::filesystem::file_size(dir_ / "train.bin"),
            48 + 8 * 4 + 4 * 13 + 4 + 8 * 4 + sources + 3 + meta.dump().size() + 32);
}

TEST_F(ExampleCacheTest, EmptySplit) {
  write_example_cache(dir_ / "v.bin", {}, 100, nlohmann::json::object());
  const ExampleCache cache(dir_ / "v.bin");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.total_tokens(), 0u);
}

TEST_F(ExampleCacheTest, WriterRefusesWhatCannotBeStored) {
  const auto p = dir_ / "x.bin";
  const auto meta = nlohmann::json::object();
  std::vector<TokenizedExample> ex = {{{2, 5}, {-100, 6}, "s:1"}};
  EXPECT_EQ(error_of([&] { write_example_cache(p, ex, 100, meta); }),
            p.string() + ": example 0 (s:1): label 1 = 6 is neither -100 nor the token's id");
  ex = {{{2, 100}, {2, 100}, "s:2"}};
  EXPECT_EQ(error_of([&] { write_example_cache(p, ex, 100, meta); }),
            p.string() + ": example 0 (s:2): token 1 id 100 outside the vocabulary of 100");
  ex = {{{}, {}, "s:3"}};
  EXPECT_EQ(error_of([&] { write_example_cache(p, ex, 100, meta); }), p.string() + ": example 0 (s:3): no tokens");
  ex = {{{2}, {2, 3}, "s:4"}};
  EXPECT_EQ(error_of([&] { write_example_cache(p, ex, 100, meta); }),
            p.string() + ": example 0 (s:4): 2 labels for 1 tokens");
  EXPECT_FALSE(std::filesystem::exists(p));
  write_example_cache(p, sample_examples(), 262144, meta);
  EXPECT_THAT(error_of([&] { write_example_cache(p, sample_examples(), 262144, meta); }), HasSubstr("exists"));
  write_example_cache(p, sample_examples(), 262144, meta, Overwrite::kYes);
}

TEST_F(ExampleCacheTest, CorruptFilesAreRefused) {
  const auto p = dir_ / "c.bin";
  write_example_cache(p, sample_examples(), 262144, {{"split", "train"}});
  const std::string good = read_bytes(p);
  const std::string prefix = p.string() + ": not a valid scitune example cache: ";
  auto load_error = [&](const std::string& bytes) {
    testing::write_file(p, bytes);
    return error_of([&] { ExampleCache c(p); });
  };

  std::string b = good;
  b[60] ^= 1;  // a token offset: caught by the checksum
  EXPECT_EQ(load_error(b), prefix + "checksum mismatch (the file is corrupt; prepare the data again)");
  EXPECT_THAT(load_error(good.substr(0, good.size() - 1)), HasSubstr("does not match the file size"));
  EXPECT_EQ(load_error(good.substr(0, 20)), prefix + "file is 20 bytes, shorter than the header and checksum");
  b = good;
  b[0] = 'X';
  EXPECT_EQ(load_error(b), prefix + "wrong magic (expected \"SCIDATA\")");
  b = good;
  b[8] = 2;
  EXPECT_EQ(load_error(b), prefix + "version 2, this scitune reads version 1 (prepare the data again)");
  b = good;
  b[16] = char(0xff);  // example count: the sizes no longer add up
  EXPECT_THAT(load_error(b), HasSubstr("does not match the file size"));
  b = good;
  std::memset(&b[16], 0xff, 8);  // 2^64 - 1 examples: the size computation overflows
  EXPECT_THAT(load_error(b), HasSubstr("does not match the file size"));

  // Structural checks behind a valid checksum.
  b = good;
  const uint32_t big = 262144;  // token 0 of example 0 (offsets are 4 x 8 bytes after the 48-byte header)
  std::memcpy(&b[48 + 32], &big, 4);
  reseal(b);
  EXPECT_EQ(load_error(b), prefix + "token 0 id 262144 is outside the vocabulary of 262144");
  b = good;
  const uint64_t off = 6;  // example 1 would end where it starts: empty
  std::memcpy(&b[48 + 16], &off, 8);
  reseal(b);
  EXPECT_EQ(load_error(b), prefix + "example 1 has no tokens");
  b = good;
  b[b.size() - 33] = '[';  // the meta JSON's closing brace
  reseal(b);
  EXPECT_THAT(load_error(b), HasSubstr(": meta: invalid JSON"));

  testing::write_file(p, good);
  EXPECT_EQ(ExampleCache(p).size(), 3u);
}

}  // namespace
}  // namespace scitune
