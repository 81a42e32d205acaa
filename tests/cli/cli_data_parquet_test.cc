// `scitune data prepare` on Parquet as a user runs it: the token cache from a .parquet file (two row groups,
// bad rows) is the one its JSON lines give, example by example; shards as a folder; --filter-dataset; and,
// in a build without Arrow, an error naming the file and how to enable Parquet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_run.h"
#include "data/example_cache.h"
#include "data/parquet_source.h"
#include "test_util.h"

namespace scitune {
namespace {

using ::testing::HasSubstr;
using testing::run_cli;

const std::string kTok = std::string(SCITUNE_SHARED_DIR) + "/tokenizers/gemma3";
std::string golden(const std::string& name) {
  return std::string(SCITUNE_SOURCE_DIR) + "/tests/golden/parquet/" + name;
}

class CliDataParquet : public testing::TempDirTest {
 protected:
  void SetUp() override {
    testing::TempDirTest::SetUp();
    if (!std::filesystem::exists(kTok + "/tokenizer.json")) GTEST_SKIP() << "no Gemma 3 tokenizer at " << kTok;
  }
  testing::CliRun prepare(const std::string& data, const std::string& out, const std::string& extra = "") {
    return run_cli("data prepare --data " + data + " --tokenizer " + kTok + " --out " + (dir_ / out).string() +
                   " --val-count 1 --seed 7 --threads 2 " + extra);
  }
};

TEST_F(CliDataParquet, SameTokenCacheAsTheJsonLines) {
  if (!parquet_available())
    GTEST_SKIP() << "this build reads no Parquet: run scripts/fetch_pyarrow.sh and configure again";
  for (const std::string stem : {"sciriff_like", "os_train_like"}) {
    SCOPED_TRACE(stem);
    const auto pq = prepare(golden(stem + ".parquet"), stem + "_pq");
    ASSERT_EQ(pq.rc, 0) << pq.out;
    const auto jl = prepare(golden(stem + ".jsonl"), stem + "_jl");
    ASSERT_EQ(jl.rc, 0) << jl.out;
    EXPECT_THAT(pq.out, HasSubstr(golden(stem + ".parquet") + " (parquet, messages): "));
    for (const char* split : {"train.bin", "validation.bin"}) {
      const ExampleCache a(dir_ / (stem + "_pq") / split), b(dir_ / (stem + "_jl") / split);
      ASSERT_EQ(a.size(), b.size()) << split;
      ASSERT_GT(a.size(), 0u);
      for (size_t i = 0; i < a.size(); ++i) {
        const auto x = a.packed(i), y = b.packed(i);
        EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << split << " example " << i;
        EXPECT_THAT(std::string(a.source(i)), HasSubstr(".parquet:row "));
      }
    }
  }
  // The bad rows are named by row.
  const auto pq = prepare(golden("sciriff_like.parquet"), "again", "--force");
  EXPECT_THAT(pq.out, HasSubstr("sciriff_like.parquet:row 4: messages[1]: unknown role \"narrator\""));
}

TEST_F(CliDataParquet, ShardFolderAndFilter) {
  if (!parquet_available())
    GTEST_SKIP() << "this build reads no Parquet: run scripts/fetch_pyarrow.sh and configure again";
  auto r = prepare(golden("shards"), "shards", "--filter-dataset 'science.*'");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(golden("shards") + " (parquet x 2 files, messages): 5 records, 3 filtered out by "
                                                  "dataset, 2 kept"));
  r = prepare(golden("shards"), "none", "--filter-dataset 'nothing*'");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("no training examples left"));
  const auto help = run_cli("data prepare --help");
  EXPECT_THAT(help.out, HasSubstr("--filter-dataset"));
  EXPECT_THAT(help.out, HasSubstr(".parquet"));
}

TEST_F(CliDataParquet, WithoutArrowTheErrorSaysHowToEnableIt) {
  if (parquet_available()) GTEST_SKIP() << "this build reads Parquet";
  const auto r = prepare(golden("sciriff_like.parquet"), "x");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(golden("sciriff_like.parquet") + ": reading Parquet needs"));
  EXPECT_THAT(r.out, HasSubstr("scripts/fetch_pyarrow.sh"));
}

}  // namespace
}  // namespace scitune
