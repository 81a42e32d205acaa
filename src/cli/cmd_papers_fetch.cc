// `scitune papers fetch --urls FILE | --arxiv ID... --out DIR`: downloads research PDFs (papers/fetch.h) into
// DIR with DIR/manifest.jsonl saying what became of each URL. Bad input lines and failed downloads are named one
// per line and the rest still runs; the exit code is 1 if anything failed, so scripts can tell.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "papers/fetch.h"
#include "papers/url_list.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct PapersFetchArgs {
  std::string urls, out, arxiv_mirror = "https://arxiv.org";
  std::vector<std::string> arxiv;
  int jobs = 3, retries = 3, max_redirects = 5;
  double max_mb = 200, timeout = 30;
  bool force = false;
};

std::string plural(int n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); }

void run_papers_fetch(const PapersFetchArgs& a) {
  if (a.urls.empty() && a.arxiv.empty()) fail("papers fetch: nothing to fetch: pass --urls FILE and/or --arxiv ID");
  if (a.jobs < 1 || a.jobs > 16) fail("--jobs " + std::to_string(a.jobs) + ": expected 1 to 16");
  if (a.retries < 0 || a.retries > 20) fail("--retries " + std::to_string(a.retries) + ": expected 0 to 20");
  if (a.max_redirects < 0 || a.max_redirects > 50)
    fail("--max-redirects " + std::to_string(a.max_redirects) + ": expected 0 to 50");
  if (!(a.max_mb > 0) || a.max_mb > 1 << 20) fail("--max-mb " + std::to_string(a.max_mb) + ": expected more than 0");
  if (!(a.timeout >= 1) || a.timeout > 3600)
    fail("--timeout " + std::to_string(a.timeout) + ": expected 1 to 3600 seconds");
  if (const std::string why = url_problem(a.arxiv_mirror); !why.empty())
    fail("--arxiv-mirror \"" + a.arxiv_mirror + "\": " + why);

  std::vector<FetchItem> items;
  std::vector<std::string> bad_input;
  if (!a.urls.empty()) {
    UrlList list = read_url_list(a.urls, a.arxiv_mirror);
    items = std::move(list.items);
    bad_input = std::move(list.errors);
  }
  for (const std::string& text : a.arxiv) {
    std::string why;
    if (const auto id = parse_arxiv_id(text, &why))
      items.push_back(arxiv_item(*id, a.arxiv_mirror, "--arxiv " + text));
    else
      bad_input.push_back("--arxiv \"" + text + "\": not an arXiv id: " + why);
  }
  for (const std::string& e : bad_input) std::fprintf(stderr, "error: %s\n", e.c_str());

  FetchOptions o;
  o.jobs = a.jobs;
  o.retries = a.retries;
  o.max_redirects = a.max_redirects;
  o.max_bytes = static_cast<uint64_t>(a.max_mb * (1 << 20));
  o.connect_timeout = std::chrono::milliseconds(static_cast<int64_t>(a.timeout * 1000));
  o.low_speed_time = std::chrono::seconds(static_cast<int64_t>(a.timeout + 0.5));
  o.force = a.force;
  o.progress = verbosity() > 0;
  FetchSummary s;
  if (!items.empty()) s = fetch_papers(items, a.out, o);
  for (const std::string& p : s.problems) std::fprintf(stderr, "warning: %s\n", p.c_str());
  for (const FetchRecord& r : s.records)
    if (r.status == "failed")
      std::fprintf(stderr, "failed: %s: %s\n", r.url.c_str(), r.error.c_str());
    else if (verbosity() > 1)
      std::fprintf(stderr, "%s: %s -> %s\n", r.skipped ? "complete" : r.status.c_str(), r.url.c_str(), r.file.c_str());

  const std::string manifest = (std::filesystem::path(a.out) / "manifest.jsonl").string();
  std::string line = "papers fetch: " + std::to_string(s.fetched) + " fetched, " + std::to_string(s.skipped) +
                     " already complete, " + plural(s.duplicates, "duplicate", "duplicates") + ", " +
                     std::to_string(s.failed) + " failed";
  if (!bad_input.empty()) line += ", " + plural(static_cast<int>(bad_input.size()), "bad input", "bad inputs");
  if (!s.records.empty()) line += " -> " + manifest;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  if (s.failed > 0 || !bad_input.empty())
    fail("papers fetch: " + std::to_string(s.failed) + " of " + std::to_string(s.records.size()) +
         " downloads failed and " + plural(static_cast<int>(bad_input.size()), "input was", "inputs were") +
         " unusable (reasons above" + (s.records.empty() ? "" : " and in " + manifest) + ")");
}

}  // namespace

void register_papers_fetch(CLI::App* papers) {
  auto a = std::make_shared<PapersFetchArgs>();
  CLI::App* cmd =
      papers->add_subcommand("fetch", "Download PDFs (URL list or arXiv ids) into a folder with a manifest");
  cmd->footer(
      "Each file streams to DIR/NAME.part and is renamed into place once complete and checked to be a PDF; an\n"
      "interrupted download resumes where it stopped. DIR/manifest.jsonl has one line per URL: url, file, sha256,\n"
      "bytes, status (ok, duplicate, failed), error, http_status, attempts, duplicate_of, final_url, arxiv_id.\n"
      "Rerunning skips what is complete and retries the rest. Exit code 1 if any input or download failed.");
  cmd->add_option("--urls", a->urls, "Text file: one http(s) URL or arXiv id per line; # comments, blank lines")
      ->check(CLI::ExistingFile);
  cmd->add_option("--arxiv", a->arxiv, "arXiv ids: 2101.01234, 2101.01234v2, hep-th/9901001, cs/0112017v1")
      ->expected(1, -1);
  cmd->add_option("--out", a->out, "Folder for the PDFs and manifest.jsonl (created if missing)")->required();
  cmd->add_option("--jobs", a->jobs, "Downloads at the same time (1-16)")->capture_default_str();
  cmd->add_option("--max-mb", a->max_mb, "Largest file to accept, in MiB")->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "Seconds to connect, and the longest a transfer may stall (< 1 KiB/s)")
      ->capture_default_str();
  cmd->add_option("--retries", a->retries, "Further attempts after a transient failure (timeout, reset, 5xx, 429)")
      ->capture_default_str();
  cmd->add_option("--max-redirects", a->max_redirects, "More redirects than this is an error")->capture_default_str();
  cmd->add_option("--arxiv-mirror", a->arxiv_mirror,
                  "Where arXiv PDFs come from (BASE/pdf/ID), e.g. https://export.arxiv.org")
      ->capture_default_str();
  cmd->add_flag("--force", a->force, "Download again what the manifest says is complete");
  cmd->callback([a] { run_papers_fetch(*a); });
}

}  // namespace scitune::cli
