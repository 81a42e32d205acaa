// Everything `scitune report` shows, read from a run folder (see cmd_train.cc for what `scitune train` writes):
//   train_log.jsonl                 one object per optimizer step and per evaluation
//   train_config.yaml               the run's settings (TRL / PEFT key names)
//   data_report.json | report.json  optional: data preparation report (data/report.h)
//   eval_results.jsonl              optional, here or in eval/: metrics per split and source
//   compare.jsonl                   optional, here or in eval/: base vs fine-tuned answers
// Readers validate and never throw for bad content: a malformed line or file becomes a problem naming
// file:line, the rest is kept, and a missing optional part is simply absent.
#pragma once
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/report.h"

namespace scitune {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// A logged optimizer step; NaN where the log has no value (or null, as a NaN loss is written).
struct StepRow {
  int64_t step = 0;
  double epoch = kNoValue, loss = kNoValue, learning_rate = kNoValue, grad_norm = kNoValue;
  double tokens_per_second = kNoValue, peak_memory_mb = kNoValue;
};

struct EvalResultRow {
  int64_t step = 0;
  double eval_loss = kNoValue, eval_perplexity = kNoValue;
};

// A metric with its 95% interval; NaN when absent.
struct MetricValue {
  double value = kNoValue;
  std::optional<std::pair<double, double>> ci;
};

struct EvalResult {
  std::string split, source;
  int64_t examples = -1;  // -1: not given
  double loss = kNoValue, perplexity = kNoValue;
  MetricValue exact_match, token_f1, rouge_l;
  std::string adapter;  // empty: the base model (null in the file)
};

struct CompareRow {
  std::string question, base, fine_tuned;
  std::optional<std::string> reference;
};

struct RunFolder {
  std::filesystem::path dir;
  bool has_log = false;
  std::vector<StepRow> steps;  // by step; a step logged twice (resumed run) keeps its last line
  std::vector<EvalResultRow> evals;
  std::optional<std::string> config_text;                   // train_config.yaml as written
  std::vector<std::pair<std::string, std::string>> config;  // its top-level keys, values as text
  std::optional<DataReport> data;
  std::string data_file, eval_file, compare_file;  // the files read, for the page
  std::vector<EvalResult> eval_results;
  std::vector<CompareRow> compare;
  std::vector<std::string> problems;  // "file:line: what is wrong", in reading order

  // The config value of a top-level key, or "" when absent.
  std::string config_value(const std::string& key) const;
};

// Throws UserError when dir is not a folder or holds none of the files above; anything else is a problem.
RunFolder read_run_folder(const std::filesystem::path& dir);

}  // namespace scitune
