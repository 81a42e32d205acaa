#include "papers/fetch_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include "io/json_limits.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace scitune {

namespace {

nlohmann::ordered_json str_or_null(const std::string& s) {
  return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The manifest names files that a later run may replace or delete, so a name must stay inside DIR.
bool is_plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos && s.find('\0') == std::string::npos;
}

}  // namespace

nlohmann::ordered_json to_json(const FetchRecord& r) {
  return {{"url", r.url},
          {"file", r.file},
          {"sha256", str_or_null(r.sha256)},
          {"bytes", r.bytes},
          {"status", r.status},
          {"error", str_or_null(r.error)},
          {"http_status", r.http_status ? nlohmann::ordered_json(r.http_status) : nlohmann::ordered_json(nullptr)},
          {"attempts", r.attempts},
          {"duplicate_of", str_or_null(r.duplicate_of)},
          {"final_url", str_or_null(r.final_url)},
          {"arxiv_id", str_or_null(r.arxiv_id)}};
}

FetchRecord fetch_record_from_json(const nlohmann::json& j, const std::string& where) {
  json_object(j, where);
  auto field = [&](const char* k) -> const nlohmann::json& {
    if (!j.contains(k)) fail(where + ": missing \"" + k + "\"");
    return j.at(k);
  };
  auto str = [&](const char* k) { return json_string(field(k), where + ": \"" + k + "\""); };
  auto opt_str = [&](const char* k) -> std::string {
    const nlohmann::json& v = field(k);
    return v.is_null() ? std::string() : json_string(v, where + ": \"" + k + "\"");
  };
  FetchRecord r;
  r.url = str("url");
  r.file = str("file");
  r.sha256 = opt_str("sha256");
  r.bytes = json_uint(field("bytes"), where + ": \"bytes\"");
  r.status = str("status");
  r.error = opt_str("error");
  if (const nlohmann::json& h = field("http_status"); !h.is_null()) {
    const int64_t v = json_int(h, where + ": \"http_status\"");
    if (v < 100 || v > 999) fail(where + ": \"http_status\" " + std::to_string(v) + " is not an HTTP status");
    r.http_status = static_cast<int>(v);
  }
  const int64_t attempts = json_int(field("attempts"), where + ": \"attempts\"");
  if (attempts < 0 || attempts > 1000) fail(where + ": \"attempts\" " + std::to_string(attempts) + " out of range");
  r.attempts = static_cast<int>(attempts);
  r.duplicate_of = opt_str("duplicate_of");
  r.final_url = opt_str("final_url");
  r.arxiv_id = opt_str("arxiv_id");
  if (r.url.empty()) fail(where + ": \"url\" is empty");
  if (!is_plain_file_name(r.file))
    fail(where + ": \"file\" \"" + r.file + "\" is not a plain file name inside the folder");
  if (r.status != "ok" && r.status != "duplicate" && r.status != "failed")
    fail(where + ": \"status\" \"" + r.status + "\": expected ok, duplicate or failed");
  if (r.status != "failed" && !is_hex64(r.sha256))
    fail(where + ": \"sha256\" must be 64 lowercase hex digits for status " + r.status);
  if (r.status == "failed" && r.error.empty()) fail(where + ": \"error\" is missing for status failed");
  if (r.status == "duplicate" && r.duplicate_of.empty())
    fail(where + ": \"duplicate_of\" is missing for status duplicate");
  return r;
}

FetchManifest read_fetch_manifest(const std::filesystem::path& path) {
  FetchManifest m;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return m;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string() + ": cannot open");
  std::unordered_map<std::string, size_t> by_url;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path.string() + ":" + std::to_string(n);
    try {
      FetchRecord r = fetch_record_from_json(parse_json_strict(line, where), where);
      if (auto it = by_url.find(r.url); it != by_url.end()) {
        m.records[it->second] = std::move(r);
      } else {
        by_url.emplace(r.url, m.records.size());
        m.records.push_back(std::move(r));
      }
    } catch (const UserError& e) {
      m.problems.push_back(std::string(e.what()) + " (line ignored)");
    }
  }
  return m;
}

void write_fetch_manifest(const std::filesystem::path& path, const std::vector<FetchRecord>& records) {
  std::string out;
  for (const FetchRecord& r : records) out += to_json(r).dump() + "\n";
  write_file_atomic(path, out, Overwrite::kYes);
}

ManifestAppender::ManifestAppender(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path.string() + ": cannot open for appending: " + std::strerror(errno));
  // A line cut short by a crash must not swallow the next one.
  const off_t size = ::lseek(fd_, 0, SEEK_END);
  char last = '\n';
  if (size > 0 && ::pread(fd_, &last, 1, size - 1) == 1 && last != '\n') {
    if (::write(fd_, "\n", 1) != 1) fail(path.string() + ": write failed: " + std::strerror(errno));
  }
}

ManifestAppender::~ManifestAppender() {
  if (fd_ >= 0) ::close(fd_);
}

void ManifestAppender::append(const FetchRecord& r) {
  const std::string line = to_json(r).dump() + "\n";
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path_.string() + ": write failed: " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) fail(path_.string() + ": fdatasync failed: " + std::strerror(errno));
}

}  // namespace scitune
