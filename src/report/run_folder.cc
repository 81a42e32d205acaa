#include "report/run_folder.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string_view>

#include "io/json_limits.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr JsonLimits kLineLimits{16, 1 << 20};  // one log line: shallow, at most 1 MiB
constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr size_t kMaxProblems = 100;  // then one line counting the rest

class Problems {
 public:
  explicit Problems(std::vector<std::string>& out) : out_(out) {}
  void finish() {
    if (dropped_) out_.push_back("... and " + std::to_string(dropped_) + " more problems");
    dropped_ = 0;
  }
  void add(std::string msg) {
    if (out_.size() < kMaxProblems)
      out_.push_back(std::move(msg));
    else
      ++dropped_;
  }

 private:
  std::vector<std::string>& out_;
  size_t dropped_ = 0;
};

// Calls fn(where, text) for every non-blank line, where = "path:line"; a UserError from fn becomes a problem and
// the next line is read.
template <class Fn>
void for_each_line(const fs::path& path, Problems& problems, Fn&& fn) {
  MappedFile file(path);
  const std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = path.string() + ":" + std::to_string(line_no);
    try {
      fn(where, line);
    } catch (const UserError& e) {
      problems.add(e.what());
    }
  }
}

json parse_object_line(std::string_view line, const std::string& where) {
  json j = parse_json_strict(line, where, kLineLimits);
  if (!j.is_object()) fail(where + ": expected a JSON object, found " + std::string(json_type_name(j)));
  return j;
}

// NaN when absent or null; UserError when present with another type.
double number_or_none(const json& j, const char* key, const std::string& where) {
  const json* v = json_find(j, key);
  return v ? json_number(*v, where + ": \"" + key + "\"") : kNoValue;
}

std::string string_or_empty(const json& j, const char* key, const std::string& where) {
  const json* v = json_find(j, key);
  return v ? json_string(*v, where + ": \"" + key + "\"") : std::string();
}

std::string required_string(const json& j, const char* key, const std::string& where) {
  const json* v = json_find(j, key);
  if (!v) fail(where + ": missing \"" + std::string(key) + "\"");
  return json_string(*v, where + ": \"" + key + "\"");
}

MetricValue metric(const json& j, const std::string& key, const std::string& where) {
  MetricValue m;
  m.value = number_or_none(j, key.c_str(), where);
  const std::string ci_key = key + "_ci";
  if (const json* ci = json_find(j, ci_key)) {
    const std::string field = where + ": \"" + ci_key + "\"";
    const json& a = json_array(*ci, field);
    if (a.size() != 2) fail(field + ": expected [low, high], found " + std::to_string(a.size()) + " numbers");
    const double lo = json_number(a[0], field), hi = json_number(a[1], field);
    if (lo > hi) fail(field + ": low " + std::to_string(lo) + " is above high " + std::to_string(hi));
    m.ci = std::make_pair(lo, hi);
  }
  return m;
}

void read_log(const fs::path& path, RunFolder& run, Problems& problems) {
  for_each_line(path, problems, [&](const std::string& where, std::string_view line) {
    const json j = parse_object_line(line, where);
    const json* step = json_find(j, "step");
    if (!step) fail(where + ": missing \"step\"");
    const int64_t s = json_int(*step, where + ": \"step\"");
    if (s < 0) fail(where + ": \"step\" is " + std::to_string(s) + ", expected >= 0");
    if (json_find(j, "eval_loss", /*null_is_absent=*/false)) {
      run.evals.push_back({s, number_or_none(j, "eval_loss", where), number_or_none(j, "eval_perplexity", where)});
      return;
    }
    StepRow r;
    r.step = s;
    r.epoch = number_or_none(j, "epoch", where);
    r.loss = number_or_none(j, "loss", where);
    r.learning_rate = number_or_none(j, "learning_rate", where);
    r.grad_norm = number_or_none(j, "grad_norm", where);
    r.tokens_per_second = number_or_none(j, "tokens_per_second", where);
    r.peak_memory_mb = number_or_none(j, "peak_memory_mb", where);
    if (!json_find(j, "loss", false) && !json_find(j, "learning_rate", false))
      fail(where + ": neither \"loss\" (a training step) nor \"eval_loss\" (an evaluation)");
    run.steps.push_back(r);
  });
  // A resumed run may log a step again: the last line wins, as it does for the adapter.
  auto by_step = [](const auto& a, const auto& b) { return a.step < b.step; };
  auto keep_last = [&](auto& rows) {
    std::stable_sort(rows.begin(), rows.end(), by_step);
    std::reverse(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.step == b.step; }),
               rows.end());
    std::reverse(rows.begin(), rows.end());
  };
  keep_last(run.steps);
  keep_last(run.evals);
}

std::string yaml_text(const YAML::Node& n) {
  if (n.IsNull()) return "";
  if (n.IsScalar()) return n.Scalar();
  if (n.IsSequence()) {
    bool scalars = true;
    for (const auto& x : n) scalars = scalars && x.IsScalar();
    if (scalars) {
      std::string out;
      for (const auto& x : n) out += (out.empty() ? "" : ", ") + x.Scalar();
      return out;
    }
  }
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

void read_config(const fs::path& path, RunFolder& run, Problems& problems) {
  MappedFile file(path);
  if (file.size() > kMaxConfigBytes)
    fail(path.string() + ": " + std::to_string(file.size()) + " bytes, more than the " +
         std::to_string(kMaxConfigBytes) + " a run configuration may have");
  run.config_text = std::string(reinterpret_cast<const char*>(file.data()), file.size());
  try {
    const YAML::Node root = YAML::Load(*run.config_text);
    if (root.IsNull()) return;
    if (!root.IsMap()) fail(path.string() + ": expected a mapping of settings at the top level");
    for (const auto& kv : root) run.config.emplace_back(kv.first.as<std::string>(), yaml_text(kv.second));
  } catch (const YAML::Exception& e) {
    problems.add(path.string() + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
}

void read_eval_results(const fs::path& path, RunFolder& run, Problems& problems) {
  for_each_line(path, problems, [&](const std::string& where, std::string_view line) {
    const json j = parse_object_line(line, where);
    EvalResult r;
    r.split = required_string(j, "split", where);
    r.source = string_or_empty(j, "source", where);
    if (r.source.empty()) r.source = "all";
    if (const json* n = json_find(j, "examples")) {
      r.examples = json_int(*n, where + ": \"examples\"");
      if (r.examples < 0) fail(where + ": \"examples\" is negative");
    }
    r.loss = number_or_none(j, "loss", where);
    r.perplexity = number_or_none(j, "perplexity", where);
    r.exact_match = metric(j, "exact_match", where);
    r.token_f1 = metric(j, "token_f1", where);
    r.rouge_l = metric(j, "rouge_l", where);
    r.adapter = string_or_empty(j, "adapter", where);
    run.eval_results.push_back(std::move(r));
  });
}

void read_compare(const fs::path& path, RunFolder& run, Problems& problems) {
  for_each_line(path, problems, [&](const std::string& where, std::string_view line) {
    const json j = parse_object_line(line, where);
    CompareRow r;
    r.question = required_string(j, "question", where);
    r.base = required_string(j, "base", where);
    r.fine_tuned = required_string(j, "fine_tuned", where);
    if (const json* ref = json_find(j, "reference")) r.reference = json_string(*ref, where + ": \"reference\"");
    run.compare.push_back(std::move(r));
  });
}

// The first of the candidate paths that exists (as anything: a folder there is reported when read).
std::optional<fs::path> first_existing(std::initializer_list<fs::path> candidates) {
  for (const fs::path& p : candidates) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(p, ec)) || fs::exists(p, ec)) return p;
  }
  return std::nullopt;
}

}  // namespace

std::string RunFolder::config_value(const std::string& key) const {
  for (const auto& [k, v] : config)
    if (k == key) return v;
  return "";
}

RunFolder read_run_folder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir.string() + ": not a folder (expected a run folder from scitune train)");
  RunFolder run;
  run.dir = dir;
  const auto log = first_existing({dir / "train_log.jsonl"});
  const auto config = first_existing({dir / "train_config.yaml"});
  const auto data = first_existing({dir / "data_report.json", dir / "report.json"});
  const auto eval = first_existing({dir / "eval_results.jsonl", dir / "eval" / "eval_results.jsonl"});
  const auto compare = first_existing({dir / "compare.jsonl", dir / "eval" / "compare.jsonl"});
  if (!log && !config && !eval && !compare)
    fail(dir.string() + ": no train_log.jsonl, train_config.yaml, eval_results.jsonl or compare.jsonl " +
         "(expected a run folder from scitune train)");
  Problems problems(run.problems);
  auto guarded = [&](const std::optional<fs::path>& path, auto&& read) {
    if (!path) return;
    try {
      read(*path);
    } catch (const UserError& e) {
      problems.add(e.what());
    }
  };
  guarded(log, [&](const fs::path& p) {
    run.has_log = true;
    read_log(p, run, problems);
  });
  guarded(config, [&](const fs::path& p) { read_config(p, run, problems); });
  guarded(data, [&](const fs::path& p) {
    run.data = report_from_json(read_json_file(p), p.string());
    run.data_file = p.string();
  });
  guarded(eval, [&](const fs::path& p) {
    read_eval_results(p, run, problems);
    run.eval_file = p.string();
  });
  guarded(compare, [&](const fs::path& p) {
    read_compare(p, run, problems);
    run.compare_file = p.string();
  });
  problems.finish();
  return run;
}

}  // namespace scitune
