// Record readers: JSON lines and JSON arrays, plain / gzip / zstd, and every way a file or record can be bad.
#include "data/record_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/byte_source.h"
#include "data_test_util.h"

namespace scitune {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using testing::read_all;
using ::testing::StartsWith;
using testing::write_file;

class RecordSourceTest : public testing::TempDirTest {
 protected:
  std::string p(const char* name) { return (dir_ / name).string(); }
};

const std::string kThree = "{\"a\": 1}\n{\"b\": \"x\"}\n{\"c\": [1, 2]}\n";

TEST_F(RecordSourceTest, JsonLinesWithLineNumbers) {
  write_file(p("d.jsonl"),
             "\xEF\xBB\xBF{\"a\": 1}\r\n\n   \n{\"b\": \"x\"}\n{\"c\": [1, 2]}");  // BOM, CRLF, blanks, no final \n
  const auto r = read_all(p("d.jsonl"));
  EXPECT_EQ(r.format, "jsonl");
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].where, p("d.jsonl") + ":1");
  EXPECT_EQ(r.records[0].value["a"], 1);
  EXPECT_EQ(r.records[1].where, p("d.jsonl") + ":4");
  EXPECT_EQ(r.records[2].where, p("d.jsonl") + ":5");
  EXPECT_EQ(r.records[2].value["c"][1], 2);
  for (const auto& rec : r.records) EXPECT_FALSE(rec.reject);
}

TEST_F(RecordSourceTest, EmptyFileHasNoRecords) {
  write_file(p("e.jsonl"), "");
  EXPECT_TRUE(read_all(p("e.jsonl")).records.empty());
  write_file(p("e.json"), " \n[ ]\n");
  EXPECT_TRUE(read_all(p("e.json")).records.empty());
}

TEST_F(RecordSourceTest, BadRecordsAreRejectsWithFileAndLine) {
  const std::string f = p("bad.jsonl");
  write_file(f,
             "{\"ok\": 1}\n"
             "{\"text\": \"caf\xC3\"}\n"  // truncated UTF-8 sequence
             "{\"text\": \"unterminated}\n"
             "[1, 2]\n"
             "{\"a\": 1, \"a\": 2}\n"
             "{\"ok\": 2}\n");
  const auto r = read_all(f);
  ASSERT_EQ(r.records.size(), 6u);
  EXPECT_FALSE(r.records[0].reject);
  ASSERT_TRUE(r.records[1].reject);
  EXPECT_EQ(r.records[1].reject->kind, "invalid UTF-8");
  EXPECT_EQ(r.records[1].reject->message, f + ":2: invalid UTF-8 at byte 14 of the record");
  ASSERT_TRUE(r.records[2].reject);
  EXPECT_EQ(r.records[2].reject->kind, "invalid JSON");
  EXPECT_THAT(r.records[2].reject->message, StartsWith(f + ":3: invalid JSON"));
  ASSERT_TRUE(r.records[3].reject);
  EXPECT_EQ(r.records[3].reject->kind, "not an object");
  EXPECT_EQ(r.records[3].reject->message, f + ":4: expected a JSON object (one record), found an array");
  ASSERT_TRUE(r.records[4].reject);
  EXPECT_EQ(r.records[4].reject->kind, "duplicate key");
  EXPECT_EQ(r.records[4].reject->message, f + ":5: record: duplicate key \"a\"");
  EXPECT_FALSE(r.records[5].reject);
  EXPECT_EQ(r.records[5].value["ok"], 2);
}

TEST_F(RecordSourceTest, OverlongLineIsAnErrorNamingTheLine) {
  const std::string f = p("long.jsonl");
  write_file(f, "{\"a\": 1}\n{\"t\": \"" + std::string(2000, 'x') + "\"}\n");
  ReaderLimits limits;
  limits.max_record_bytes = 1024;
  EXPECT_EQ(error_of([&] { read_all(f, limits); }),
            f + ":2: line is longer than the limit of 1024 bytes (a JSON-lines record per line expected)");
  // The same through gzip, where the line spans several output chunks.
  const std::string g = p("long.jsonl.gz");
  write_file(g, testing::gzip_bytes("{\"a\": 1}\n{\"t\": \"" + std::string(3 << 20, 'x') + "\"}\n"));
  limits.max_record_bytes = 2 << 20;
  EXPECT_EQ(error_of([&] { read_all(g, limits); }),
            g + ":2: line is longer than the limit of 2 MiB (a JSON-lines record per line expected)");
  limits.max_record_bytes = 4 << 20;
  EXPECT_EQ(read_all(g, limits).records.size(), 2u);
}

TEST_F(RecordSourceTest, JsonArrayStreamsElements) {
  const std::string f = p("d.json");
  write_file(f, "[\n  {\"a\": 1},\n  {\"b\": \"x,]}\\\"{\", \"c\": [1, {\"d\": 2}]} ,\n  3,\n  {\"e\": 1}\n]\n");
  const auto r = read_all(f);
  EXPECT_EQ(r.format, "json-array");
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.records[0].where, f + ":2");
  EXPECT_EQ(r.records[1].where, f + ":3");
  EXPECT_EQ(r.records[1].value["b"], "x,]}\"{");
  EXPECT_EQ(r.records[1].value["c"][1]["d"], 2);
  ASSERT_TRUE(r.records[2].reject);
  EXPECT_EQ(r.records[2].reject->message, f + ":4: expected a JSON object (one record), found a scalar");
  EXPECT_EQ(r.records[3].where, f + ":5");
}

TEST_F(RecordSourceTest, JsonLinesInADotJsonFile) {  // what datasets.Dataset.to_json writes
  write_file(p("lines.json"), kThree);
  const auto r = read_all(p("lines.json"));
  EXPECT_EQ(r.format, "jsonl");
  EXPECT_EQ(r.records.size(), 3u);
}

TEST_F(RecordSourceTest, BrokenJsonArraysAreErrors) {
  const std::string f = p("a.json");
  write_file(f, "[{\"a\": 1}\n {\"b\": 2}]");
  EXPECT_EQ(error_of([&] { read_all(f); }), f + ":2: expected ',' or ']' after the array element starting at line 1");
  write_file(f, "[{\"a\": 1},\n");
  EXPECT_EQ(error_of([&] { read_all(f); }), f + ":2: the JSON array is not closed (the file ends before ']')");
  write_file(f, "[{\"a\": 1}, {\"b\": \"x\"");
  EXPECT_EQ(error_of([&] { read_all(f); }),
            f + ":1: the JSON array is not closed (the file ends inside the element starting here)");
  write_file(f, "[\n,{\"a\": 1}]");
  EXPECT_EQ(error_of([&] { read_all(f); }), f + ":2: expected an array element, found ','");
  write_file(f, "[{\"a\": 1},\n]");
  EXPECT_EQ(error_of([&] { read_all(f); }), f + ":2: trailing comma before ']' (not JSON)");
  write_file(f, "[{\"a\": 1}]\n{\"b\": 2}");
  EXPECT_EQ(error_of([&] { read_all(f); }), f + ":2: unexpected data after the closing ']' of the JSON array");
  write_file(f, "[{\"t\": \"" + std::string(3000, 'x') + "\"}]");
  ReaderLimits limits;
  limits.max_record_bytes = 1024;
  EXPECT_EQ(error_of([&] { read_all(f, limits); }), f + ":1: array element is longer than the limit of 1024 bytes");
}

TEST_F(RecordSourceTest, GzipAndZstdByContent) {
  write_file(p("d.jsonl.gz"), testing::gzip_bytes(kThree));
  write_file(p("d.jsonl.zst"), testing::zstd_bytes(kThree));
  write_file(p("d.json.gz"), testing::gzip_bytes("[" + std::string("{\"a\": 1}, {\"a\": 2}") + "]"));
  write_file(p("no_suffix"), testing::zstd_bytes(kThree));  // the magic decides, not the name
  for (const char* name : {"d.jsonl.gz", "d.jsonl.zst", "no_suffix"}) {
    const auto r = read_all(p(name));
    ASSERT_EQ(r.records.size(), 3u) << name;
    EXPECT_EQ(r.records[2].where, p(name) + ":3");
    EXPECT_EQ(r.records[1].value["b"], "x");
  }
  EXPECT_EQ(read_all(p("d.jsonl.gz")).format, "jsonl+gzip");
  EXPECT_EQ(read_all(p("d.jsonl.zst")).format, "jsonl+zstd");
  const auto arr = read_all(p("d.json.gz"));
  EXPECT_EQ(arr.format, "json-array+gzip");
  EXPECT_EQ(arr.records.size(), 2u);
}

TEST_F(RecordSourceTest, ConcatenatedMembersAndFrames) {
  write_file(p("c.jsonl.gz"), testing::gzip_bytes("{\"a\": 1}\n{\"a\"") + testing::gzip_bytes(": 2}\n{\"a\": 3}\n"));
  write_file(p("c.jsonl.zst"), testing::zstd_bytes("{\"a\": 1}\n") + testing::zstd_bytes("{\"a\": 2}\n{\"a\": 3}"));
  for (const char* name : {"c.jsonl.gz", "c.jsonl.zst"}) {
    const auto r = read_all(p(name));
    ASSERT_EQ(r.records.size(), 3u) << name;
    EXPECT_EQ(r.records[1].value["a"], 2) << name;
  }
}

TEST_F(RecordSourceTest, TruncatedOrMislabelledCompressionIsAnError) {
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "{\"i\": " + std::to_string(i) + ", \"t\": \"some text to compress\"}\n";
  const std::string gz = testing::gzip_bytes(big), zst = testing::zstd_bytes(big);
  write_file(p("t.jsonl.gz"), gz.substr(0, gz.size() - 6));
  EXPECT_EQ(error_of([&] { read_all(p("t.jsonl.gz")); }),
            p("t.jsonl.gz") + ": gzip stream is truncated (the file ends inside compressed data)");
  write_file(p("t.jsonl.zst"), zst.substr(0, zst.size() - 6));
  EXPECT_EQ(error_of([&] { read_all(p("t.jsonl.zst")); }),
            p("t.jsonl.zst") + ": zstd stream is truncated (the file ends inside a frame)");
  write_file(p("g.jsonl.gz"), gz + "garbage!");
  EXPECT_THAT(error_of([&] { read_all(p("g.jsonl.gz")); }), StartsWith(p("g.jsonl.gz") + ": corrupt gzip data"));
  write_file(p("plain.gz"), kThree);
  EXPECT_EQ(error_of([&] { read_all(p("plain.gz")); }),
            p("plain.gz") + ": named .gz but is not gzip data (no 1f 8b magic)");
  write_file(p("plain.zst"), kThree);
  EXPECT_EQ(error_of([&] { read_all(p("plain.zst")); }),
            p("plain.zst") + ": named .zst but is not zstd data (no 28 b5 2f fd magic)");
  EXPECT_THAT(error_of([&] { read_all(p("missing.jsonl")); }), StartsWith(p("missing.jsonl") + ": cannot open"));
}

TEST_F(RecordSourceTest, LargeCompressedFileStreamsAcrossChunks) {
  std::string big;
  for (int i = 0; i < 60000; ++i)
    big += "{\"i\": " + std::to_string(i) + ", \"pad\": \"" + std::string(i % 80, 'p') + "\"}\n";
  ASSERT_GT(big.size(), size_t(3) << 20);  // several 1 MiB output chunks
  write_file(p("big.jsonl.zst"), testing::zstd_bytes(big));
  write_file(p("big.jsonl.gz"), testing::gzip_bytes(big));
  for (const char* name : {"big.jsonl.zst", "big.jsonl.gz"}) {
    auto src = open_record_source(p(name));
    int64_t n = 0;
    while (auto rec = src->next()) {
      ASSERT_FALSE(rec->reject) << rec->reject->message;
      ASSERT_EQ(rec->value["i"], n);
      ++n;
    }
    EXPECT_EQ(n, 60000);
  }
}

TEST(ParseRecord, NestedDuplicateKeyNamesThePath) {  // found by the fuzzer: the message must start "<where>: "
  const RawRecord r = parse_record(R"({"prompt": [{"role": "user", "content": "a", "content": "C"}]})", "x.jsonl:2");
  ASSERT_TRUE(r.reject);
  EXPECT_EQ(r.reject->message, "x.jsonl:2: record.prompt[0]: duplicate key \"content\"");
}

TEST(ParseRecord, InvalidJsonMessageSaysWhere) {
  const RawRecord r = parse_record("{\"a\": 1,}", "x.jsonl:7");
  ASSERT_TRUE(r.reject);
  EXPECT_EQ(r.reject->kind, "invalid JSON");
  EXPECT_THAT(r.reject->message, StartsWith("x.jsonl:7: invalid JSON"));
  EXPECT_THAT(r.reject->message, HasSubstr("column"));
}

}  // namespace
}  // namespace scitune
