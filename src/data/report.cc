#include "data/report.h"

#include <algorithm>
#include <cstdio>

#include "io/json_limits.h"
#include "util/error.h"

namespace scitune {

namespace {

using json = nlohmann::json;

std::string thousands(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

json split_json(const SplitReport& s) {
  return {{"examples", s.examples}, {"tokens", s.tokens}, {"trained_tokens", s.trained_tokens}};
}

// Typed reads for report_from_json.
struct Reader {
  const json& obj;
  std::string where;
  const json& at(const char* key) const {
    const json* v = json_find(json_object(obj, where), key, /*null_is_absent=*/false);
    if (!v) fail(where + ": missing \"" + key + "\"");
    return *v;
  }
  std::string field(const char* key) const { return where + ": \"" + key + "\""; }
  int64_t i64(const char* key) const { return json_int(at(key), field(key)); }
  std::string str(const char* key) const { return json_string(at(key), field(key)); }
  Reader sub(const char* key) const { return {json_object(at(key), field(key)), field(key)}; }
  bool has(const char* key) const { return json_find(json_object(obj, where), key, /*null_is_absent=*/true) != nullptr; }
};

SplitReport split_from(const Reader& r) { return {r.i64("examples"), r.i64("tokens"), r.i64("trained_tokens")}; }

std::vector<int64_t> ints(const json& v, const std::string& where) {
  std::vector<int64_t> out;
  for (const json& x : json_array(v, where)) out.push_back(json_int(x, where));
  return out;
}

std::vector<std::string> strings(const json& v, const std::string& where) {
  std::vector<std::string> out;
  for (const json& x : json_array(v, where)) out.push_back(json_string(x, where));
  return out;
}

}  // namespace

LengthHistogram length_histogram(std::span<const TokenizedExample> a, std::span<const TokenizedExample> b) {
  LengthHistogram h;
  int64_t n = 0, sum = 0;
  h.min = INT64_MAX;
  for (auto part : {a, b})
    for (const TokenizedExample& ex : part) {
      const int64_t len = int64_t(ex.input_ids.size());
      ++n;
      sum += len;
      h.min = std::min(h.min, len);
      h.max = std::max(h.max, len);
      size_t bucket = 0;
      for (int64_t upper = 64; upper < len; upper *= 2) ++bucket;
      while (h.upper.size() <= bucket) {
        h.upper.push_back(h.upper.empty() ? 64 : h.upper.back() * 2);
        h.count.push_back(0);
      }
      ++h.count[bucket];
    }
  if (n == 0) h.min = 0;
  h.mean = n ? double(sum) / double(n) : 0.0;
  return h;
}

int64_t DataReport::records() const {
  int64_t n = 0;
  for (const auto& s : sources) n += s.records;
  return n;
}
int64_t DataReport::kept() const {
  int64_t n = 0;
  for (const auto& s : sources) n += s.kept;
  return n;
}
int64_t DataReport::rejected() const {
  int64_t n = 0;
  for (const auto& s : sources) n += s.rejected;
  return n;
}
int64_t DataReport::truncated() const {
  int64_t n = 0;
  for (const auto& s : sources) n += s.truncated;
  return n;
}
std::map<std::string, int64_t> DataReport::rejected_by_kind() const {
  std::map<std::string, int64_t> out;
  for (const auto& s : sources)
    for (const auto& [k, v] : s.rejected_by_kind) out[k] += v;
  return out;
}

json to_json(const DataReport& r) {
  json sources = json::array();
  for (const SourceReport& s : r.sources)
    sources.push_back({{"path", s.path},
                       {"format", s.format},
                       {"layout", s.layout},
                       {"requested", s.requested},
                       {"records", s.records},
                       {"filtered", s.filtered},
                       {"valid", s.valid},
                       {"examined", s.examined},
                       {"kept", s.kept},
                       {"rejected", s.rejected},
                       {"rejected_by_kind", s.rejected_by_kind},
                       {"first_rejects", s.first_rejects},
                       {"truncated", s.truncated},
                       {"tokens", s.tokens},
                       {"trained_tokens", s.trained_tokens}});
  return {{"tokenizer", r.tokenizer},
          {"chat_format", r.chat_format},
          {"max_seq_length", r.max_seq_length},
          {"overlong", r.overlong},
          {"seed", r.seed},
          {"sources", sources},
          {"train", split_json(r.train)},
          {"validation", split_json(r.validation)},
          {"holdout", split_json(r.holdout)},
          {"lengths",
           {{"upper", r.lengths.upper},
            {"count", r.lengths.count},
            {"min", r.lengths.min},
            {"max", r.lengths.max},
            {"mean", r.lengths.mean}}},
          {"totals",
           {{"records", r.records()},
            {"kept", r.kept()},
            {"rejected", r.rejected()},
            {"truncated", r.truncated()},
            {"rejected_by_kind", r.rejected_by_kind()}}},
          {"warnings", r.warnings}};
}

DataReport report_from_json(const json& j, const std::string& where) {
  const Reader root{j, where};
  DataReport r;
  r.tokenizer = root.str("tokenizer");
  r.chat_format = root.str("chat_format");
  r.max_seq_length = root.i64("max_seq_length");
  r.overlong = root.str("overlong");
  r.seed = json_uint(root.at("seed"), root.field("seed"));
  size_t i = 0;
  for (const json& sj : json_array(root.at("sources"), root.field("sources"))) {
    const Reader s{json_object(sj, where + ": sources[" + std::to_string(i) + "]"),
                   where + ": sources[" + std::to_string(i) + "]"};
    ++i;
    SourceReport sr;
    sr.path = s.str("path");
    sr.format = s.str("format");
    sr.layout = s.str("layout");
    sr.requested = s.i64("requested");
    sr.records = s.i64("records");
    if (s.has("filtered")) sr.filtered = s.i64("filtered");  // absent in reports before --filter-dataset
    sr.valid = s.i64("valid");
    sr.examined = s.i64("examined");
    sr.kept = s.i64("kept");
    sr.rejected = s.i64("rejected");
    for (const auto& [k, v] : json_object(s.at("rejected_by_kind"), s.field("rejected_by_kind")).items())
      sr.rejected_by_kind[k] = json_int(v, s.field("rejected_by_kind") + "." + k);
    sr.first_rejects = strings(s.at("first_rejects"), s.field("first_rejects"));
    sr.truncated = s.i64("truncated");
    sr.tokens = s.i64("tokens");
    sr.trained_tokens = s.i64("trained_tokens");
    r.sources.push_back(std::move(sr));
  }
  r.train = split_from(root.sub("train"));
  r.validation = split_from(root.sub("validation"));
  if (root.has("holdout")) r.holdout = split_from(root.sub("holdout"));  // absent in reports before holdout splits
  const Reader l = root.sub("lengths");
  r.lengths.upper = ints(l.at("upper"), l.field("upper"));
  r.lengths.count = ints(l.at("count"), l.field("count"));
  if (r.lengths.upper.size() != r.lengths.count.size()) fail(l.where + ": \"upper\" and \"count\" differ in length");
  r.lengths.min = l.i64("min");
  r.lengths.max = l.i64("max");
  r.lengths.mean = json_number(l.at("mean"), l.field("mean"));
  r.warnings = strings(root.at("warnings"), root.field("warnings"));
  return r;
}

std::string format_report(const DataReport& r) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  for (const SourceReport& s : r.sources) {
    line(s.path + " (" + s.format + ", " + (s.layout.empty() ? "no layout" : s.layout) + "): " + thousands(s.records) +
         " records, " + (s.filtered ? thousands(s.filtered) + " filtered out by dataset, " : "") + thousands(s.kept) +
         " kept" + (s.requested >= 0 ? " of " + thousands(s.requested) + " requested" : "") + ", " +
         thousands(s.rejected) + " rejected, " + thousands(s.truncated) + " truncated; " + thousands(s.tokens) +
         " tokens, " + thousands(s.trained_tokens) + " trained");
    if (s.examined < s.valid)
      line("  " + thousands(s.valid - s.examined) + " valid records not used (sample of " + thousands(s.requested) +
           ")");
  }
  const int64_t total_tokens = r.train.tokens + r.validation.tokens;
  const int64_t total_trained = r.train.trained_tokens + r.validation.trained_tokens;
  line("train: " + thousands(r.train.examples) + " examples, " + thousands(r.train.tokens) + " tokens (" +
       thousands(r.train.trained_tokens) + " trained); validation: " + thousands(r.validation.examples) +
       " examples, " + thousands(r.validation.tokens) + " tokens (" + thousands(r.validation.trained_tokens) +
       " trained)" +
       (r.holdout.examples ? "; holdout: " + thousands(r.holdout.examples) + " examples, " +
                                 thousands(r.holdout.tokens) + " tokens"
                           : std::string()));
  if (total_tokens > 0)
    line("trained share " + fixed(100.0 * double(total_trained) / double(total_tokens), 1) + "%; lengths " +
         thousands(r.lengths.min) + " .. " + thousands(r.lengths.max) + ", mean " + fixed(r.lengths.mean, 1) +
         (r.max_seq_length > 0 ? "; max_seq_length " + thousands(r.max_seq_length) + " (" + r.overlong + ")"
                               : "; no length limit"));
  const auto kinds = r.rejected_by_kind();
  if (!kinds.empty()) {
    std::string k;
    for (const auto& [kind, n] : kinds) k += (k.empty() ? "" : ", ") + kind + " " + thousands(n);
    line("rejected " + thousands(r.rejected()) + ": " + k);
    for (const SourceReport& s : r.sources)
      for (const std::string& m : s.first_rejects) line("  " + m);
  }
  if (!r.lengths.count.empty()) {
    const int64_t peak = *std::max_element(r.lengths.count.begin(), r.lengths.count.end());
    line("length histogram (tokens):");
    int64_t lower = 1;
    for (size_t i = 0; i < r.lengths.upper.size(); ++i) {
      const int64_t c = r.lengths.count[i];
      const size_t bar = peak > 0 ? size_t((c * 40 + peak - 1) / peak) : 0;
      char label[64];
      std::snprintf(label, sizeof label, "  %7lld-%-7lld %9s ", (long long)lower, (long long)r.lengths.upper[i],
                    thousands(c).c_str());
      line(std::string(label) + std::string(bar, '#'));
      lower = r.lengths.upper[i] + 1;
    }
  }
  for (const std::string& w : r.warnings) line("warning: " + w);
  return out;
}

}  // namespace scitune
