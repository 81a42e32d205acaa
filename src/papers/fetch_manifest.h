// DIR/manifest.jsonl of `scitune papers fetch`: one JSON object per URL, keys in this order:
//   url           the URL as given (arXiv ids as their PDF URL)
//   file          file name inside DIR; for "duplicate" the kept file with the same bytes; for "failed" the name
//                 the file will get (its partial bytes are in FILE.part)
//   sha256        hex digest of the file, null when failed
//   bytes         size of the file; for "failed" the bytes kept in FILE.part for the next run to resume from
//   status        "ok", "duplicate" (same sha256 as duplicate_of's file; no second copy kept) or "failed"
//   error         why it failed, null otherwise
//   http_status   last HTTP status received, null when no response came
//   attempts      tries in the run that wrote the line
//   duplicate_of  url of the record that keeps the file, null unless "duplicate"
//   final_url     where redirects ended, null when no response came
//   arxiv_id      canonical arXiv id when the item was given as one, else null
// Lines are appended as downloads finish (so a crash loses nothing) and the file is rewritten at the end of a
// run with one line per URL (the last one written wins), old URLs first, in the order they were first seen.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace scitune {

struct FetchRecord {
  std::string url, file, sha256;
  uint64_t bytes = 0;
  std::string status;  // "ok", "duplicate", "failed"
  std::string error;
  int http_status = 0;  // 0: none (null in JSON)
  int attempts = 0;
  std::string duplicate_of, final_url, arxiv_id;
  // Not written to the manifest:
  bool skipped = false;  // complete from an earlier run; nothing was downloaded
  std::string where;     // where the user gave it ("urls.txt:3")
};

nlohmann::ordered_json to_json(const FetchRecord& r);
// Validates every field (a "file" must be a plain name inside DIR); UserError naming `where` and the field.
FetchRecord fetch_record_from_json(const nlohmann::json& j, const std::string& where);

struct FetchManifest {
  std::vector<FetchRecord> records;   // one per URL, the last line for it winning, in first-seen order
  std::vector<std::string> problems;  // "manifest.jsonl:7: ..." for lines that were ignored
};
// A missing file is an empty manifest. A bad line (say, cut short by a crash) is a problem, not an error.
FetchManifest read_fetch_manifest(const std::filesystem::path& path);
// Rewrites the whole manifest atomically.
void write_fetch_manifest(const std::filesystem::path& path, const std::vector<FetchRecord>& records);

// Appends one line per record and fdatasyncs, so finished downloads are on record even if the run dies.
class ManifestAppender {
 public:
  explicit ManifestAppender(const std::filesystem::path& path);
  ~ManifestAppender();
  ManifestAppender(const ManifestAppender&) = delete;
  ManifestAppender& operator=(const ManifestAppender&) = delete;
  void append(const FetchRecord& r);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace scitune
