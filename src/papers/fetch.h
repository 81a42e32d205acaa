// `scitune papers fetch`: downloads PDFs into a folder, streaming each body to FILE.part (never the whole file in
// memory), resuming a .part with an HTTP Range request, checking that the body is a PDF and not an HTML error
// page, and renaming the finished file into place after fsync. Every URL ends as one line of DIR/manifest.jsonl
// (fetch_manifest.h), failures included, so a rerun skips what is complete and retries the rest.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "papers/fetch_manifest.h"

namespace scitune {

// Every limit in one place; the CLI sets them from flags, tests set them small.
struct FetchOptions {
  int jobs = 3;                                       // downloads at the same time
  int max_redirects = 5;                              // more is an error (a redirect loop ends here)
  std::chrono::milliseconds connect_timeout{15'000};  // TCP + TLS handshake
  int64_t low_speed_limit = 1024;                     // bytes/s; slower than this ...
  std::chrono::seconds low_speed_time{30};            // ... for this long is a stalled transfer
  int retries = 3;                                    // further attempts after a transient failure
  std::chrono::milliseconds backoff{1'000};           // wait before the first retry, doubled for each next
  std::chrono::milliseconds max_backoff{30'000};      // cap on that wait and on a server's Retry-After
  uint64_t max_bytes = uint64_t{200} << 20;           // a larger body fails (Content-Length or as it streams)
  bool force = false;                                 // fetch again what the manifest says is complete
  bool progress = true;                               // progress bar on a terminal (ProgressBar rules)
  std::string user_agent = "scitune-papers-fetch/0.1";
};

// One thing to download.
struct FetchItem {
  std::string url;
  std::string file_hint;  // file name to use, e.g. "2101.01234v2.pdf"; empty: derived from the URL
  std::string arxiv_id;   // canonical id when the item came from one
  std::string where;      // where the user wrote it, for messages: "urls.txt:3", "--arxiv 2101.01234"
};

struct FetchSummary {
  std::vector<FetchRecord> records;   // one per distinct URL, in input order
  std::vector<std::string> problems;  // manifest lines that were unreadable and ignored
  int fetched = 0, skipped = 0, duplicates = 0, failed = 0;
  bool ok() const { return failed == 0; }
};

// Fetches every item into out_dir (created if missing) and rewrites out_dir/manifest.jsonl. Failures are
// records, not exceptions; UserError only for what stops the whole run (the folder cannot be made or locked,
// an option out of range).
FetchSummary fetch_papers(const std::vector<FetchItem>& items, const std::filesystem::path& out_dir,
                          const FetchOptions& options);

// File name for a URL: its last path segment, percent-decoded, reduced to [A-Za-z0-9._-], ending in ".pdf"
// ("https://x.org/a/My%20Paper.pdf?dl=1" -> "My_Paper.pdf"); the host when the path is empty.
std::string file_name_from_url(const std::string& url);

}  // namespace scitune
