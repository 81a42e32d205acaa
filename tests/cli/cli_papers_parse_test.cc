// `scitune papers parse` as a user runs it: folders and files in, corpus.jsonl out with one record per PDF, a
// summary line per file, exit 1 when any file failed while the good ones are still written, --out refused when
// it exists unless --force, --drop-references, and a named error for a path that does not exist.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_run.h"
#include "papers/corpus.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

const fs::path kGolden = fs::path(SCITUNE_SOURCE_DIR) / "tests" / "golden" / "papers";

class CliPapersParse : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("scitune_cli_papers_parse_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "pdfs");
    fs::copy_file(kGolden / "elsarticle_elstest-5p.pdf", dir_ / "pdfs" / "a.pdf");
    fs::copy_file(kGolden / "llncs_llncsdoc.pdf", dir_ / "pdfs" / "b.pdf");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(CliPapersParse, FolderToCorpus) {
  auto r = run_cli("papers parse " + path("pdfs") + " --out " + path("corpus.jsonl") + " --jobs 2");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("parsed 2 file(s): 2 ok, 0 failed, 11 pages"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(path("pdfs/a.pdf")), std::string::npos);
  const auto docs = read_corpus(path("corpus.jsonl"));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].file, path("pdfs/a.pdf"));
  EXPECT_EQ(docs[0].pages, 4);
  EXPECT_EQ(docs[1].pages, 7);
  EXPECT_TRUE(docs[0].ok() && docs[1].ok());
  EXPECT_NE(docs[0].text.find("A. J. Leggett"), std::string::npos);
  EXPECT_EQ(docs[0].sections.back().title, "References");

  // The output is the user's file now: refused without --force, replaced with it.
  r = run_cli("papers parse " + path("pdfs/a.pdf") + " --out " + path("corpus.jsonl"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("already exists"), std::string::npos) << r.out;
  r = run_cli("-q papers parse " + path("pdfs/a.pdf") + " --out " + path("corpus.jsonl") +
              " --force --drop-references");
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto one = read_corpus(path("corpus.jsonl"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].text.find("A. J. Leggett"), std::string::npos);
}

TEST_F(CliPapersParse, BadFilesAreRecordsAndExitOne) {
  std::ofstream(dir_ / "pdfs" / "junk.pdf") << "not a pdf";
  fs::copy_file(kGolden / "elsarticle_elstest-5p_user-password.pdf", dir_ / "pdfs" / "locked.pdf");
  fs::copy_file(kGolden / "aiaa_figure_magnet.pdf", dir_ / "pdfs" / "scan.pdf");
  const auto r = run_cli("papers parse " + path("pdfs") + " --out " + path("corpus.jsonl"));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("2 ok, 3 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("encrypted"), std::string::npos);
  EXPECT_NE(r.out.find("no text layer"), std::string::npos);
  EXPECT_NE(r.out.find("not a PDF"), std::string::npos);
  EXPECT_NE(r.out.find("error: 3 of 5 file(s) could not be parsed"), std::string::npos) << r.out;
  const auto docs = read_corpus(path("corpus.jsonl"));  // sorted: a, b, junk, locked, scan
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_EQ(docs[0].status, "ok");
  EXPECT_EQ(docs[1].status, "ok");
  EXPECT_EQ(docs[2].status, "malformed");
  EXPECT_EQ(docs[3].status, "encrypted");
  EXPECT_EQ(docs[4].status, "no text layer");
}

TEST_F(CliPapersParse, MissingInputIsNamed) {
  const auto r = run_cli("papers parse " + path("nope.pdf") + " --out " + path("corpus.jsonl"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find(path("nope.pdf") + ": no such file or folder"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "corpus.jsonl"));
}

}  // namespace
}  // namespace scitune
