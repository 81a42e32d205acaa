// One URL to one file with libcurl's easy interface (the caller's worker thread owns the handle): bounded
// redirects, connect and low-speed timeouts, retries with exponential backoff for transient failures only,
// resume of FILE.part with a Range request, a size cap and the %PDF- check as the first bytes arrive.
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "papers/fetch.h"

typedef void CURL;

namespace scitune {

struct DownloadResult {
  bool ok = false;
  std::string error;  // why not, one line
  int http_status = 0;
  int attempts = 0;
  std::string final_url;
  uint64_t bytes = 0;  // ok: size of the file; else bytes left in FILE.part to resume from
  std::string sha256;  // ok only
};

// Downloads into target.part and, when complete and a PDF, fsyncs it and renames it to target (replacing it).
// `received` counts body bytes for a progress display; a set `cancel` aborts the transfer. Never throws for a
// network or server problem: that is a result with an error.
DownloadResult download_pdf(CURL* curl, const std::string& url, const std::filesystem::path& target,
                            const FetchOptions& options, std::atomic<uint64_t>* received,
                            const std::atomic<bool>* cancel);

}  // namespace scitune
