// scitune papers fetch against a loopback server started by each test (tests/papers/loopback_http_server.h):
// resume with Range after a cut transfer, 404, redirect loop, HTML instead of PDF, over-size bodies, a stalled
// server, the concurrency limit, de-duplication, re-runs; plus arXiv ids, file names and URL lists. No test
// reaches beyond 127.0.0.1.
#include "papers/fetch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "papers/arxiv.h"
#include "papers/loopback_http_server.h"
#include "papers/url_list.h"
#include "util/error.h"
#include "util/sha256.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::fake_pdf;
using testing::HttpConnection;
using testing::HttpRequest;
using testing::LoopbackHttpServer;
using testing::serve_bytes;

// ---- arXiv ids ----

TEST(ArxivId, NewStyleWithAndWithoutVersion) {
  auto id = parse_arxiv_id("2101.01234");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->id, "2101.01234");
  EXPECT_EQ(id->version, "");
  EXPECT_FALSE(id->old_style);
  EXPECT_EQ(arxiv_pdf_url(*id), "https://arxiv.org/pdf/2101.01234");
  EXPECT_EQ(arxiv_file_name(*id), "2101.01234.pdf");

  id = parse_arxiv_id("2101.01234v2");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->id, "2101.01234v2");
  EXPECT_EQ(id->version, "v2");
  EXPECT_EQ(arxiv_pdf_url(*id, "http://127.0.0.1:9/"), "http://127.0.0.1:9/pdf/2101.01234v2");
  EXPECT_EQ(arxiv_file_name(*id), "2101.01234v2.pdf");

  for (const char* ok : {"0704.0001", "1412.9999v12", "1501.00001", "arXiv:2312.12345", "ARXIV:2101.01234v1"})
    EXPECT_TRUE(parse_arxiv_id(ok)) << ok;
  EXPECT_EQ(parse_arxiv_id("arXiv:2312.12345")->id, "2312.12345");
}

TEST(ArxivId, OldStyle) {
  auto id = parse_arxiv_id("hep-th/9901001");
  ASSERT_TRUE(id);
  EXPECT_TRUE(id->old_style);
  EXPECT_EQ(id->id, "hep-th/9901001");
  EXPECT_EQ(arxiv_pdf_url(*id), "https://arxiv.org/pdf/hep-th/9901001");
  EXPECT_EQ(arxiv_file_name(*id), "hep-th_9901001.pdf");

  id = parse_arxiv_id("cs/0112017v1");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->id, "cs/0112017v1");
  EXPECT_EQ(id->version, "v1");
  EXPECT_EQ(arxiv_file_name(*id), "cs_0112017v1.pdf");

  id = parse_arxiv_id("math.GT/0309136");  // subject class dropped: not part of the canonical id
  ASSERT_TRUE(id);
  EXPECT_EQ(id->id, "math/0309136");
  EXPECT_TRUE(parse_arxiv_id("astro-ph/9108001"));
  EXPECT_TRUE(parse_arxiv_id("cond-mat/0703999"));
}

TEST(ArxivId, BadIdsSayWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"2101.1234", "5-digit"},   // from 1501 on numbers have 5 digits
      {"1301.01234", "4-digit"},  // before 1501, 4
      {"2113.01234", "month 13"},
      {"0612.1234", "0704"},  // new scheme began April 2007
      {"2101.00000", "0 does not exist"},
      {"2101.01234v0", "version"},
      {"2101.01234v", "version"},
      {"2101.01234x", "expected YYMM"},
      {"2101-01234", "expected YYMM"},
      {"210.01234", "expected YYMM"},
      {"foo/9901001", "not an arXiv archive"},
      {"hep-th/990100", "YYMMNNN"},
      {"hep-th/0801001", "9108 to 0703"},  // old scheme ended March 2007
      {"hep-th/9001001", "9108 to 0703"},
      {"hep-th/9913001", "month 13"},
      {"https://arxiv.org/abs/2101.01234", "not an arXiv archive"},
  };
  for (const auto& [text, reason] : cases) {
    std::string why;
    EXPECT_FALSE(parse_arxiv_id(text, &why)) << text;
    EXPECT_NE(why.find(reason), std::string::npos) << text << ": " << why;
  }
}

// ---- names and URL lists ----

TEST(FetchNames, FileNameFromUrl) {
  EXPECT_EQ(file_name_from_url("https://x.org/a/paper.pdf"), "paper.pdf");
  EXPECT_EQ(file_name_from_url("https://x.org/a/My%20Paper.PDF?dl=1#p2"), "My_Paper.PDF");
  EXPECT_EQ(file_name_from_url("https://arxiv.org/pdf/2101.01234v2"), "2101.01234v2.pdf");
  EXPECT_EQ(file_name_from_url("https://x.org/dl/..%2F..%2Fetc%2Fpasswd"), "etc_passwd.pdf");
  EXPECT_EQ(file_name_from_url("https://x.org/.hidden"), "hidden.pdf");
  EXPECT_EQ(file_name_from_url("https://example.org/"), "example.org.pdf");
  EXPECT_EQ(file_name_from_url("https://x.org/%E2%9C%93"), "x.org.pdf");  // nothing usable left: the host
  EXPECT_LE(file_name_from_url("https://x.org/" + std::string(500, 'a')).size(), 124u);
}

TEST(FetchNames, UrlProblem) {
  EXPECT_EQ(url_problem("https://x.org/a.pdf"), "");
  EXPECT_EQ(url_problem("http://127.0.0.1:8080/a.pdf"), "");
  EXPECT_NE(url_problem("ftp://x.org/a.pdf").find("scheme \"ftp\""), std::string::npos);
  EXPECT_NE(url_problem("https://x.org/a b.pdf").find("space"), std::string::npos);
  EXPECT_NE(url_problem("https://"), "");
  EXPECT_NE(url_problem("http://[::1/a.pdf"), "");
  EXPECT_NE(url_problem("x.org/a.pdf"), "");
  EXPECT_NE(url_problem(""), "");
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("scitune_fetch_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(FetchNames, UrlListNamesEveryBadLineAndKeepsTheGoodOnes) {
  const fs::path dir = fresh_dir("urllist");
  write_text(dir / "urls.txt",
             "# papers\n"
             "https://x.org/a.pdf\n"
             "\n"
             "   http://x.org/b.pdf   # trailing comment\n"
             "ftp://x.org/c.pdf\n"
             "not a url\n"
             "2101.01234v2\n"
             "arXiv:hep-th/9901001\n"
             "2113.01234\n"
             "www.x.org/d.pdf\n"
             "https://x.org/e.pdf#page=2\r\n");
  const UrlList l = read_url_list(dir / "urls.txt", "http://mirror.test");
  ASSERT_EQ(l.items.size(), 5u);
  EXPECT_EQ(l.items[0].url, "https://x.org/a.pdf");
  EXPECT_EQ(l.items[0].where, (dir / "urls.txt").string() + ":2");
  EXPECT_EQ(l.items[1].url, "http://x.org/b.pdf");
  EXPECT_EQ(l.items[2].url, "http://mirror.test/pdf/2101.01234v2");
  EXPECT_EQ(l.items[2].file_hint, "2101.01234v2.pdf");
  EXPECT_EQ(l.items[2].arxiv_id, "2101.01234v2");
  EXPECT_EQ(l.items[3].url, "http://mirror.test/pdf/hep-th/9901001");
  EXPECT_EQ(l.items[4].url, "https://x.org/e.pdf#page=2");
  ASSERT_EQ(l.errors.size(), 4u);
  const std::string f = (dir / "urls.txt").string();
  EXPECT_EQ(l.errors[0].rfind(f + ":5: \"ftp://x.org/c.pdf\": scheme \"ftp\"", 0), 0u) << l.errors[0];
  EXPECT_EQ(l.errors[1].rfind(f + ":6: \"not a url\": expected an http", 0), 0u) << l.errors[1];
  EXPECT_EQ(l.errors[2].rfind(f + ":9: \"2113.01234\": not an arXiv id: month 13", 0), 0u) << l.errors[2];
  EXPECT_NE(l.errors[3].find(":10: \"www.x.org/d.pdf\""), std::string::npos) << l.errors[3];
  EXPECT_NE(l.errors[3].find("missing https://"), std::string::npos) << l.errors[3];
  EXPECT_THROW(read_url_list(dir / "missing.txt"), UserError);
  fs::remove_all(dir);
}

// ---- downloads ----

FetchOptions test_options() {
  FetchOptions o;
  o.jobs = 3;
  o.retries = 0;
  o.backoff = std::chrono::milliseconds(10);
  o.max_backoff = std::chrono::milliseconds(50);
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.low_speed_limit = 1;
  o.low_speed_time = std::chrono::seconds(1);
  o.max_bytes = 1 << 20;
  o.progress = false;
  return o;
}

FetchItem item(const std::string& url) { return {url, "", "", "test"}; }

// Compares files by digest so a mismatch prints two lines, not two binary dumps.
::testing::AssertionResult has_bytes(const fs::path& p, const std::string& want) {
  if (!fs::exists(p)) return ::testing::AssertionFailure() << p << " does not exist";
  const std::string got = read_text(p);
  if (got == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << p << ": " << got.size() << " bytes, sha256 "
                                       << sha256_hex(got.data(), got.size()) << "; expected " << want.size()
                                       << " bytes, sha256 " << sha256_hex(want.data(), want.size());
}

std::vector<nlohmann::json> manifest_lines(const fs::path& dir) {
  std::vector<nlohmann::json> out;
  std::ifstream f(dir / "manifest.jsonl");
  for (std::string line; std::getline(f, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

class Fetch : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name()); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Fetch, DownloadsOneFileWithTheManifestLine) {
  const std::string pdf = fake_pdf(5000, 1);
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) { serve_bytes(r, c, pdf); });
  const FetchSummary s = fetch_papers({item(server.url("/papers/one.pdf"))}, dir_, test_options());
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_TRUE(s.ok()) << s.records[0].error;
  EXPECT_EQ(s.fetched, 1);
  EXPECT_TRUE(has_bytes(dir_ / "one.pdf", pdf));
  EXPECT_FALSE(fs::exists(dir_ / "one.pdf.part"));
  const auto lines = manifest_lines(dir_);
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json& m = lines[0];
  std::vector<std::string> keys;
  for (auto it = m.begin(); it != m.end(); ++it) keys.push_back(it.key());
  std::vector<std::string> expected = {"url",         "file",     "sha256",       "bytes",     "status",  "error",
                                       "http_status", "attempts", "duplicate_of", "final_url", "arxiv_id"};
  std::sort(expected.begin(), expected.end());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(m["url"], server.url("/papers/one.pdf"));
  EXPECT_EQ(m["file"], "one.pdf");
  EXPECT_EQ(m["sha256"], sha256_hex(pdf.data(), pdf.size()));
  EXPECT_EQ(m["bytes"], 5000);
  EXPECT_EQ(m["status"], "ok");
  EXPECT_TRUE(m["error"].is_null());
  EXPECT_EQ(m["http_status"], 200);
  EXPECT_EQ(m["attempts"], 1);
  EXPECT_EQ(m["final_url"], server.url("/papers/one.pdf"));
  // The manifest text is the library's own serialisation, keys in the documented order.
  EXPECT_EQ(read_text(dir_ / "manifest.jsonl").rfind("{\"url\":", 0), 0u);
}

// The first response is cut after half the body; the next run asks for the rest with Range and the result is
// byte-identical to the whole file.
TEST_F(Fetch, InterruptedTransferIsResumedWithRange) {
  const std::string pdf = fake_pdf(40000, 2);
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (calls++ == 0) {  // promise everything, send half, hang up
      c.send(HttpConnection::head(200, "application/pdf", "Content-Length: " + std::to_string(pdf.size()) + "\r\n"));
      c.send(std::string_view(pdf).substr(0, 15000));
      return;
    }
    serve_bytes(r, c, pdf);
  });
  const std::string url = server.url("/cut.pdf");
  FetchSummary s = fetch_papers({item(url)}, dir_, test_options());
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.records[0].status, "failed");
  EXPECT_FALSE(fs::exists(dir_ / "cut.pdf"));
  EXPECT_EQ(fs::file_size(dir_ / "cut.pdf.part"), 15000u);
  auto lines = manifest_lines(dir_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["status"], "failed");
  EXPECT_EQ(lines[0]["bytes"], 15000);  // kept for resuming
  EXPECT_EQ(lines[0]["file"], "cut.pdf");
  EXPECT_TRUE(lines[0]["sha256"].is_null());
  EXPECT_FALSE(lines[0]["error"].get<std::string>().empty());

  s = fetch_papers({item(url)}, dir_, test_options());
  EXPECT_TRUE(s.ok());
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("range"), "");
  EXPECT_EQ(reqs[1].header("range"), "bytes=15000-");
  EXPECT_TRUE(has_bytes(dir_ / "cut.pdf", pdf));
  EXPECT_FALSE(fs::exists(dir_ / "cut.pdf.part"));
  lines = manifest_lines(dir_);
  ASSERT_EQ(lines.size(), 1u);  // rewritten: one line per URL
  EXPECT_EQ(lines[0]["status"], "ok");
  EXPECT_EQ(lines[0]["sha256"], sha256_hex(pdf.data(), pdf.size()));
  EXPECT_EQ(lines[0]["bytes"], 40000);
  EXPECT_EQ(lines[0]["http_status"], 206);
}

// With retries the same run resumes: the second attempt sends Range and the file is whole.
TEST_F(Fetch, RetryResumesWithinTheRun) {
  const std::string pdf = fake_pdf(30000, 3);
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (calls++ == 0) {
      c.send(HttpConnection::head(200, "application/pdf", "Content-Length: " + std::to_string(pdf.size()) + "\r\n"));
      c.send(std::string_view(pdf).substr(0, 7000));
      return;
    }
    serve_bytes(r, c, pdf);
  });
  FetchOptions o = test_options();
  o.retries = 2;
  const FetchSummary s = fetch_papers({item(server.url("/r.pdf"))}, dir_, o);
  ASSERT_TRUE(s.ok()) << s.records[0].error;
  EXPECT_EQ(s.records[0].attempts, 2);
  EXPECT_EQ(s.records[0].sha256, sha256_hex(pdf.data(), pdf.size()));
  EXPECT_EQ(server.requests().at(1).header("range"), "bytes=7000-");
  EXPECT_TRUE(has_bytes(dir_ / "r.pdf", pdf));
}

// A server that ignores Range and sends the whole file again: the partial file is started over, not appended.
TEST_F(Fetch, ServerIgnoringRangeStartsOver) {
  const std::string pdf = fake_pdf(20000, 4);
  write_text(dir_ / "whole.pdf.part", pdf.substr(0, 9000));
  write_text(dir_ / "login.pdf.part", pdf.substr(0, 9000));
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (r.path == "/login.pdf")
      c.respond(200, "<html>session expired</html>", "text/html");
    else
      c.respond(200, pdf);
  });
  const FetchSummary s =
      fetch_papers({item(server.url("/whole.pdf")), item(server.url("/login.pdf"))}, dir_, test_options());
  ASSERT_EQ(s.records[0].status, "ok") << s.records[0].error;
  for (const HttpRequest& q : server.requests())
    EXPECT_EQ(q.header("range"), "bytes=9000-") << q.path;  // both asked to resume
  EXPECT_TRUE(has_bytes(dir_ / "whole.pdf", pdf));
  // The restarted body is checked like any other: an HTML page does not pass for the rest of the PDF.
  EXPECT_NE(s.records[1].error.find("not a PDF"), std::string::npos) << s.records[1].error;
  EXPECT_FALSE(fs::exists(dir_ / "login.pdf.part"));
}

// A leftover .part that is not the start of a PDF is not resumed from.
TEST_F(Fetch, GarbagePartFileIsNotResumed) {
  const std::string pdf = fake_pdf(3000, 5);
  write_text(dir_ / "g.pdf.part", "<html>half an error page");
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) { serve_bytes(r, c, pdf); });
  const FetchSummary s = fetch_papers({item(server.url("/g.pdf"))}, dir_, test_options());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(server.requests().at(0).header("range"), "");
  EXPECT_TRUE(has_bytes(dir_ / "g.pdf", pdf));
}

TEST_F(Fetch, NotFoundIsAFailureWithoutRetry) {
  LoopbackHttpServer server(
      [&](const HttpRequest&, HttpConnection& c) { c.respond(404, "no such paper", "text/plain"); });
  FetchOptions o = test_options();
  o.retries = 3;
  const FetchSummary s = fetch_papers({item(server.url("/missing.pdf"))}, dir_, o);
  EXPECT_FALSE(s.ok());
  ASSERT_EQ(s.records.size(), 1u);
  const FetchRecord& r = s.records[0];
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(r.attempts, 1);  // a 404 does not get better by asking again
  EXPECT_NE(r.error.find("404"), std::string::npos) << r.error;
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "missing.pdf"));
  EXPECT_FALSE(fs::exists(dir_ / "missing.pdf.part"));
  const auto lines = manifest_lines(dir_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["http_status"], 404);
  EXPECT_EQ(lines[0]["status"], "failed");
}

TEST_F(Fetch, ServerErrorIsRetriedWithBackoff) {
  const std::string pdf = fake_pdf(2000, 6);
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (calls++ < 2)
      c.respond(503, "busy", "text/plain", "Retry-After: 0\r\n");
    else
      serve_bytes(r, c, pdf);
  });
  FetchOptions o = test_options();
  o.retries = 3;
  const FetchSummary s = fetch_papers({item(server.url("/busy.pdf"))}, dir_, o);
  ASSERT_TRUE(s.ok()) << s.records[0].error;
  EXPECT_EQ(s.records[0].attempts, 3);
  EXPECT_EQ(server.requests().size(), 3u);

  // Retries run out: the failure says how many attempts were made.
  std::atomic<int> calls2{0};
  LoopbackHttpServer always_busy([&](const HttpRequest&, HttpConnection& c) {
    ++calls2;
    c.respond(503, "busy", "text/plain");
  });
  o.retries = 2;
  const FetchSummary s2 = fetch_papers({item(always_busy.url("/down.pdf"))}, dir_, o);
  EXPECT_EQ(s2.failed, 1);
  EXPECT_EQ(s2.records[0].attempts, 3);
  EXPECT_EQ(calls2.load(), 3);
  EXPECT_NE(s2.records[0].error.find("503"), std::string::npos);
  EXPECT_NE(s2.records[0].error.find("after 3 attempts"), std::string::npos) << s2.records[0].error;
}

TEST_F(Fetch, RedirectLoopIsBounded) {
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    c.respond(302, "", "text/plain", "Location: " + r.path + "\r\n");
  });
  FetchOptions o = test_options();
  o.max_redirects = 4;
  o.retries = 2;
  const FetchSummary s = fetch_papers({item(server.url("/loop.pdf"))}, dir_, o);
  ASSERT_EQ(s.failed, 1);
  EXPECT_NE(s.records[0].error.find("redirects"), std::string::npos) << s.records[0].error;
  EXPECT_EQ(s.records[0].attempts, 1);      // not transient
  EXPECT_EQ(server.requests().size(), 5u);  // the first request and 4 redirects
  EXPECT_FALSE(fs::exists(dir_ / "loop.pdf.part"));
}

TEST_F(Fetch, RedirectsWithinTheLimitAreFollowed) {
  const std::string pdf = fake_pdf(1000, 7);
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (r.path == "/a")
      c.respond(301, "", "text/html", "Location: /b\r\n");
    else if (r.path == "/b")
      c.respond(302, "", "text/html", "Location: /files/real.pdf\r\n");
    else
      serve_bytes(r, c, pdf);
  });
  FetchOptions o = test_options();
  o.max_redirects = 2;
  const FetchSummary s = fetch_papers({item(server.url("/a"))}, dir_, o);
  ASSERT_TRUE(s.ok()) << s.records[0].error;
  EXPECT_EQ(s.records[0].file, "a.pdf");  // named from the URL asked for, stable across reruns
  EXPECT_EQ(s.records[0].final_url, server.url("/files/real.pdf"));
  EXPECT_TRUE(has_bytes(dir_ / "a.pdf", pdf));
}

TEST_F(Fetch, HtmlInsteadOfPdfIsRejected) {
  LoopbackHttpServer server([&](const HttpRequest&, HttpConnection& c) {
    c.respond(200, "<!DOCTYPE html><html><body>Please log in</body></html>", "text/html; charset=utf-8");
  });
  FetchOptions o = test_options();
  o.retries = 2;
  const FetchSummary s = fetch_papers({item(server.url("/paywalled.pdf"))}, dir_, o);
  ASSERT_EQ(s.failed, 1);
  const FetchRecord& r = s.records[0];
  EXPECT_NE(r.error.find("not a PDF"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("<!DOCTYPE html>"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("text/html"), std::string::npos) << r.error;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(fs::exists(dir_ / "paywalled.pdf"));
  EXPECT_FALSE(fs::exists(dir_ / "paywalled.pdf.part"));
}

TEST_F(Fetch, TinyOrEmptyBodyIsNotAPdf) {
  LoopbackHttpServer server(
      [&](const HttpRequest& r, HttpConnection& c) { c.respond(200, r.path == "/e" ? "" : "%PD"); });
  const FetchSummary s = fetch_papers({item(server.url("/e")), item(server.url("/t"))}, dir_, test_options());
  ASSERT_EQ(s.failed, 2);
  EXPECT_NE(s.records[0].error.find("empty body"), std::string::npos) << s.records[0].error;
  EXPECT_NE(s.records[1].error.find("only 3 bytes"), std::string::npos) << s.records[1].error;
}

TEST_F(Fetch, OverSizeBodyIsRejected) {
  FetchOptions o = test_options();
  o.max_bytes = 64 * 1024;
  const std::string big = fake_pdf(200 * 1024, 8);
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (r.path == "/declared.pdf") {  // Content-Length says it up front
      c.respond(200, big);
    } else {  // no length: only counting the streamed bytes can catch it
      if (!c.send(HttpConnection::head(200, "application/pdf", ""))) return;
      for (size_t off = 0; off < big.size(); off += 4096)
        if (!c.send(std::string_view(big).substr(off, 4096))) return;
    }
  });
  const FetchSummary s = fetch_papers({item(server.url("/declared.pdf")), item(server.url("/streamed.pdf"))}, dir_, o);
  ASSERT_EQ(s.failed, 2);
  EXPECT_NE(s.records[0].error.find("over the limit of 65536"), std::string::npos) << s.records[0].error;
  EXPECT_NE(s.records[1].error.find("over the limit of 65536"), std::string::npos) << s.records[1].error;
  for (const char* f : {"declared.pdf", "declared.pdf.part", "streamed.pdf", "streamed.pdf.part"})
    EXPECT_FALSE(fs::exists(dir_ / f)) << f;
  EXPECT_EQ(s.records[0].attempts, 1);
}

// A server that stops sending, mid-body or before any header: the low-speed limit ends both; bytes received
// are kept for resume.
TEST_F(Fetch, StalledServerTimesOut) {
  const std::string pdf = fake_pdf(10000, 9);
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (r.path == "/stall.pdf") {
      c.send(HttpConnection::head(200, "application/pdf", "Content-Length: 10000\r\n"));
      c.send(std::string_view(pdf).substr(0, 100));
    }
    c.pause(std::chrono::seconds(20));  // until the test's server stops
  });
  FetchOptions o = test_options();
  o.low_speed_limit = 1000;  // curl averages speed over a few seconds: 100 bytes must not look like progress
  const FetchSummary s = fetch_papers({item(server.url("/stall.pdf")), item(server.url("/silent.pdf"))}, dir_, o);
  ASSERT_EQ(s.failed, 2);
  EXPECT_NE(s.records[0].error.find("timed out"), std::string::npos) << s.records[0].error;
  EXPECT_EQ(s.records[0].bytes, 100u);
  EXPECT_EQ(s.records[0].http_status, 200);
  EXPECT_EQ(fs::file_size(dir_ / "stall.pdf.part"), 100u);
  EXPECT_NE(s.records[1].error.find("timed out"), std::string::npos) << s.records[1].error;
  EXPECT_EQ(s.records[1].http_status, 0);
  EXPECT_EQ(s.records[1].bytes, 0u);
}

// Many files, jobs = 3: never more than 3 requests in flight at the server, and 3 are reached.
TEST_F(Fetch, ConcurrencyLimitIsRespected) {
  constexpr int kFiles = 12, kJobs = 3;
  std::atomic<int> in_flight{0}, max_in_flight{0};
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    const int now = ++in_flight;
    for (int m = max_in_flight.load(); now > m && !max_in_flight.compare_exchange_weak(m, now);) {
    }
    // Hold the first requests until the limit is reached, so "3 at once" is observed rather than hoped for.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (max_in_flight.load() < kJobs && std::chrono::steady_clock::now() < deadline && !c.stopping())
      c.pause(std::chrono::milliseconds(5));
    const std::string pdf = fake_pdf(3000, static_cast<unsigned>(std::stoi(r.path.substr(6))));
    c.send(HttpConnection::head(200, "application/pdf", "Content-Length: 3000\r\n"));
    c.send(std::string_view(pdf).substr(0, 2999));
    --in_flight;  // before the last byte, so the client cannot start its next request while this one counts
    c.send(std::string_view(pdf).substr(2999));
  });
  std::vector<FetchItem> items;
  for (int i = 0; i < kFiles; ++i) items.push_back(item(server.url("/many/" + std::to_string(100 + i) + ".pdf")));
  FetchOptions o = test_options();
  o.jobs = kJobs;
  const FetchSummary s = fetch_papers(items, dir_, o);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.fetched, kFiles);
  EXPECT_EQ(max_in_flight.load(), kJobs);
  EXPECT_EQ(server.requests().size(), static_cast<size_t>(kFiles));
  for (int i = 0; i < kFiles; ++i) {
    const std::string want = fake_pdf(3000, 100 + i);
    EXPECT_EQ(s.records[i].sha256, sha256_hex(want.data(), want.size())) << i;
    EXPECT_EQ(s.records[i].file, std::to_string(100 + i) + ".pdf");
  }
  EXPECT_EQ(manifest_lines(dir_).size(), static_cast<size_t>(kFiles));
}

// Same bytes under two URLs: the first in input order keeps the file, whichever download finished first.
TEST_F(Fetch, DuplicatesBySha256) {
  const std::string same = fake_pdf(4000, 10), other = fake_pdf(4000, 11);
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (r.path == "/first.pdf") c.pause(std::chrono::milliseconds(100));  // finishes last
    serve_bytes(r, c, r.path == "/other.pdf" ? other : same);
  });
  const std::vector<FetchItem> items = {item(server.url("/first.pdf")), item(server.url("/mirror/copy.pdf")),
                                        item(server.url("/other.pdf"))};
  const FetchSummary s = fetch_papers(items, dir_, test_options());
  EXPECT_TRUE(s.ok());  // a duplicate is not a failure
  EXPECT_EQ(s.fetched, 2);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(s.records[0].status, "ok");
  EXPECT_EQ(s.records[1].status, "duplicate");
  EXPECT_EQ(s.records[1].duplicate_of, server.url("/first.pdf"));
  EXPECT_EQ(s.records[1].file, "first.pdf");
  EXPECT_TRUE(fs::exists(dir_ / "first.pdf"));
  EXPECT_FALSE(fs::exists(dir_ / "copy.pdf"));
  const auto lines = manifest_lines(dir_);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1]["status"], "duplicate");
  EXPECT_EQ(lines[1]["duplicate_of"], server.url("/first.pdf"));
  EXPECT_EQ(lines[1]["sha256"], lines[0]["sha256"]);
  // A rerun counts the duplicate as complete and fetches nothing.
  const size_t before = server.requests().size();
  const FetchSummary again = fetch_papers(items, dir_, test_options());
  EXPECT_EQ(again.skipped, 3);
  EXPECT_EQ(server.requests().size(), before);
}

// Two URLs with one file name, and a user's own file of that name already in the folder.
TEST_F(Fetch, NameCollisionsGetSuffixesAndUserFilesAreKept) {
  write_text(dir_ / "mine.pdf", "my own notes");
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    serve_bytes(r, c, fake_pdf(1000, static_cast<unsigned>(r.path.size())));
  });
  const FetchSummary s = fetch_papers({item(server.url("/x/paper.pdf")), item(server.url("/yy/paper.pdf")),
                                       item(server.url("/mine.pdf")), item(server.url("/x/paper.pdf"))},
                                      dir_, test_options());
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.records.size(), 3u);  // the repeated URL counts once
  EXPECT_EQ(s.records[0].file, "paper.pdf");
  EXPECT_EQ(s.records[1].file, "paper-2.pdf");
  EXPECT_EQ(s.records[2].file, "mine-2.pdf");
  EXPECT_EQ(read_text(dir_ / "mine.pdf"), "my own notes");
  // A caller's file name is made a plain name inside the folder too.
  const FetchSummary hinted = fetch_papers({{server.url("/h.pdf"), "../../escape", "", "test"}}, dir_, test_options());
  ASSERT_TRUE(hinted.ok());
  EXPECT_EQ(hinted.records[0].file, "escape.pdf");
  EXPECT_TRUE(fs::exists(dir_ / "escape.pdf"));
  // Names stick to URLs: a new run in another order still finds the same files complete.
  const FetchSummary again =
      fetch_papers({item(server.url("/yy/paper.pdf")), item(server.url("/x/paper.pdf"))}, dir_, test_options());
  EXPECT_EQ(again.skipped, 2);
  EXPECT_EQ(again.records[0].file, "paper-2.pdf");
}

TEST_F(Fetch, RerunSkipsWhatIsCompleteAndForceFetchesAgain) {
  const std::string a = fake_pdf(2000, 12), b = fake_pdf(2500, 13);
  std::atomic<bool> b_missing{true};
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) {
    if (r.path == "/b.pdf" && b_missing.load())
      c.respond(404, "", "text/plain");
    else
      serve_bytes(r, c, r.path == "/a.pdf" ? a : b);
  });
  const std::vector<FetchItem> items = {item(server.url("/a.pdf")), item(server.url("/b.pdf"))};
  FetchSummary s = fetch_papers(items, dir_, test_options());
  EXPECT_EQ(s.fetched, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(server.requests().size(), 2u);

  b_missing = false;  // the failed one is tried again, the complete one is not
  s = fetch_papers(items, dir_, test_options());
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.skipped, 1);
  EXPECT_EQ(s.fetched, 1);
  EXPECT_TRUE(s.records[0].skipped);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.requests().back().path, "/b.pdf");
  const std::string manifest = read_text(dir_ / "manifest.jsonl");

  s = fetch_papers(items, dir_, test_options());
  EXPECT_EQ(s.skipped, 2);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_TRUE(has_bytes(dir_ / "manifest.jsonl", manifest));  // a no-op rerun changes nothing

  fs::remove(dir_ / "a.pdf");  // gone from disk: not complete any more
  s = fetch_papers(items, dir_, test_options());
  EXPECT_EQ(s.fetched, 1);
  EXPECT_EQ(server.requests().size(), 4u);

  FetchOptions o = test_options();
  o.force = true;
  s = fetch_papers(items, dir_, o);
  EXPECT_EQ(s.fetched, 2);
  EXPECT_EQ(server.requests().size(), 6u);
  EXPECT_TRUE(has_bytes(dir_ / "a.pdf", a));
  EXPECT_FALSE(fs::exists(dir_ / "a-2.pdf"));  // its own file, replaced, not a second copy
}

TEST_F(Fetch, BadManifestLinesAreReportedAndIgnored) {
  const std::string pdf = fake_pdf(1000, 14);
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) { serve_bytes(r, c, pdf); });
  ASSERT_TRUE(fetch_papers({item(server.url("/k.pdf"))}, dir_, test_options()).ok());
  std::string m = read_text(dir_ / "manifest.jsonl");
  // A line naming a file outside the folder must never be trusted (a later run may delete duplicates).
  m += "{\"url\":\"http://x/y\",\"file\":\"../escape.pdf\",\"sha256\":null,\"bytes\":0,\"status\":\"failed\","
       "\"error\":\"e\",\"http_status\":null,\"attempts\":1,\"duplicate_of\":null,\"final_url\":null,"
       "\"arxiv_id\":null}\n";
  m += "{\"url\": \"cut sh";  // a crash mid-line
  write_text(dir_ / "manifest.jsonl", m);
  const FetchSummary s = fetch_papers({item(server.url("/k.pdf"))}, dir_, test_options());
  EXPECT_EQ(s.skipped, 1);
  ASSERT_EQ(s.problems.size(), 2u);
  EXPECT_NE(s.problems[0].find("manifest.jsonl:2: \"file\" \"../escape.pdf\""), std::string::npos) << s.problems[0];
  EXPECT_NE(s.problems[1].find("manifest.jsonl:3"), std::string::npos) << s.problems[1];
  EXPECT_EQ(manifest_lines(dir_).size(), 1u);  // rewritten without them
}

TEST_F(Fetch, OptionsOutOfRangeAreUserErrors) {
  FetchOptions o = test_options();
  o.jobs = 0;
  EXPECT_THROW(fetch_papers({item("http://127.0.0.1:1/x.pdf")}, dir_, o), UserError);
  o = test_options();
  o.max_bytes = 0;
  EXPECT_THROW(fetch_papers({item("http://127.0.0.1:1/x.pdf")}, dir_, o), UserError);
}

// Nothing listening: a connection failure is a failed line with curl's reason, and the others still run.
TEST_F(Fetch, ConnectionRefusedIsAFailedLine) {
  const std::string pdf = fake_pdf(1000, 15);
  int dead_port;
  {
    LoopbackHttpServer gone([](const HttpRequest&, HttpConnection&) {});
    dead_port = gone.port();
  }
  LoopbackHttpServer server([&](const HttpRequest& r, HttpConnection& c) { serve_bytes(r, c, pdf); });
  const FetchSummary s =
      fetch_papers({item("http://127.0.0.1:" + std::to_string(dead_port) + "/x.pdf"), item(server.url("/fine.pdf"))},
                   dir_, test_options());
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.fetched, 1);
  EXPECT_EQ(s.records[0].http_status, 0);
  EXPECT_FALSE(s.records[0].error.empty());
  const auto lines = manifest_lines(dir_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0]["http_status"].is_null());
}

}  // namespace
}  // namespace scitune
