// What data preparation did, per source and overall: records read, kept, rejected (by reason, with the first
// messages), truncated, tokens, trained tokens, a length histogram. Written as report.json beside the
// tokenised splits and printed as a short summary.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "data/example.h"

namespace scitune {

inline constexpr size_t kReportRejectSamples = 5;  // messages kept per source (all rejects are counted)

struct SourceReport {
  std::string path;
  std::string format;      // "jsonl", "json-array+gzip", ...
  std::string layout;      // as detected or forced ("" when no record had one)
  int64_t requested = -1;  // FILE:N; -1 = every record
  int64_t records = 0;     // records read (non-blank lines / array elements / Parquet rows)
  int64_t filtered = 0;    // records left out by --filter-dataset (neither valid nor rejected)
  int64_t valid = 0;       // records that passed JSON and layout checks
  int64_t examined = 0;    // valid records tokenised (with a sample count: until N were kept)
  int64_t kept = 0;
  int64_t rejected = 0;
  std::map<std::string, int64_t> rejected_by_kind;
  std::vector<std::string> first_rejects;  // at most kReportRejectSamples messages
  int64_t truncated = 0;
  int64_t tokens = 0;  // of kept examples, after truncation
  int64_t trained_tokens = 0;
};

struct SplitReport {
  int64_t examples = 0, tokens = 0, trained_tokens = 0;
};

// Examples by length: count[i] have length in (upper[i-1], upper[i]]; upper are powers of two from 64.
struct LengthHistogram {
  std::vector<int64_t> upper, count;
  int64_t min = 0, max = 0;
  double mean = 0;
};
LengthHistogram length_histogram(std::span<const TokenizedExample> a, std::span<const TokenizedExample> b = {});

struct DataReport {
  std::string tokenizer, chat_format, overlong;
  int64_t max_seq_length = 0;
  uint64_t seed = 0;
  std::vector<SourceReport> sources;
  SplitReport train, validation, holdout;
  LengthHistogram lengths;
  std::vector<std::string> warnings;

  int64_t records() const;
  int64_t kept() const;
  int64_t rejected() const;
  int64_t truncated() const;
  std::map<std::string, int64_t> rejected_by_kind() const;
};

nlohmann::json to_json(const DataReport& report);
// UserError naming `where` and the field when the JSON is not a report.
DataReport report_from_json(const nlohmann::json& j, const std::string& where);
// A few lines for people: per source, the splits, rejects with their first messages, the histogram.
std::string format_report(const DataReport& report);

}  // namespace scitune
