// Records of a data file as JSON objects, streamed: the reader interface every file format implements.
//
// JSON files come in two shapes, told apart by their first non-blank byte (after an optional UTF-8 BOM), not
// by their name (`datasets.to_json` writes JSON lines to ".json" files):
//   '['  one JSON array of objects; elements are cut out one at a time, so the array may be any size;
//   else JSON lines: one object per line, blank lines skipped.
// Either may be gzip or zstd compressed (data/byte_source.h). A record's `where` is "<file>:<line>" (the line
// an array element starts on). A record that is not valid UTF-8, not valid JSON (RFC 8259, nesting <= 64),
// has a repeated key or is not an object comes back as a Reject; reading goes on with the next one. A line or
// array element longer than ReaderLimits::max_record_bytes, a broken array (missing comma, unterminated) or an
// unreadable/corrupt file throws UserError naming the file and line.
//
// Parquet files (data/parquet_source.h) are one more RecordSource yielding one object per row, `where` =
// "<file>:row <n>"; layouts, validation and tokenisation downstream do not change. A file is read as Parquet
// when its name ends in ".parquet" or it starts with Parquet's magic "PAR1".
//
// A path may also name several files, read one after the other as one source (expand_data_path): a folder
// (its *.parquet shards) or a glob in the file name ('data/train-*.parquet', quoted so the shell leaves it).
#pragma once
#include <cstddef>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/reject.h"

namespace scitune {

struct ReaderLimits {
  size_t max_record_bytes = size_t(64) << 20;
};

struct RawRecord {
  std::string where;     // "<file>:<line>"
  nlohmann::json value;  // a JSON object, unless rejected
  std::optional<Reject> reject;
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  virtual std::optional<RawRecord> next() = 0;  // nullopt at the end
  // "jsonl" or "json-array", plus "+gzip"/"+zstd"; "parquet"; for several files, the first's plus " x N files"
  virtual std::string_view format() const = 0;
};

// The files `path` names: the file itself; a folder's *.parquet files (Hugging Face's shards,
// "train-00000-of-00002.parquet", ...); or the files a glob ('*', '?', '[...]' in the last component only)
// matches. Folder and glob matches are sorted by name. UserError when a folder or a glob names no file.
std::vector<std::filesystem::path> expand_data_path(const std::filesystem::path& path);

// `path` (a file, a folder or a glob: expand_data_path) names the file in every message as given.
std::unique_ptr<RecordSource> open_record_source(const std::filesystem::path& path, const ReaderLimits& limits = {});
// The same over bytes in memory (they must outlive the source); `name` stands for the file in messages.
// Bytes starting with "PAR1" are read as a Parquet file.
std::unique_ptr<RecordSource> open_record_source(std::span<const uint8_t> bytes, const std::string& name,
                                                 const ReaderLimits& limits = {});

// One JSON text -> an object record or a Reject ("invalid UTF-8", "invalid JSON", "duplicate key",
// "not an object"). Exposed for the fuzz target and for other record sources.
RawRecord parse_record(std::string_view text, std::string where);

}  // namespace scitune
