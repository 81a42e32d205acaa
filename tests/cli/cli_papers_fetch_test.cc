// `scitune papers fetch` as a user runs it, against a loopback server started by the test: flags and --help,
// exit code 0 when everything is fetched and 1 when anything failed, a malformed URL list named line by line
// while its good lines are still fetched, arXiv ids through --arxiv-mirror, and a rerun that fetches nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_run.h"
#include "test_util.h"
#include "papers/loopback_http_server.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::fake_pdf;
using testing::HttpConnection;
using testing::HttpRequest;
using testing::LoopbackHttpServer;
using testing::run_cli;
using testing::serve_bytes;

class CliPapersFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("scitune_cli_fetch_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::string out() const { return (dir_ / "pdfs").string(); }
  fs::path dir_;
};

// Serves /missing* as 404, /page* as an HTML page, anything else as a PDF made from its path.
void papers_site(const HttpRequest& r, HttpConnection& c) {
  if (r.path.rfind("/missing", 0) == 0)
    c.respond(404, "not here", "text/plain");
  else if (r.path.rfind("/page", 0) == 0)
    c.respond(200, "<html>sign in</html>", "text/html");
  else
    serve_bytes(r, c, fake_pdf(3000, static_cast<unsigned>(std::hash<std::string>{}(r.path))));
}

TEST_F(CliPapersFetch, HelpListsTheFlags) {
  const auto r = run_cli("papers fetch --help");
  EXPECT_EQ(r.rc, 0) << r.out;
  for (const char* flag : {"--urls", "--arxiv", "--out", "--jobs", "--max-mb", "--timeout", "--retries",
                           "--max-redirects", "--arxiv-mirror", "--force", "manifest.jsonl"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
  const auto papers = run_cli("papers --help");
  EXPECT_NE(papers.out.find("fetch"), std::string::npos) << papers.out;
}

TEST_F(CliPapersFetch, BadFlagsAreExitCodeOne) {
  auto r = run_cli("papers fetch --out " + out());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("nothing to fetch"), std::string::npos) << r.out;
  r = run_cli("papers fetch --arxiv 2101.01234");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("--out"), std::string::npos) << r.out;
  r = run_cli("papers fetch --arxiv 2101.01234 --out " + out() + " --jobs 0");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("--jobs 0: expected 1 to 16"), std::string::npos) << r.out;
  r = run_cli("papers fetch --arxiv 2101.01234 --out " + out() + " --max-mb 0");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("--max-mb"), std::string::npos) << r.out;
  r = run_cli("papers fetch --urls " + (dir_ / "nope.txt").string() + " --out " + out());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("nope.txt"), std::string::npos) << r.out;
  r = run_cli("papers fetch --arxiv 2101.01234 --out " + out() + " --arxiv-mirror ftp://mirror");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("--arxiv-mirror"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "pdfs" / "manifest.jsonl"));
}

TEST_F(CliPapersFetch, AllGoodIsExitZeroAndARerunFetchesNothing) {
  LoopbackHttpServer server(papers_site);
  write("urls.txt", "# two papers\n" + server.url("/a/one.pdf") + "\n\n" + server.url("/b/two.pdf") + "\n");
  const std::string cmd = "papers fetch --urls " + (dir_ / "urls.txt").string() + " --out " + out();
  auto r = run_cli(cmd);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("papers fetch: 2 fetched, 0 already complete, 0 duplicates, 0 failed"), std::string::npos)
      << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "pdfs" / "one.pdf"));
  EXPECT_TRUE(fs::exists(dir_ / "pdfs" / "two.pdf"));
  EXPECT_EQ(testing::count_lines(dir_ / "pdfs" / "manifest.jsonl"), 2u);
  const std::string manifest = testing::read_text(dir_ / "pdfs" / "manifest.jsonl");

  r = run_cli(cmd);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("0 fetched, 2 already complete"), std::string::npos) << r.out;
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(testing::read_text(dir_ / "pdfs" / "manifest.jsonl"), manifest);

  r = run_cli(cmd + " --force -q");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(server.requests().size(), 4u);
}

// Bad lines are named file:line, the good lines are still fetched, a failed download is a manifest line, and
// the exit code says something went wrong.
TEST_F(CliPapersFetch, MalformedUrlListNamesEachLineAndFetchesTheRest) {
  LoopbackHttpServer server(papers_site);
  write("urls.txt",
        "# mixed\n" +                               // 1
            server.url("/good/first.pdf") + "\n" +  // 2
            "not a url\n"                           // 3
            "ftp://example.org/x.pdf\n"             // 4
            "\n" +                                  // 5
            server.url("/good/second.pdf") +
            "  # fine\n" +                       // 6
            server.url("/missing.pdf") + "\n" +  // 7
            "2113.01234\n" +                     // 8
            server.url("/page.pdf") + "\n");     // 9
  const std::string list = (dir_ / "urls.txt").string();
  const auto r = run_cli("papers fetch --urls " + list + " --out " + out() + " --retries 0");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("error: " + list + ":3: \"not a url\": expected an http:// or https:// URL or an arXiv id"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("error: " + list + ":4: \"ftp://example.org/x.pdf\": scheme \"ftp\" is not supported"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("error: " + list + ":8: \"2113.01234\": not an arXiv id: month 13"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(list + ":5"), std::string::npos) << r.out;  // blank lines and comments are fine
  EXPECT_NE(r.out.find("failed: " + server.url("/missing.pdf") + ": HTTP/1.1 404 Not Found"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("failed: " + server.url("/page.pdf") + ": not a PDF"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("papers fetch: 2 fetched, 0 already complete, 0 duplicates, 2 failed, 3 bad inputs"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("error: papers fetch: 2 of 4 downloads failed and 3 inputs were unusable"), std::string::npos)
      << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "pdfs" / "first.pdf"));
  EXPECT_TRUE(fs::exists(dir_ / "pdfs" / "second.pdf"));
  EXPECT_FALSE(fs::exists(dir_ / "pdfs" / "missing.pdf"));
  EXPECT_EQ(testing::count_lines(dir_ / "pdfs" / "manifest.jsonl"), 4u);
  const std::string manifest = testing::read_text(dir_ / "pdfs" / "manifest.jsonl");
  EXPECT_NE(manifest.find("\"status\":\"failed\",\"error\":\"HTTP/1.1 404 Not Found\",\"http_status\":404"),
            std::string::npos)
      << manifest;
}

TEST_F(CliPapersFetch, ArxivIdsThroughAMirror) {
  LoopbackHttpServer server(papers_site);
  const auto r = run_cli("papers fetch --arxiv 2101.01234v2 hep-th/9901001 2101.1234 --out " + out() +
                         " --arxiv-mirror " + server.url(""));
  EXPECT_EQ(r.rc, 1) << r.out;  // one id was bad
  EXPECT_NE(r.out.find("error: --arxiv \"2101.1234\": not an arXiv id: ids from 1501 on have a 5-digit number"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2 fetched"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "pdfs" / "2101.01234v2.pdf"));
  EXPECT_TRUE(fs::exists(dir_ / "pdfs" / "hep-th_9901001.pdf"));
  std::vector<std::string> paths;
  for (const auto& q : server.requests()) paths.push_back(q.path);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"/pdf/2101.01234v2", "/pdf/hep-th/9901001"}));
  const std::string manifest = testing::read_text(dir_ / "pdfs" / "manifest.jsonl");
  EXPECT_NE(manifest.find("\"arxiv_id\":\"hep-th/9901001\""), std::string::npos) << manifest;
}

TEST_F(CliPapersFetch, OverSizeAndTimeoutFlagsApply) {
  const std::string big = fake_pdf(1536 * 1024, 1);
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (r.path == "/big.pdf") {
      serve_bytes(r, c, big);
    } else {  // headers, then silence
      c.send(HttpConnection::head(200, "application/pdf", "Content-Length: 5000\r\n"));
      c.pause(std::chrono::seconds(20));
    }
  });
  write("urls.txt", server.url("/big.pdf") + "\n" + server.url("/slow.pdf") + "\n");
  const auto r = run_cli("papers fetch --urls " + (dir_ / "urls.txt").string() + " --out " + out() +
                         " --max-mb 1 --timeout 1 --retries 0");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("failed: " + server.url("/big.pdf") + ": file is 1572864 bytes, over the limit of 1048576"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("failed: " + server.url("/slow.pdf") + ": timed out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 fetched, 0 already complete, 0 duplicates, 2 failed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace scitune
