// Parquet rows as records: the published schema (list<struct<role, content>>) becomes the same JSON object as
// the row's JSON line, across row groups and shards (a folder, a glob); every supported column type; rows
// named file:row N; bad strings rejected per row; unsupported types, non-Parquet and truncated files named;
// the whole pipeline's rejects and --filter-dataset on a SciRIFF-train-mix-like file. Fixtures:
// tests/golden/parquet/ (tools/oracle/make_parquet_fixtures.py).
#include "data/parquet_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/prepare.h"
#include "data_test_util.h"
#include "tokenizer/tokenizer_test_util.h"

namespace scitune {
namespace {

using json = nlohmann::json;
using testing::error_of;
using ::testing::HasSubstr;
using testing::read_all;
using ::testing::StartsWith;

std::filesystem::path golden(const std::string& name) {
  return std::filesystem::path(SCITUNE_SOURCE_DIR) / "tests/golden/parquet" / name;
}

#define SCITUNE_REQUIRE_PARQUET()                                                                          \
  if (!parquet_available())                                                                                \
  GTEST_SKIP() << "this build reads no Parquet (the pyarrow wheel's Arrow C++ was not found at configure " \
                  "time): run scripts/fetch_pyarrow.sh and configure again"

class ParquetTest : public testing::TempDirTest {};

TEST_F(ParquetTest, WithoutArrowTheMessageSaysHowToEnableIt) {
  if (parquet_available()) GTEST_SKIP() << "this build reads Parquet";
  const std::string f = golden("os_train_like.parquet").string();
  EXPECT_THAT(error_of([&] { read_all(f); }),
              AllOf(StartsWith(f + ": reading Parquet needs"), HasSubstr("scripts/fetch_pyarrow.sh")));
}

TEST_F(ParquetTest, RowsAreTheRecordsOfTheirJsonLines) {
  SCITUNE_REQUIRE_PARQUET();
  for (const char* name : {"os_train_like.parquet", "os_train_like_large.parquet", "sciriff_like.parquet"}) {
    SCOPED_TRACE(name);
    const std::string f = golden(name).string();
    const auto pq = read_all(f);
    const std::string stem = std::string(name).substr(0, std::string(name).find('.'));
    const auto jl = read_all(golden((stem == "os_train_like_large" ? "os_train_like" : stem) + ".jsonl"));
    EXPECT_EQ(pq.format, "parquet");
    ASSERT_EQ(pq.records.size(), jl.records.size());
    for (size_t i = 0; i < pq.records.size(); ++i) {
      EXPECT_EQ(pq.records[i].where, f + ":row " + std::to_string(i));  // across both row groups
      EXPECT_FALSE(pq.records[i].reject);
      EXPECT_EQ(pq.records[i].value, jl.records[i].value) << i;
    }
  }
  // The published schema, spelled out once.
  const auto r = read_all(golden("os_train_like.parquet"));
  EXPECT_EQ(r.records[2].value, json::parse(R"({"dataset": "tulu_v2", "id": "tulu-2", "messages": [
      {"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Name a prime number."},
      {"role": "assistant", "content": "Seven."}]})"));
  EXPECT_EQ(read_all(golden("sciriff_like.parquet")).records[5].value,
            json::parse(R"({"dataset": "oasst1", "id": "oasst1_5", "messages": null})"));
}

TEST_F(ParquetTest, ShardsByFolderAndByGlob) {
  SCITUNE_REQUIRE_PARQUET();
  const auto one = read_all(golden("shards.jsonl"));
  const std::filesystem::path dir = golden("shards");
  for (const std::filesystem::path& p : {dir, dir / "train-*-of-00002.parquet", dir / "train-0000[0-1]-*"}) {
    SCOPED_TRACE(p.string());
    const auto r = read_all(p);
    EXPECT_EQ(r.format, "parquet x 2 files");
    ASSERT_EQ(r.records.size(), 5u);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(r.records[i].value, one.records[i].value);
    EXPECT_EQ(r.records[2].where, (dir / "train-00000-of-00002.parquet").string() + ":row 2");
    EXPECT_EQ(r.records[3].where, (dir / "train-00001-of-00002.parquet").string() + ":row 0");
  }
  // A glob matching one shard is that shard.
  EXPECT_EQ(read_all(dir / "train-00001-*").format, "parquet");
  EXPECT_EQ(expand_data_path(dir), (std::vector<std::filesystem::path>{dir / "train-00000-of-00002.parquet",
                                                                       dir / "train-00001-of-00002.parquet"}));
  EXPECT_EQ(error_of([&] { read_all(dir / "test-*.parquet"); }),
            (dir / "test-*.parquet").string() + ": no file matches");
  EXPECT_EQ(error_of([&] { read_all(dir_); }),
            dir_.string() + ": a folder source is read as its *.parquet shards, and it has none");
  std::filesystem::create_directories(dir_ / "data");
  EXPECT_THAT(error_of([&] { read_all(dir_); }),
              HasSubstr("(Hugging Face datasets keep theirs in " + (dir_ / "data").string() + ")"));
}

TEST_F(ParquetTest, InMemoryAndGlobsOfJsonLines) {
  SCITUNE_REQUIRE_PARQUET();
  // Bytes in memory starting with "PAR1" are Parquet (the fuzz target's way in).
  const std::string bytes = testing::read_text(golden("os_train_like.parquet"));
  auto src = open_record_source(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "mem");
  EXPECT_EQ(src->format(), "parquet");
  const auto file = read_all(golden("os_train_like.parquet"));
  for (size_t i = 0; i < file.records.size(); ++i) {
    auto rec = src->next();
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->where, "mem:row " + std::to_string(i));
    EXPECT_EQ(rec->value, file.records[i].value);
  }
  EXPECT_FALSE(src->next());
  // A glob is not only for shards: JSON lines files chain the same way, each named in its records.
  const auto all = read_all(golden("*.jsonl"));
  EXPECT_EQ(all.format, "jsonl x 3 files");
  ASSERT_EQ(all.records.size(), 7u + 10u + 5u);
  EXPECT_EQ(all.records[7].where, golden("sciriff_like.jsonl").string() + ":1");
}

TEST_F(ParquetTest, EveryColumnType) {
  SCITUNE_REQUIRE_PARQUET();
  const auto r = read_all(golden("types.parquet"));
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].value, json::parse(R"({"i8": -5, "i64": 9007199254740993, "u32": 4000000000,
      "u64": 18446744073709551615, "f32": 0.5, "f64": -2.25, "flag": true, "nothing": null, "tag": "science",
      "meta": {"source": "pubmed", "score": 0.75, "tags": ["bio", "qa"]}, "pair": [1, 2], "input_ids": [2, 105, 2364]})"));
  EXPECT_EQ(r.records[0].value["u64"].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(r.records[0].value["i64"].get<int64_t>(), (int64_t(1) << 53) + 1);  // not through a double
  // Nulls stay null at every level; NaN has no JSON form and becomes null (as pandas' to_json writes it).
  EXPECT_EQ(r.records[1].value, json::parse(R"({"i8": null, "i64": null, "u32": null, "u64": null, "f32": null,
      "f64": null, "flag": null, "nothing": null, "tag": null, "meta": {"source": null, "score": null, "tags": []},
      "pair": null, "input_ids": null})"));
  EXPECT_EQ(r.records[2].value, json::parse(R"({"i8": 0, "i64": 0, "u32": 0, "u64": 0, "f32": 0.0, "f64": 0.0,
      "flag": false, "nothing": null, "tag": "science", "meta": null, "pair": [3, 4], "input_ids": []})"));
  EXPECT_TRUE(read_all(golden("empty.parquet")).records.empty());
}

TEST_F(ParquetTest, BadUtf8IsARejectNamingTheColumnAndReadingGoesOn) {
  SCITUNE_REQUIRE_PARQUET();
  const std::string f = golden("bad_utf8.parquet").string();
  const auto r = read_all(f);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_FALSE(r.records[0].reject);
  ASSERT_TRUE(r.records[1].reject);
  EXPECT_EQ(r.records[1].reject->kind, "invalid UTF-8");
  EXPECT_EQ(r.records[1].reject->message,
            f + ":row 1: column \"messages[0].content\": invalid UTF-8 at byte 5 of the string");
  EXPECT_FALSE(r.records[2].reject);
  EXPECT_EQ(r.records[2].value["messages"][0]["content"], "also fine");
}

TEST_F(ParquetTest, UnsupportedTypesAndBrokenFilesAreNamed) {
  SCITUNE_REQUIRE_PARQUET();
  const std::string bin = golden("binary_column.parquet").string();
  EXPECT_THAT(error_of([&] { read_all(bin); }),
              StartsWith(bin + ": column \"blob\" has type binary, which has no JSON equivalent here (string, "));
  const std::string ts = golden("timestamp_in_struct.parquet").string();
  EXPECT_THAT(error_of([&] { read_all(ts); }), StartsWith(ts + ": column \"meta.when\" has type timestamp["));

  // Not Parquet at all, by name; Parquet by magic whatever the name; cut short.
  const std::string text = testing::write_file(dir_ / "notes.parquet", "just text\n").string();
  EXPECT_THAT(error_of([&] { read_all(text); }), StartsWith(text + ": cannot open it as Parquet: "));
  const std::string whole = testing::read_text(golden("sciriff_like.parquet"));
  const std::string renamed = testing::write_file(dir_ / "rows.data", whole).string();
  EXPECT_EQ(read_all(renamed).records.size(), 10u);
  for (size_t keep : {whole.size() - 1, whole.size() / 2, size_t(4)}) {
    SCOPED_TRACE(keep);
    const std::string cut = testing::write_file(dir_ / "cut.parquet", whole.substr(0, keep)).string();
    EXPECT_THAT(error_of([&] { read_all(cut); }), StartsWith(cut + ": cannot open it as Parquet: "));
  }
  // Damaged page headers and compressed pages (the footer intact): an error naming the file and the row group,
  // on one line, never a crash.
  for (const auto& [from, to] : {std::pair<size_t, size_t>{4, 40}, {40, 400}, {400, 1200}}) {
    SCOPED_TRACE(from);
    std::string damaged = whole;
    for (size_t i = from; i < to; i += 5) damaged[i] = char(damaged[i] ^ 0x5a);
    const std::string dmg = testing::write_file(dir_ / "damaged.parquet", damaged).string();
    const std::string e = error_of([&] { read_all(dmg); });
    EXPECT_THAT(e, StartsWith(dmg + ": cannot read row group 0: "));
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

class ParquetPrepareTest : public testing::TempDirTest {
 protected:
  DatasetSpec spec_of(const std::filesystem::path& path) {
    DatasetSpec s;
    s.sources.push_back(parse_data_source(path.string()));
    s.tokenize.threads = 2;
    s.keep_order = true;
    return s;
  }
};

TEST_F(ParquetPrepareTest, RejectsNameTheRow) {
  SCITUNE_REQUIRE_PARQUET();
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::string f = golden("sciriff_like.parquet").string();
  const PreparedDataset d = prepare_dataset(spec_of(f), *tok);
  const SourceReport& sr = d.report.sources[0];
  EXPECT_EQ(sr.format, "parquet");
  EXPECT_EQ(sr.layout, "messages");
  EXPECT_EQ(sr.records, 10);
  EXPECT_EQ(sr.kept, 5);
  EXPECT_EQ(sr.rejected_by_kind, (std::map<std::string, int64_t>{{"empty answer", 1},
                                                                 {"empty conversation", 1},
                                                                 {"missing field", 1},
                                                                 {"no model turn", 1},
                                                                 {"unknown role", 1}}));
  ASSERT_EQ(sr.first_rejects.size(), 5u);
  EXPECT_EQ(sr.first_rejects[0], f + ":row 3: messages[1]: empty model answer");
  EXPECT_EQ(sr.first_rejects[1], f + ":row 4: messages[1]: unknown role \"narrator\" (expected system, user/human "
                                     "or assistant/model/gpt/bot)");
  // A null column value is an absent field, as `"messages": null` is in JSON lines.
  EXPECT_EQ(sr.first_rejects[2],
            f + ":row 5: missing \"messages\" (the file's layout is messages, detected at " + f + ":row 0)");
  EXPECT_EQ(sr.first_rejects[3], f + ":row 7: \"messages\" is empty");
  EXPECT_THAT(sr.first_rejects[4], StartsWith(f + ":row 8: "));
  ASSERT_EQ(d.train.size(), 5u);
  EXPECT_EQ(d.train[0].source, f + ":row 0");
  EXPECT_EQ(d.train[4].source, f + ":row 9");
}

TEST_F(ParquetPrepareTest, SameExamplesAsTheJsonLines) {
  SCITUNE_REQUIRE_PARQUET();
  SCITUNE_REQUIRE_GEMMA3(tok);
  for (const char* stem : {"os_train_like", "sciriff_like"}) {
    SCOPED_TRACE(stem);
    const PreparedDataset a = prepare_dataset(spec_of(golden(std::string(stem) + ".parquet")), *tok);
    const PreparedDataset b = prepare_dataset(spec_of(golden(std::string(stem) + ".jsonl")), *tok);
    ASSERT_EQ(a.train.size(), b.train.size());
    for (size_t i = 0; i < a.train.size(); ++i) {
      EXPECT_EQ(a.train[i].input_ids, b.train[i].input_ids) << i;
      EXPECT_EQ(a.train[i].labels, b.train[i].labels) << i;
    }
    EXPECT_EQ(a.report.sources[0].rejected_by_kind, b.report.sources[0].rejected_by_kind);
    EXPECT_EQ(a.report.sources[0].tokens, b.report.sources[0].tokens);
  }
}

TEST_F(ParquetPrepareTest, FilterByDatasetTag) {
  SCITUNE_REQUIRE_PARQUET();
  SCITUNE_REQUIRE_GEMMA3(tok);
  const std::string f = golden("sciriff_like.parquet").string();
  DatasetSpec spec = spec_of(f);
  add_dataset_filter(spec.sources[0].filter, "science.*");
  PreparedDataset d = prepare_dataset(spec, *tok);
  const SourceReport& sr = d.report.sources[0];
  EXPECT_EQ(sr.records, 10);
  EXPECT_EQ(sr.filtered, 5);  // the general chat half
  EXPECT_EQ(sr.kept, 3);      // scifact, qasper, scierc; bioasq (narrator) and evidence_inference rejected
  EXPECT_EQ(sr.rejected, 2);
  for (const auto& ex : d.train)
    EXPECT_THAT(ex.source, AnyOf(HasSubstr(":row 0"), HasSubstr(":row 2"), HasSubstr(":row 6")));
  EXPECT_THAT(format_report(d.report), HasSubstr("10 records, 5 filtered out by dataset, 3 kept"));
  EXPECT_EQ(report_from_json(to_json(d.report), "r").sources[0].filtered, 5);

  // Exclusion, several patterns, the shards and a sample drawn from what the filter keeps.
  spec = spec_of(golden("shards"));
  add_dataset_filter(spec.sources[0].filter, "!science.*");
  d = prepare_dataset(spec, *tok);
  EXPECT_EQ(d.report.sources[0].kept, 3);  // rows 0, 2, 4 are sharegpt
  EXPECT_EQ(d.report.sources[0].filtered, 2);
  spec = spec_of(golden("sciriff_like.parquet").string() + ":2");
  add_dataset_filter(spec.sources[0].filter, "sharegpt,code_*");
  d = prepare_dataset(spec, *tok);
  EXPECT_EQ(d.report.sources[0].kept, 2);
  EXPECT_EQ(d.report.sources[0].filtered, 8);
}

TEST_F(ParquetPrepareTest, FilterNeedsTheTag) {  // JSON lines: runs without Arrow too
  SCITUNE_REQUIRE_GEMMA3(tok);
  // A record without the tag is a reject of its own kind.
  DatasetSpec spec = spec_of(testing::write_file(
      dir_ / "untagged.jsonl",
      R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}], "dataset": "x"})"
      "\n"
      R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})"
      "\n"));
  add_dataset_filter(spec.sources[0].filter, "x");
  const PreparedDataset d = prepare_dataset(spec, *tok);
  EXPECT_EQ(d.report.sources[0].kept, 1);
  EXPECT_EQ(d.report.sources[0].first_rejects,
            std::vector<std::string>{(dir_ / "untagged.jsonl").string() +
                                     ":2: --filter-dataset needs a string \"dataset\" field, found none"});
  DatasetFilter bad;
  EXPECT_EQ(error_of([&] { add_dataset_filter(bad, "a,,b"); }),
            "--filter-dataset a,,b: an empty pattern (expected NAME[,NAME...], '!' to exclude)");
}

}  // namespace
}  // namespace scitune
