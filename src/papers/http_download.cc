#include "papers/http_download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "util/sha256.h"

namespace scitune {

namespace {

constexpr std::string_view kPdfMagic = "%PDF-";

enum class Outcome { Done, Transient, Permanent };

// State of one attempt, shared with libcurl's callbacks.
struct Attempt {
  const FetchOptions* options = nullptr;
  std::atomic<uint64_t>* received = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  int fd = -1;
  uint64_t offset = 0;   // bytes of the .part before this response's body
  uint64_t written = 0;  // body bytes this response added
  // Headers of the current response; a redirect hop starts a new one.
  int status = 0;
  std::string status_line, content_range, content_type, retry_after;
  std::optional<uint64_t> content_length;
  std::optional<uint64_t> total_size;  // the whole file's size when the server says (Content-Length / Content-Range)
  bool body_started = false;
  std::string head;  // first bytes of the file, for the magic check
  // Why the write callback stopped the transfer.
  std::string abort_reason;
  Outcome abort_outcome = Outcome::Permanent;
  bool discard_part = false;  // the .part cannot be resumed from
};

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return std::string(s);
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// A printable glimpse of bytes that should have been a PDF: what an HTML error page says first.
std::string glimpse(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 24)) out += (c >= 0x20 && c < 0x7f && c != '"') ? static_cast<char>(c) : '.';
  return out;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& a = *static_cast<Attempt*>(user);
  const std::string line = trim(std::string_view(data, size * count));
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (first, or after a redirect)
    a.status = 0;
    a.status_line = line;
    a.content_range.clear();
    a.content_type.clear();
    a.retry_after.clear();
    a.content_length.reset();
    if (const size_t sp = line.find(' '); sp != std::string::npos)
      a.status = static_cast<int>(parse_u64(line.substr(sp + 1, 3)).value_or(0));
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return size * count;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string value = trim(std::string_view(line).substr(colon + 1));
  if (name == "content-length")
    a.content_length = parse_u64(value);
  else if (name == "content-range")
    a.content_range = value;
  else if (name == "content-type")
    a.content_type = value;
  else if (name == "retry-after")
    a.retry_after = value;
  return size * count;
}

bool stop(Attempt& a, Outcome outcome, std::string reason, bool discard = false) {
  a.abort_outcome = outcome;
  a.abort_reason = std::move(reason);
  a.discard_part = discard;
  return false;
}

bool reset_part(Attempt& a) {
  if (::ftruncate(a.fd, 0) != 0 || ::lseek(a.fd, 0, SEEK_SET) != 0)
    return stop(a, Outcome::Permanent, std::string("cannot truncate the .part file: ") + std::strerror(errno));
  a.offset = 0;
  a.head.clear();  // the new body is checked for the magic like any other
  return true;
}

// First body bytes of the final response: is it the body we asked for, and will it fit?
bool begin_body(Attempt& a) {
  const uint64_t max = a.options->max_bytes;
  if (a.status == 200) {
    if (a.offset > 0 && !reset_part(a)) return false;  // the server ignored our Range: start over
    a.total_size = a.content_length;
  } else if (a.status == 206) {
    // "bytes START-END/TOTAL": START must be where our .part ends or the pieces would not fit together.
    const std::string& cr = a.content_range;
    const size_t dash = cr.find('-'), slash = cr.find('/');
    const auto s = cr.rfind("bytes ", 0) == 0 && dash != std::string::npos
                       ? parse_u64(std::string_view(cr).substr(6, dash - 6))
                       : std::nullopt;
    if (!s) return stop(a, Outcome::Transient, "206 with an unreadable Content-Range \"" + cr + "\"", true);
    if (*s != a.offset)
      return stop(a, Outcome::Transient,
                  "asked to resume at byte " + std::to_string(a.offset) + " but got Content-Range \"" + cr + "\"",
                  true);
    if (slash != std::string::npos) a.total_size = parse_u64(std::string_view(cr).substr(slash + 1));
  } else {
    return false;  // an error page: the status says what went wrong (see run_attempt)
  }
  if (a.total_size && *a.total_size > max)
    return stop(a, Outcome::Permanent,
                "file is " + std::to_string(*a.total_size) + " bytes, over the limit of " + std::to_string(max), true);
  if (a.content_length && a.offset + *a.content_length > max)
    return stop(
        a, Outcome::Permanent,
        "file is " + std::to_string(a.offset + *a.content_length) + " bytes, over the limit of " + std::to_string(max),
        true);
  return true;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& a = *static_cast<Attempt*>(user);
  const size_t n = size * count;
  if (!a.body_started) {
    a.body_started = true;
    if (!begin_body(a)) return 0;
  }
  if (a.offset + a.written + n > a.options->max_bytes) {
    stop(a, Outcome::Permanent, "body is over the limit of " + std::to_string(a.options->max_bytes) + " bytes", true);
    return 0;
  }
  if (a.offset == 0 && a.head.size() < kPdfMagic.size()) {
    a.head.append(data, std::min(n, kPdfMagic.size() - a.head.size()));
    if (a.head.size() == kPdfMagic.size() && a.head != kPdfMagic) {
      std::string first(data, std::min<size_t>(n, 24));
      if (a.written > 0) first = a.head;
      stop(a, Outcome::Permanent,
           "not a PDF: body starts with \"" + glimpse(first) + "\"" +
               (a.content_type.empty() ? "" : " (Content-Type " + a.content_type + ")"),
           true);
      return 0;
    }
  }
  size_t off = 0;
  while (off < n) {
    const ssize_t w = ::write(a.fd, data + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      stop(a, Outcome::Permanent, std::string("cannot write the .part file: ") + std::strerror(errno));
      return 0;
    }
    off += static_cast<size_t>(w);
  }
  a.written += n;
  if (a.received) a.received->fetch_add(n, std::memory_order_relaxed);
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto& a = *static_cast<Attempt*>(user);
  return a.cancel && a.cancel->load() ? 1 : 0;
}

bool transient_http(int status) { return status == 408 || status == 425 || status == 429 || status >= 500; }

// What a curl code means for retrying.
Outcome classify(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return Outcome::Transient;
    default:
      return Outcome::Permanent;
  }
}

struct AttemptResult {
  Outcome outcome = Outcome::Permanent;
  std::string error;
  bool discard_part = false;
  std::chrono::milliseconds retry_after{0};
};

AttemptResult run_attempt(CURL* curl, const std::string& url, Attempt& a, DownloadResult& result) {
  const FetchOptions& o = *a.options;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_reset(curl);  // keeps the connection cache
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, static_cast<long>(o.max_redirects));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(o.low_speed_limit));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_time.count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");  // loopback never goes through a proxy
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &a);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  const std::string range = std::to_string(a.offset) + "-";
  if (a.offset > 0) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/pdf, */*;q=0.5");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);

  result.http_status = a.status;
  char* effective = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective && a.status)
    result.final_url = effective;

  AttemptResult r;
  if (!a.abort_reason.empty()) {
    r.outcome = a.abort_outcome;
    r.error = a.abort_reason;
    r.discard_part = a.discard_part;
    return r;
  }
  if (rc == CURLE_TOO_MANY_REDIRECTS) {
    r.error = "more than " + std::to_string(o.max_redirects) + " redirects (a redirect loop?)";
    return r;
  }
  if (a.status != 0 && a.status != 200 && a.status != 206 && (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)) {
    r.error = a.status_line.empty() ? "HTTP " + std::to_string(a.status) : a.status_line;
    if (a.status == 416) {  // our .part is not a prefix of what the server has now
      r.outcome = Outcome::Transient;
      r.discard_part = true;
      return r;
    }
    r.outcome = transient_http(a.status) ? Outcome::Transient : Outcome::Permanent;
    if (const auto secs = parse_u64(a.retry_after))
      r.retry_after = std::chrono::seconds(std::min<uint64_t>(*secs, 86400));
    return r;
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    r.outcome = Outcome::Transient;  // keep the .part: the next run resumes it
    r.error = "cancelled";
    return r;
  }
  if (rc != CURLE_OK) {
    r.outcome = classify(rc);
    r.error = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    if (rc == CURLE_OPERATION_TIMEDOUT) r.error = "timed out: " + r.error;
    return r;
  }
  const uint64_t size = a.offset + a.written;
  if (a.offset == 0 && a.head != kPdfMagic) {
    r.error = size == 0 ? "not a PDF: empty body" : "not a PDF: body is only " + std::to_string(size) + " bytes";
    r.discard_part = true;
    return r;
  }
  if (a.total_size && *a.total_size != size) {
    r.outcome = Outcome::Transient;
    r.error = "got " + std::to_string(size) + " bytes of " + std::to_string(*a.total_size);
    return r;
  }
  r.outcome = Outcome::Done;
  return r;
}

uint64_t part_size(const std::filesystem::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
}

// Bytes of an existing .part worth resuming from: it must start like a PDF and leave room under the cap.
uint64_t resumable_bytes(const std::filesystem::path& part, uint64_t max_bytes) {
  const uint64_t size = part_size(part);
  if (size < kPdfMagic.size() || size >= max_bytes) return 0;
  const int fd = ::open(part.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char head[5] = {};
  const bool pdf = ::pread(fd, head, sizeof head, 0) == 5 && std::string_view(head, 5) == kPdfMagic;
  ::close(fd);
  return pdf ? size : 0;
}

std::string hash_file(int fd, std::string& error) {
  Sha256 h;
  std::vector<uint8_t> buf(1 << 20);
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    error = std::strerror(errno);
    return {};
  }
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      return {};
    }
    if (n == 0) break;
    h.update(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
  }
  return h.hex_digest();
}

// fsync, hash and rename into place; the directory is synced so the rename survives a crash.
bool finish_file(int fd, const std::filesystem::path& part, const std::filesystem::path& target,
                 DownloadResult& result) {
  if (::fsync(fd) != 0) {
    result.error = part.string() + ": fsync failed: " + std::strerror(errno);
    return false;
  }
  std::string error;
  result.sha256 = hash_file(fd, error);
  if (!error.empty()) {
    result.error = part.string() + ": cannot read back: " + error;
    return false;
  }
  if (::rename(part.c_str(), target.c_str()) != 0) {
    result.error = target.string() + ": cannot rename into place: " + std::strerror(errno);
    return false;
  }
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace

DownloadResult download_pdf(CURL* curl, const std::string& url, const std::filesystem::path& target,
                            const FetchOptions& options, std::atomic<uint64_t>* received,
                            const std::atomic<bool>* cancel) {
  DownloadResult result;
  std::filesystem::path part = target;
  part += ".part";
  std::chrono::milliseconds wait = options.backoff;
  for (int attempt = 1;; ++attempt) {
    result.attempts = attempt;
    Attempt a;
    a.options = &options;
    a.received = received;
    a.cancel = cancel;
    a.offset = resumable_bytes(part, options.max_bytes);
    if (a.offset > 0) a.head = std::string(kPdfMagic);
    a.fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);  // read back to hash
    if (a.fd < 0) {
      result.error = part.string() + ": cannot open: " + std::strerror(errno);
      return result;
    }
    if (::ftruncate(a.fd, static_cast<off_t>(a.offset)) != 0 ||
        ::lseek(a.fd, static_cast<off_t>(a.offset), SEEK_SET) != static_cast<off_t>(a.offset)) {
      result.error = part.string() + ": cannot prepare: " + std::strerror(errno);
      ::close(a.fd);
      return result;
    }
    const AttemptResult r = run_attempt(curl, url, a, result);
    if (r.outcome == Outcome::Done) {
      result.ok = finish_file(a.fd, part, target, result);
      result.bytes = a.offset + a.written;
      ::close(a.fd);
      if (!result.ok) result.sha256.clear();
      return result;
    }
    ::close(a.fd);
    result.error = r.error;
    result.bytes = r.discard_part || r.outcome == Outcome::Permanent ? 0 : part_size(part);
    if (result.bytes == 0) ::unlink(part.c_str());  // nothing worth resuming
    const bool cancelled = cancel && cancel->load();
    if (r.outcome == Outcome::Permanent || attempt > options.retries || cancelled) {
      if (attempt > 1) result.error += " (after " + std::to_string(attempt) + " attempts)";
      return result;
    }
    std::this_thread::sleep_for(std::min(std::max(wait, r.retry_after), options.max_backoff));
    wait = std::min(wait * 2, options.max_backoff);
  }
}

}  // namespace scitune
