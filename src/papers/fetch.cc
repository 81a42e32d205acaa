#include "papers/fetch.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "papers/http_download.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// [A-Za-z0-9._-] only, runs of anything else as one '_', no leading dot (hidden files), at most 120 bytes.
std::string sanitise(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    const bool keep = std::isalnum(c) || c == '.' || c == '_' || c == '-';
    if (keep)
      out += static_cast<char>(c);
    else if (out.empty() || out.back() != '_')
      out += '_';
  }
  while (!out.empty() && (out.front() == '.' || out.front() == '_')) out.erase(out.begin());
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.size() > 120) out.resize(120);
  return out;
}

bool ends_with_pdf(const std::string& s) {
  if (s.size() < 4) return false;
  std::string ext = s.substr(s.size() - 4);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".pdf";
}

// A caller's file name made safe: a plain name ending in ".pdf".
std::string pdf_name(const std::string& hint) {
  std::string name = sanitise(hint);
  if (name.empty()) name = "download";
  if (!ends_with_pdf(name)) name += ".pdf";
  return name;
}

// "paper.pdf", "paper-2.pdf", ...: the first name no other URL of the manifest or this run owns and no file
// of someone else's occupies.
std::string unique_name(const std::string& base, const std::set<std::string>& taken, const std::filesystem::path& dir) {
  const std::string stem = base.substr(0, base.size() - 4), ext = base.substr(base.size() - 4);
  std::error_code ec;
  for (int n = 1;; ++n) {
    const std::string name = n == 1 ? base : stem + "-" + std::to_string(n) + ext;
    if (!taken.count(name) && !std::filesystem::exists(dir / name, ec)) return name;
  }
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b < (1 << 20))
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  return buf;
}

uint64_t regular_file_size(const std::filesystem::path& p, bool& exists) {
  struct stat st;
  exists = ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  return exists ? static_cast<uint64_t>(st.st_size) : 0;
}

// Complete from an earlier run: the file it names is there with the recorded size.
bool is_complete(const FetchRecord& r, const std::filesystem::path& dir) {
  if (r.status != "ok" && r.status != "duplicate") return false;
  bool exists = false;
  const uint64_t size = regular_file_size(dir / r.file, exists);
  return exists && size == r.bytes;
}

// One process per folder at a time: two runs would fight over the same .part files.
class FolderLock {
 public:
  explicit FolderLock(const std::filesystem::path& dir) {
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) fail(dir.string() + ": cannot open folder: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fail(dir.string() + ": another scitune papers fetch is writing to this folder");
    }
  }
  ~FolderLock() { ::close(fd_); }  // closing releases the lock
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

void check_options(const FetchOptions& o) {
  if (o.jobs < 1 || o.jobs > 64) fail("jobs " + std::to_string(o.jobs) + ": expected 1 to 64");
  if (o.max_redirects < 0) fail("max redirects " + std::to_string(o.max_redirects) + ": expected 0 or more");
  if (o.retries < 0) fail("retries " + std::to_string(o.retries) + ": expected 0 or more");
  if (o.max_bytes == 0) fail("max bytes: expected more than 0");
  if (o.connect_timeout.count() <= 0 || o.low_speed_time.count() < 0 || o.low_speed_limit < 0)
    fail("timeouts: expected a positive connect timeout and a non-negative low-speed limit and time");
  if (o.backoff.count() < 0 || o.max_backoff.count() < 0) fail("backoff: expected non-negative waits");
}

struct Job {
  size_t record;  // index into the run's records
  std::string url;
  std::filesystem::path target;
};

// Runs the jobs on options.jobs worker threads, each with its own curl handle; `on_done` runs on the calling
// thread (manifest lines, progress bar), never on a worker.
template <typename OnDone>
void run_jobs(const std::vector<Job>& jobs, const FetchOptions& o, std::vector<DownloadResult>& results,
              OnDone on_done) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> received{0};
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::condition_variable cv;
  std::deque<size_t> finished;
  auto worker = [&] {
    CURL* curl = curl_easy_init();
    for (size_t j; !cancel.load() && (j = next.fetch_add(1)) < jobs.size();) {
      try {
        if (!curl) throw std::runtime_error("cannot initialise libcurl");
        results[j] = download_pdf(curl, jobs[j].url, jobs[j].target, o, &received, &cancel);
      } catch (const std::exception& e) {
        results[j] = DownloadResult{};
        results[j].error = e.what();
      }
      {
        std::lock_guard lock(mu);
        finished.push_back(j);
      }
      cv.notify_one();
    }
    if (curl) curl_easy_cleanup(curl);
  };
  const size_t n_workers = std::min<size_t>(static_cast<size_t>(o.jobs), jobs.size());
  std::vector<std::thread> workers;
  struct JoinOnExit {  // a throw (on_done, thread creation) must not leave threads running over this frame
    std::vector<std::thread>& w;
    std::atomic<bool>& cancel;
    ~JoinOnExit() {
      cancel.store(true);
      for (auto& t : w) t.join();
    }
  } joiner{workers, cancel};
  for (size_t i = 0; i < n_workers; ++i) workers.emplace_back(worker);

  std::optional<ProgressBar> bar;  // constructed only when wanted: a bar draws on destruction
  if (o.progress) bar.emplace("fetch", jobs.size(), " files");
  size_t done = 0;
  while (done < jobs.size()) {
    std::deque<size_t> batch;
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return !finished.empty(); });
      batch.swap(finished);
    }
    for (size_t j : batch) on_done(j);
    done += batch.size();
    if (bar) bar->update(done, human_bytes(received.load()));
  }
  if (bar) bar->finish(human_bytes(received.load()));
}

}  // namespace

std::string file_name_from_url(const std::string& url) {
  std::string path, host;
  if (CURLU* u = curl_url()) {
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
      char* p = nullptr;
      if (curl_url_get(u, CURLUPART_PATH, &p, 0) == CURLUE_OK && p) path = p;
      curl_free(p);
      char* h = nullptr;
      if (curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h) host = h;
      curl_free(h);
    } else {
      path = url;
    }
    curl_url_cleanup(u);
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  std::string name = sanitise(percent_decode(slash == std::string::npos ? path : path.substr(slash + 1)));
  if (name.empty()) name = sanitise(host);
  if (name.empty()) name = "download";
  if (!ends_with_pdf(name)) name += ".pdf";
  return name;
}

FetchSummary fetch_papers(const std::vector<FetchItem>& items, const std::filesystem::path& out_dir,
                          const FetchOptions& o) {
  check_options(o);
  static std::once_flag curl_once;
  std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (!std::filesystem::is_directory(out_dir, ec))
    fail(out_dir.string() + ": cannot create the output folder" + (ec ? ": " + ec.message() : std::string()));
  FolderLock lock(out_dir);
  const std::filesystem::path manifest_path = out_dir / "manifest.jsonl";
  FetchManifest manifest = read_fetch_manifest(manifest_path);
  FetchSummary summary;
  summary.problems = manifest.problems;

  std::vector<FetchRecord>& book = manifest.records;  // what the manifest will say at the end
  std::unordered_map<std::string, size_t> book_index;
  std::set<std::string> taken;  // file names owned by some URL
  for (size_t i = 0; i < book.size(); ++i) {
    book_index.emplace(book[i].url, i);
    if (book[i].status != "duplicate") taken.insert(book[i].file);
  }

  // This run's records (one per distinct URL, input order) and the downloads they need.
  std::vector<FetchRecord>& records = summary.records;
  std::vector<Job> jobs;
  std::set<std::string> seen;
  for (const FetchItem& item : items) {
    if (!seen.insert(item.url).second) continue;
    FetchRecord r;
    const auto old = book_index.find(item.url);
    if (old != book_index.end() && !o.force && is_complete(book[old->second], out_dir)) {
      r = book[old->second];
      r.skipped = true;
    } else {
      r.url = item.url;
      r.arxiv_id = item.arxiv_id;
      if (old != book_index.end() && book[old->second].status != "duplicate") {
        r.file = book[old->second].file;  // same name as before, so its .part is found and resumed
      } else {
        r.file = unique_name(item.file_hint.empty() ? file_name_from_url(item.url) : pdf_name(item.file_hint), taken,
                             out_dir);
        taken.insert(r.file);
      }
      jobs.push_back({records.size(), item.url, out_dir / r.file});
    }
    r.where = item.where;
    records.push_back(std::move(r));
  }

  std::vector<DownloadResult> results(jobs.size());
  if (!jobs.empty()) {
    ManifestAppender appender(manifest_path);
    run_jobs(jobs, o, results, [&](size_t j) {
      const DownloadResult& d = results[j];
      FetchRecord& r = records[jobs[j].record];
      r.status = d.ok ? "ok" : "failed";
      r.error = d.ok ? "" : d.error;
      r.sha256 = d.ok ? d.sha256 : "";
      r.bytes = d.bytes;
      r.http_status = d.http_status;
      r.attempts = d.attempts;
      r.final_url = d.final_url;
      appender.append(r);
    });
  }

  // Merge into the book: known URLs keep their place, new ones follow in input order.
  for (const FetchRecord& r : records) {
    if (auto it = book_index.find(r.url); it != book_index.end()) {
      book[it->second] = r;
    } else {
      book_index.emplace(r.url, book.size());
      book.push_back(r);
    }
  }
  // De-duplicate by content in book order, so the copy kept is the one recorded first, whichever download
  // finished first; the later copy's file goes.
  std::unordered_map<std::string, size_t> keeper;
  for (size_t i = 0; i < book.size(); ++i) {
    FetchRecord& r = book[i];
    if (r.status != "ok") continue;
    const auto [it, first] = keeper.emplace(r.sha256, i);
    if (first) continue;
    const FetchRecord& k = book[it->second];
    if (r.file != k.file) std::filesystem::remove(out_dir / r.file, ec);
    r.status = "duplicate";
    r.duplicate_of = k.url;
    r.file = k.file;
  }
  for (FetchRecord& r : records) {
    const FetchRecord& b = book[book_index.at(r.url)];
    r.status = b.status;
    r.duplicate_of = b.duplicate_of;
    r.file = b.file;
    if (r.skipped)
      ++summary.skipped;
    else if (r.status == "ok")
      ++summary.fetched;
    else if (r.status == "duplicate")
      ++summary.duplicates;
    else
      ++summary.failed;
  }
  if (!book.empty()) write_fetch_manifest(manifest_path, book);
  return summary;
}

}  // namespace scitune
