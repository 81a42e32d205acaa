// `scitune papers chunk` and `scitune papers report` as a user runs them: the files and the summary, notes for
// skipped papers, --force, bad flags as exit code 1 with the flag named, and the text dataset accepted as it is
// by `scitune data prepare --strict`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_run.h"
#include "test_util.h"
#include "papers/corpus.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

fs::path gemma3_dir() { return fs::path(SCITUNE_SHARED_DIR) / "tokenizers/gemma3"; }

PaperDocument paper(int i, const std::string& status = "ok") {
  PaperDocument d;
  d.id = "paper" + std::to_string(i);
  d.file = "pdfs/" + d.id + ".pdf";
  d.sha256 = std::string(64, 'c');
  d.title = "Study number " + std::to_string(i);
  d.status = status;
  if (status != "ok") {
    d.problems = {"cannot read the text layer"};
    return d;
  }
  d.text = "Abstract\n\n";
  for (int w = 0; w < 300; ++w) d.text += (w ? " " : "") + std::string(w % 3 ? "protein" : "folding");
  d.sections.push_back({"Abstract", 1, 0, static_cast<int64_t>(d.text.size())});
  d.page_offsets = {0};
  d.pages = 1;
  return d;
}

class CliPapersCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("scitune_cli_papers_corpus_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::vector<PaperDocument> docs;
    for (int i = 0; i < 5; ++i) docs.push_back(paper(i));
    docs.push_back(paper(5, "no text layer"));
    write_corpus(dir_ / "corpus.jsonl", docs, false);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string corpus() const { return (dir_ / "corpus.jsonl").string(); }
  fs::path dir_;
};

TEST_F(CliPapersCorpus, ChunkWritesSplitsAndNotesSkippedPapers) {
  const std::string out = (dir_ / "chunks").string();
  auto r = run_cli("papers chunk " + corpus() + " --out " + out +
                   " --max-tokens 100 --overlap 10 --val-count 1 --holdout-count 1");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("note: skipped pdfs/paper5.pdf (paper5): status \"no text layer\": cannot read the text layer"),
            std::string::npos)
      << r.out;
  // 301 words per paper in windows of 100 moving by 90: 4 chunks each.
  EXPECT_NE(r.out.find("chunked 5 papers into 20 chunks of at most 100 words (overlap 10)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("train       3 papers, 12 chunks"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("validation  1 paper, 4 chunks"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("holdout     1 paper, 4 chunks"), std::string::npos) << r.out;
  EXPECT_EQ(testing::count_lines(dir_ / "chunks/train.jsonl"), 12u);
  EXPECT_EQ(testing::count_lines(dir_ / "chunks/chunks.jsonl"), 20u);
  EXPECT_NE(testing::read_text(dir_ / "chunks/chunks.jsonl").find("\"section\":\"Abstract\""), std::string::npos);

  r = run_cli("papers chunk " + corpus() + " --out " + out);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("already exists (use --force"), std::string::npos) << r.out;
  r = run_cli("-q papers chunk " + corpus() + " --out " + out + " --force --val-count 1 --holdout-count 1");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.find("chunked"), std::string::npos) << r.out;  // quiet: notes only
}

TEST_F(CliPapersCorpus, BadFlagsAreUserErrors) {
  const std::string out = " --out " + (dir_ / "x").string();
  auto r = run_cli("papers chunk " + corpus() + out + " --by tokens");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("--by tokens needs --tokenizer"), std::string::npos) << r.out;
  r = run_cli("papers chunk " + corpus() + out + " --max-tokens 50 --overlap 50");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("--overlap 50: expected 0 <= overlap < --max-tokens (50)"), std::string::npos) << r.out;
  r = run_cli("papers chunk " + corpus() + out + " --by lines");
  EXPECT_EQ(r.rc, 1) << r.out;
  r = run_cli("papers chunk " + corpus() + out + " --val-count 3 --holdout-count 2");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("leaving none for training"), std::string::npos) << r.out;
  r = run_cli("papers chunk " + corpus() + out + " --val-ratio 0.1 --val-count 1");
  EXPECT_EQ(r.rc, 1) << r.out;
  std::ofstream(dir_ / "broken.jsonl") << "{\"id\": 3}\n";
  r = run_cli("papers chunk " + (dir_ / "broken.jsonl").string() + out);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("broken.jsonl:1"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "x/train.jsonl"));
}

TEST_F(CliPapersCorpus, TokenChunksArePreparedByDataPrepareAsTheyAre) {
  if (!fs::exists(gemma3_dir() / "tokenizer.json"))
    GTEST_SKIP() << "real Gemma 3 tokenizer not found at " << gemma3_dir();
  const std::string out = (dir_ / "chunks").string();
  auto r = run_cli("papers chunk " + corpus() + " --out " + out + " --tokenizer " + gemma3_dir().string() +
                   " --max-tokens 64 --overlap 8");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("of at most 64 tokens (overlap 8)"), std::string::npos) << r.out;
  EXPECT_EQ(testing::read_text(dir_ / "chunks/chunks.jsonl").find("\"n_tokens\":null"), std::string::npos);
  // --strict: any rejected record fails; --overlong drop: a chunk longer than 64 tokens + <bos> + <eos> would be one.
  r = run_cli("data prepare --data " + out + "/train.jsonl --tokenizer " + gemma3_dir().string() + " --out " +
              (dir_ / "prepared").string() + " --max-seq-length 66 --overlong drop --strict");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "prepared/train.bin"));
}

TEST_F(CliPapersCorpus, ReportWritesOnePage) {
  const std::string out = (dir_ / "report").string();
  auto r = run_cli("papers report " + corpus() + " --out " + out + " --seed 3");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("wrote " + out + "/index.html"), std::string::npos) << r.out;
  const std::string html = testing::read_text(dir_ / "report/index.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("class=\"chart cloud\""), std::string::npos);
  EXPECT_NE(html.find("no text layer"), std::string::npos);
  r = run_cli("papers report " + corpus() + " --out " + out + " --seed 3");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("already exists"), std::string::npos) << r.out;
  r = run_cli("papers report " + corpus() + " --out " + out + " --seed 3 --force");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(testing::read_text(dir_ / "report/index.html"), html);  // the same seed, the same page
  r = run_cli("papers report " + corpus() + " --out " + (dir_ / "r2").string() + " --font /nonexistent.ttf");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("warning: /nonexistent.ttf: cannot be read as a font"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace scitune
