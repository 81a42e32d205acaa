// Data preparation: files -> validated records -> tokenised examples -> shuffled train/validation splits,
// with a report of everything that was kept, rejected or cut.
//
// Per source, in order: every record is read and validated (data/record_source.h, data/layouts.h; the layout
// is detected from the first record that has one, unless forced, and every later record must follow it).
// Without a sample count every valid record is tokenised, in file order. With FILE:N the valid records are
// shuffled and tokenised in that order until N examples are kept (so records rejected by the tokeniser stage,
// e.g. all-masked or too long, are replaced, as `dataset.shuffle(seed).select(range(N))` followed by a filter
// would not); fewer than N available is a warning. All sources' examples are then shuffled together and the
// first val_count (or ceil(val_ratio * n)) become the validation split, the next holdout_count (or
// ceil(holdout_ratio * n)) the holdout split, the rest the training split.
// Randomness: one std::mt19937_64 seeded with `seed`, drawn from in this order (per-source samples, then the
// final shuffle), with a portable unbiased bounded draw and Fisher-Yates: the same inputs and seed give the
// same splits on every platform. With keep_order the same examples land in each split, each split in the order
// the sources gave them (so `train --shuffle false` trains in file order).
// Rejected records are counted by kind with their first messages (DataReport); no example left is a
// UserError; with `strict` the first rejected record is.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "data/example.h"
#include "data/layouts.h"
#include "data/record_source.h"
#include "data/report.h"
#include "data/tokenize.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/atomic_file.h"

namespace scitune {

// Which records to keep by their "dataset" field: the source tag of Tulu-style mixtures (SciRIFF-train-mix is
// half SciRIFF, half general chat; OS_Train_Data mixes its parts the same way). Patterns are globs
// ("science.*"); one starting with '!' excludes. A record is kept when it matches an include pattern (or there
// is none) and no exclude pattern. Records left out are counted as filtered, not rejected; with a filter, a
// record without a string "dataset" field is rejected ("no dataset tag").
struct DatasetFilter {
  std::vector<std::string> include, exclude;
  bool empty() const { return include.empty() && exclude.empty(); }
  bool keeps(const std::string& tag) const;
};
// Comma-separated patterns ("science.*,!science.qasper*") appended to `filter`; UserError on an empty one.
void add_dataset_filter(DatasetFilter& filter, std::string_view patterns);

struct DataSourceSpec {
  std::filesystem::path path;  // a file, a folder of .parquet shards or a glob (data/record_source.h)
  int64_t sample = -1;         // N examples drawn at random from the file; -1: all
  Layout layout = Layout::kAuto;
  DatasetFilter filter;  // applied before sampling: N examples are drawn from the records it keeps
};

// "FILE" or "FILE:N" (N a positive integer; a FILE whose name itself ends in ":digits" cannot be named).
DataSourceSpec parse_data_source(std::string_view arg, Layout layout = Layout::kAuto);

struct DatasetSpec {
  std::vector<DataSourceSpec> sources;
  TokenizeOptions tokenize;  // max_seq_length (TRL default 1024), truncate or drop, threads
  uint64_t seed = 42;
  double val_ratio = 0.0;  // in [0, 1)
  int64_t val_count = -1;  // overrides val_ratio when >= 0
  double holdout_ratio = 0.0;  // a held-out split for evaluation only (never trained, never used for early stopping)
  int64_t holdout_count = -1;  // overrides holdout_ratio when >= 0
  bool strip_response_markers = false;
  bool strict = false;                    // any rejected record is an error
  bool keep_order = false;                // each split keeps the sources' order (train --shuffle false); the
                                          // split itself is still drawn with the seed
  ReaderLimits limits;                    // 64 MiB per line / array element
  std::optional<ChatFormat> chat_format;  // default: detect_chat_format(tokenizer)
};

struct PreparedDataset {
  std::vector<TokenizedExample> train, validation, holdout;
  DataReport report;
};

PreparedDataset prepare_dataset(const DatasetSpec& spec, const Tokenizer& tokenizer);

// An unbiased draw in [0, n) from the generator, the same on every platform (std::uniform_int_distribution
// and std::shuffle are implementation-defined).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n);
template <class T>
void seeded_shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[size_t(uniform_below(rng, i))]);
}

// DIR/train.bin, DIR/validation.bin, DIR/holdout.bin when there is a holdout split (data/example_cache.h) and
// DIR/report.json; DIR is created if needed.
// Existing files are replaced only with Overwrite::kYes.
void write_prepared_dataset(const std::filesystem::path& dir, const PreparedDataset& data, const Tokenizer& tokenizer,
                            Overwrite overwrite = Overwrite::kNo);
// DIR/report.json.
DataReport read_data_report(const std::filesystem::path& dir);

}  // namespace scitune
