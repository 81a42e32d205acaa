#include "data/prepare.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/example_cache.h"
#include "io/json_limits.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune {

namespace {

constexpr size_t kBatch = 2048;

void add_reject(SourceReport& sr, const Reject& r, bool strict) {
  if (strict) fail(r.message + " (--strict: a rejected record is an error)");
  ++sr.rejected;
  ++sr.rejected_by_kind[r.kind];
  if (sr.first_rejects.size() < kReportRejectSamples) sr.first_rejects.push_back(r.message);
}

std::string key_list(const nlohmann::json& obj) {
  std::string out;
  size_t n = 0;
  for (const auto& [k, v] : obj.items()) {
    if (++n > 8) {
      out += ", ...";
      break;
    }
    out += (out.empty() ? "\"" : ", \"") + k + "\"";
  }
  return out.empty() ? "none" : out;
}

// Reads, validates and renders every record of one source.
std::vector<PendingRecord> read_source(const DataSourceSpec& src, const DatasetSpec& spec, const Tokenizer& tok,
                                       ChatFormat format, SourceReport& sr) {
  auto reader = open_record_source(src.path, spec.limits);
  sr.format = std::string(reader->format());
  Layout layout = src.layout;
  std::string detected_at;
  if (layout != Layout::kAuto) sr.layout = std::string(to_string(layout));
  const LayoutOptions options{format, spec.strip_response_markers};
  std::vector<PendingRecord> pending;
  while (auto rec = reader->next()) {
    ++sr.records;
    if (rec->reject) {
      add_reject(sr, *rec->reject, spec.strict);
      continue;
    }
    if (!src.filter.empty()) {
      const nlohmann::json* tag = json_find(rec->value, "dataset");
      if (!tag || !tag->is_string()) {
        add_reject(sr,
                   {"no dataset tag", rec->where + ": --filter-dataset needs a string \"dataset\" field, found " +
                                          (tag ? std::string(json_type_name(*tag)) : std::string("none"))},
                   spec.strict);
        continue;
      }
      if (!src.filter.keeps(tag->get_ref<const std::string&>())) {
        ++sr.filtered;
        continue;
      }
    }
    if (layout == Layout::kAuto) {
      const auto detected = detect_layout(rec->value);
      if (!detected) {
        add_reject(sr,
                   {"unknown layout", rec->where + ": no known layout (keys: " + key_list(rec->value) +
                                          "; expected messages, conversations, instruction/output, "
                                          "prompt/completion, input/output, text or input_ids)"},
                   spec.strict);
        continue;
      }
      layout = *detected;
      detected_at = rec->where;
      sr.layout = std::string(to_string(layout));
    }
    try {
      RecordContent content = record_content(rec->value, layout, options, rec->where);
      pending.push_back(make_pending(std::move(content), tok, format, rec->where));
      ++sr.valid;
    } catch (const RecordReject& e) {
      Reject r = e.reject();
      if (!detected_at.empty() && r.kind == "missing field")
        r.message += " (the file's layout is " + sr.layout + ", detected at " + detected_at + ")";
      add_reject(sr, r, spec.strict);
    }
  }
  return pending;
}

// Tokenises records in `order` until `want` examples are kept (want < 0: all).
void tokenize_source(std::vector<PendingRecord>& pending, const std::vector<size_t>& order, int64_t want,
                     const DatasetSpec& spec, const Tokenizer& tok, ChatFormat format, SourceReport& sr,
                     std::vector<TokenizedExample>& out) {
  ProgressBar bar("tokenizing " + sr.path, want >= 0 ? uint64_t(want) : order.size(), "examples");
  size_t next = 0;
  std::vector<PendingRecord> batch;
  while (next < order.size() && (want < 0 || sr.kept < want)) {
    size_t n = kBatch;
    if (want >= 0) n = size_t(std::clamp<int64_t>((want - sr.kept) * 9 / 8 + 8, 1, int64_t(kBatch)));
    batch.clear();
    for (size_t k = 0; k < n && next < order.size(); ++k) batch.push_back(std::move(pending[order[next++]]));
    const std::vector<TokenizeResult> results = tokenize_records(batch, tok, format, spec.tokenize);
    for (const TokenizeResult& r : results) {
      if (want >= 0 && sr.kept >= want) break;  // the rest of the batch stays unexamined
      ++sr.examined;
      if (r.reject) {
        add_reject(sr, *r.reject, spec.strict);
        continue;
      }
      ++sr.kept;
      sr.truncated += r.truncated;
      sr.tokens += int64_t(r.example->input_ids.size());
      sr.trained_tokens += r.example->trained_tokens();
      out.push_back(std::move(*r.example));
    }
    bar.update(want >= 0 ? uint64_t(sr.kept) : uint64_t(sr.examined));
  }
  bar.finish();
}

SplitReport split_report(const std::vector<TokenizedExample>& v) {
  SplitReport s;
  s.examples = int64_t(v.size());
  for (const TokenizedExample& ex : v) {
    s.tokens += int64_t(ex.input_ids.size());
    s.trained_tokens += ex.trained_tokens();
  }
  return s;
}

nlohmann::json cache_meta(const DataReport& r, const std::string& split) {
  return {{"split", split},
          {"tokenizer", r.tokenizer},
          {"chat_format", r.chat_format},
          {"max_seq_length", r.max_seq_length},
          {"overlong", r.overlong},
          {"seed", r.seed},
          {"created_by", "scitune data prepare"}};
}

}  // namespace

bool DatasetFilter::keeps(const std::string& tag) const {
  auto any = [&](const std::vector<std::string>& patterns) {
    for (const std::string& p : patterns)
      if (fnmatch(p.c_str(), tag.c_str(), 0) == 0) return true;
    return false;
  };
  return (include.empty() || any(include)) && !any(exclude);
}

void add_dataset_filter(DatasetFilter& filter, std::string_view patterns) {
  size_t start = 0;
  while (true) {
    const size_t comma = std::min(patterns.find(',', start), patterns.size());
    std::string p(patterns.substr(start, comma - start));
    const bool exclude = !p.empty() && p[0] == '!';
    if (exclude) p.erase(0, 1);
    if (p.empty())
      fail("--filter-dataset " + std::string(patterns) +
           ": an empty pattern (expected NAME[,NAME...], '!' to exclude)");
    (exclude ? filter.exclude : filter.include).push_back(std::move(p));
    if (comma == patterns.size()) break;
    start = comma + 1;
  }
}

uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  SCITUNE_CHECK(n > 0, "uniform_below(0)");
  const uint64_t min = (0 - n) % n;  // 2^64 mod n: draws below it would favour small results
  uint64_t x;
  do {
    x = rng();
  } while (x < min);
  return x % n;
}

DataSourceSpec parse_data_source(std::string_view arg, Layout layout) {
  DataSourceSpec s;
  s.layout = layout;
  const size_t colon = arg.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < arg.size() &&
      arg.find_first_not_of("0123456789", colon + 1) == std::string_view::npos) {
    const std::string_view digits = arg.substr(colon + 1);
    if (digits.size() > 15 || std::stoll(std::string(digits)) <= 0)
      fail("--data " + std::string(arg) + ": the sample count must be a positive integer");
    s.sample = std::stoll(std::string(digits));
    s.path = std::string(arg.substr(0, colon));
  } else {
    s.path = std::string(arg);
  }
  if (s.path.empty()) fail("--data " + std::string(arg) + ": no file name");
  return s;
}

PreparedDataset prepare_dataset(const DatasetSpec& spec, const Tokenizer& tok) {
  if (spec.sources.empty()) fail("no data sources given");
  if (!(spec.val_ratio >= 0.0 && spec.val_ratio < 1.0))
    fail("validation ratio " + std::to_string(spec.val_ratio) + " is not in [0, 1)");
  const ChatFormat format = spec.chat_format ? *spec.chat_format : detect_chat_format(tok);
  PreparedDataset out;
  DataReport& report = out.report;
  report.tokenizer = tok.source();
  report.chat_format = to_string(format);
  report.max_seq_length = spec.tokenize.max_seq_length > 0 ? spec.tokenize.max_seq_length : 0;
  report.overlong = spec.tokenize.overlong == Overlong::kDrop ? "drop" : "truncate";
  report.seed = spec.seed;

  std::mt19937_64 rng(spec.seed);
  std::vector<TokenizedExample> all;
  for (const DataSourceSpec& src : spec.sources) {
    SourceReport& sr = report.sources.emplace_back();
    sr.path = src.path.string();
    sr.requested = src.sample;
    std::vector<PendingRecord> pending = read_source(src, spec, tok, format, sr);
    std::vector<size_t> order(pending.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (src.sample >= 0) seeded_shuffle(order, rng);
    tokenize_source(pending, order, src.sample, spec, tok, format, sr, all);
    if (src.sample >= 0 && sr.kept < src.sample)
      report.warnings.push_back(sr.path + ": " + std::to_string(src.sample) + " examples requested, only " +
                                std::to_string(sr.kept) + " available");
    if (sr.kept == 0) report.warnings.push_back(sr.path + ": no example kept");
  }
  if (all.empty()) {
    std::string why = "no training examples left: " + std::to_string(report.records()) + " records read, " +
                      std::to_string(report.rejected()) + " rejected";
    for (const SourceReport& s : report.sources)
      if (!s.first_rejects.empty()) {
        why += "; first: " + s.first_rejects[0];
        break;
      }
    fail(why);
  }

  const int64_t n = int64_t(all.size());
  std::vector<size_t> order(all.size());
  std::iota(order.begin(), order.end(), size_t{0});
  seeded_shuffle(order, rng);  // the permutation seeded_shuffle(all, rng) would make: same draws, same splits
  const int64_t n_val = spec.val_count >= 0 ? spec.val_count : int64_t(std::ceil(spec.val_ratio * double(n) - 1e-9));
  if (!(spec.holdout_ratio >= 0.0 && spec.holdout_ratio < 1.0))
    fail("holdout ratio " + std::to_string(spec.holdout_ratio) + " is not in [0, 1)");
  const int64_t n_hold =
      spec.holdout_count >= 0 ? spec.holdout_count : int64_t(std::ceil(spec.holdout_ratio * double(n) - 1e-9));
  if (n_val + n_hold >= n)
    fail((n_hold ? "validation (" + std::to_string(n_val) + ") and holdout (" + std::to_string(n_hold) + ") splits"
                 : "a validation split of " + std::to_string(n_val) + " examples") +
         " leave" + (n_hold ? "" : "s") + " nothing to train on (" + std::to_string(n) + " examples in all)");
  if (spec.keep_order) {
    std::sort(order.begin(), order.begin() + n_val);
    std::sort(order.begin() + n_val, order.begin() + n_val + n_hold);
    std::sort(order.begin() + n_val + n_hold, order.end());
  }
  for (int64_t i = 0; i < n; ++i)
    (i < n_val ? out.validation : i < n_val + n_hold ? out.holdout : out.train).push_back(std::move(all[order[size_t(i)]]));
  report.train = split_report(out.train);
  report.validation = split_report(out.validation);
  report.holdout = split_report(out.holdout);
  report.lengths = length_histogram(out.train, out.validation);
  return out;
}

void write_prepared_dataset(const std::filesystem::path& dir, const PreparedDataset& data, const Tokenizer& tok,
                            Overwrite overwrite) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir.string() + ": cannot create the directory: " + ec.message());
  if (overwrite == Overwrite::kNo)  // check all three first: never leave a half-replaced set
    for (const char* f : {"train.bin", "validation.bin", "holdout.bin", "report.json"})
      if (std::filesystem::exists(dir / f))
        fail((dir / f).string() + " exists (pass --force to replace the prepared data)");
  const auto vocab = uint32_t(tok.vocab_size());
  write_example_cache(dir / "train.bin", data.train, vocab, cache_meta(data.report, "train"), overwrite);
  write_example_cache(dir / "validation.bin", data.validation, vocab, cache_meta(data.report, "validation"), overwrite);
  if (!data.holdout.empty())
    write_example_cache(dir / "holdout.bin", data.holdout, vocab, cache_meta(data.report, "holdout"), overwrite);
  else if (overwrite == Overwrite::kYes)
    std::filesystem::remove(dir / "holdout.bin");  // a stale one from an earlier preparation
  write_file_atomic(dir / "report.json", to_json(data.report).dump(2) + "\n", overwrite);
}

DataReport read_data_report(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "report.json";
  return report_from_json(read_json_file(path), path.string());
}

}  // namespace scitune
