// The HTML of the run report (declared in run_report.h). Sections appear only when their part of the run folder
// was there; every piece of text from the folder goes through html_escape.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "report/html_text.h"
#include "report/run_report.h"
#include "report/svg_chart.h"

namespace scitune {

namespace {

namespace fs = std::filesystem;

constexpr size_t kSeriesPoints = 1200;    // longer logs are thinned for the charts (min/max per bucket)
constexpr size_t kMarkersUpTo = 60;       // dots on the training curve for short runs
constexpr size_t kMaxAnswers = 100;       // rows of the side-by-side table
constexpr size_t kMaxAnswerChars = 4000;  // per cell
constexpr const char* kTrainColor = "#1f77b4";
constexpr const char* kEvalColor = "#e4572e";

constexpr const char* kCss = R"css(
body{margin:0;background:#f5f6f8;color:#1d1f23;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:34px 0 12px;padding-bottom:6px;border-bottom:1px solid #d8dbe0}
h3{font-size:15px;margin:20px 0 8px}
p.sub{color:#596069;margin:0}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid #e0e3e8;border-radius:6px;padding:9px 12px}
.card .k{color:#596069;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}
.card .d{color:#596069;font-size:12px}
table{border-collapse:collapse;background:#fff;font-size:14px;margin:6px 0;max-width:100%}
td code{overflow-wrap:anywhere}
th,td{border:1px solid #e0e3e8;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:210px;background:#f7f8fa;font-weight:500;color:#3b4048}
.ci{color:#69707a;font-size:12px}
.charts{display:flex;flex-wrap:wrap;align-items:flex-start;gap:14px;margin:10px 0}
svg.chart{background:#fff;border:1px solid #e0e3e8;border-radius:6px;max-width:100%;height:auto}
.problems{background:#fff7e0;border:1px solid #eec15e;border-radius:6px;padding:8px 16px;margin:16px 0}
.problems li{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;overflow-wrap:anywhere}
.answers td{white-space:pre-wrap;overflow-wrap:anywhere;width:25%}
pre{background:#fff;border:1px solid #e0e3e8;border-radius:6px;padding:12px 14px;overflow:auto}
.muted{color:#69707a}
footer{color:#69707a;margin-top:40px;font-size:13px}
)css";

std::string esc(const std::string& s) { return html_escape(s); }

bool finite(double v) { return std::isfinite(v); }

std::string td_num(const std::string& s) { return "<td class=\"n\">" + s + "</td>"; }
std::string td(const std::string& escaped) { return "<td>" + escaped + "</td>"; }

std::string card(const std::string& key, const std::string& value, const std::string& detail = "") {
  return "<div class=\"card\"><div class=\"k\">" + esc(key) + "</div><div class=\"v\">" + esc(value) + "</div>" +
         (detail.empty() ? "" : "<div class=\"d\">" + esc(detail) + "</div>") + "</div>\n";
}

// Rows of (name, value) with the empty values left out.
std::string kv_table(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string out = "<table class=\"kv\">\n";
  for (const auto& [k, v] : rows)
    if (!v.empty()) out += "<tr><th>" + esc(k) + "</th><td>" + esc(v) + "</td></tr>\n";
  return out + "</table>\n";
}

std::string run_name(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string name = p.filename().string();
  return name.empty() || name == "." ? fs::absolute(dir).lexically_normal().filename().string() : name;
}

// ---- summary ----

std::string setup_section(const RunFolder& run) {
  if (run.config.empty()) return "";
  auto v = [&](const char* k) { return run.config_value(k); };
  std::string lora;
  if (!v("r").empty()) {
    lora = "r " + v("r") + ", alpha " + v("lora_alpha");
    if (!v("lora_dropout").empty()) lora += ", dropout " + v("lora_dropout");
    if (v("use_rslora") == "true") lora += ", rsLoRA";
  }
  std::string lr = v("learning_rate");
  if (!lr.empty() && !v("lr_scheduler_type").empty()) lr += " (" + v("lr_scheduler_type") + ")";
  std::string warmup;
  if (!v("warmup_steps").empty() && v("warmup_steps") != "0")
    warmup = v("warmup_steps") + " steps";
  else if (!v("warmup_ratio").empty() && v("warmup_ratio") != "0")
    warmup = "ratio " + v("warmup_ratio");
  std::string batch = v("per_device_train_batch_size");
  if (!batch.empty() && !v("gradient_accumulation_steps").empty() && v("gradient_accumulation_steps") != "1")
    batch += " x " + v("gradient_accumulation_steps") + " accumulation steps";
  std::string length = v("max_steps");
  length = !length.empty() && length != "-1" ? length + " steps" : "";
  if (!v("num_train_epochs").empty() && length.empty()) length = v("num_train_epochs") + " epochs";
  std::string quant = v("quant");
  if (quant == "none") quant = "none (LoRA on the base weights as stored)";
  return "<h3>Setup</h3>\n" + kv_table({{"model", v("model")},
                                        {"data", v("data")},
                                        {"data format", v("data_format")},
                                        {"LoRA", lora},
                                        {"target modules", v("target_modules")},
                                        {"base quantisation", quant},
                                        {"learning rate", lr},
                                        {"warmup", warmup},
                                        {"batch size", batch},
                                        {"length", length},
                                        {"max sequence length", v("max_seq_length")},
                                        {"validation split", v("validation_split")},
                                        {"seed", v("seed")}});
}

std::string results_cards(const RunFolder& run) {
  std::string out;
  if (!run.steps.empty()) {
    const StepRow& last = run.steps.back();
    out += card("steps logged", thousands(last.step), finite(last.epoch) ? "epoch " + fixed(last.epoch, 2) : "");
    const StepRow* first_loss = nullptr;
    const StepRow* best = nullptr;
    for (const StepRow& s : run.steps)
      if (finite(s.loss)) {
        if (!first_loss) first_loss = &s;
        if (!best || s.loss < best->loss) best = &s;
      }
    if (first_loss) {
      out += card("final train loss", fixed(last.loss, 4), "first " + fixed(first_loss->loss, 4));
      out += card("lowest train loss", fixed(best->loss, 4), "at step " + thousands(best->step));
    }
    double tps = 0, mem = 0;
    size_t n_tps = 0;
    for (const StepRow& s : run.steps) {
      if (finite(s.tokens_per_second)) tps += s.tokens_per_second, ++n_tps;
      if (finite(s.peak_memory_mb)) mem = std::max(mem, s.peak_memory_mb);
    }
    if (n_tps) out += card("throughput", short_number(tps / double(n_tps), 3) + " tokens/s", "mean over steps");
    if (mem > 0) out += card("peak memory", thousands(std::llround(mem)) + " MB", "highest step");
  } else if (run.has_log) {
    out += card("steps logged", "0", "the log holds no training step");
  }
  const EvalResultRow* best = nullptr;
  for (const EvalResultRow& e : run.evals)
    if (finite(e.eval_loss) && (!best || e.eval_loss < best->eval_loss)) best = &e;
  if (!run.evals.empty()) {
    const EvalResultRow& last = run.evals.back();
    out += card("final validation loss", fixed(last.eval_loss, 4),
                "step " + thousands(last.step) + ", perplexity " + short_number(last.eval_perplexity, 4));
  }
  if (best)
    out += card("best validation loss", fixed(best->eval_loss, 4),
                "step " + thousands(best->step) + ", perplexity " + short_number(best->eval_perplexity, 4));
  return out.empty() ? "" : "<div class=\"cards\">\n" + out + "</div>\n";
}

// ---- training curves ----

ChartSeries step_series(const RunFolder& run, const char* name, const char* color, double StepRow::*field) {
  ChartSeries s{name, color, {}, {}, false};
  for (const StepRow& r : run.steps) {
    s.x.push_back(double(r.step));
    s.y.push_back(r.*field);
  }
  thin_series(s.x, s.y, kSeriesPoints);
  s.markers = s.x.size() <= kMarkersUpTo;
  return s;
}

bool any_finite(const ChartSeries& s) { return std::any_of(s.y.begin(), s.y.end(), finite); }

std::string training_section(const RunFolder& run) {
  std::string charts;
  ChartSeries train = step_series(run, "train loss", kTrainColor, &StepRow::loss);
  ChartSeries eval{"validation loss", kEvalColor, {}, {}, true};
  for (const EvalResultRow& e : run.evals) {
    eval.x.push_back(double(e.step));
    eval.y.push_back(e.eval_loss);
  }
  thin_series(eval.x, eval.y, kSeriesPoints);
  LineChart loss{"Loss", "optimizer step", "loss", {}, true, 1120, 340};
  if (any_finite(train)) loss.series.push_back(train);
  if (any_finite(eval)) loss.series.push_back(eval);
  if (loss.series.size() == 1) loss.title = loss.series[0].name == "train loss" ? "Training loss" : "Validation loss";
  if (!loss.series.empty()) charts += render_line_chart(loss);
  struct Small {
    const char* title;
    const char* y_label;
    const char* color;
    double StepRow::*field;
  };
  for (const Small& m : {Small{"Learning rate", "learning rate", "#6a51a3", &StepRow::learning_rate},
                         Small{"Gradient norm (before clipping)", "L2 norm", "#2a9d8f", &StepRow::grad_norm},
                         Small{"Throughput", "tokens / second", "#e9a23b", &StepRow::tokens_per_second},
                         Small{"Peak memory", "MB", "#7f7f7f", &StepRow::peak_memory_mb}}) {
    ChartSeries s = step_series(run, m.title, m.color, m.field);
    if (!any_finite(s)) continue;
    charts += render_line_chart({m.title, "optimizer step", m.y_label, {s}, true, 553, 250});
  }
  if (charts.empty())
    return run.has_log ? "<h2>Training</h2>\n<p class=\"muted\">The log holds no step yet.</p>\n" : "";
  return "<h2>Training</h2>\n<div class=\"charts\">\n" + charts + "</div>\n";
}

// ---- evaluation ----

std::string metric_cell(const MetricValue& m) {
  if (!finite(m.value)) return td_num("<span class=\"muted\">\xE2\x80\x93</span>");
  std::string s = fixed(m.value, 3);
  if (m.ci) s += " <span class=\"ci\">[" + fixed(m.ci->first, 3) + ", " + fixed(m.ci->second, 3) + "]</span>";
  return td_num(s);
}

std::string eval_section(const RunFolder& run) {
  if (run.eval_results.empty()) return "";
  bool has_loss = false, has_ppl = false, has_em = false, has_f1 = false, has_rl = false, has_examples = false;
  for (const EvalResult& r : run.eval_results) {
    has_loss |= finite(r.loss);
    has_ppl |= finite(r.perplexity);
    has_em |= finite(r.exact_match.value);
    has_f1 |= finite(r.token_f1.value);
    has_rl |= finite(r.rouge_l.value);
    has_examples |= r.examples >= 0;
  }
  std::string out = "<h2>Evaluation</h2>\n<p class=\"sub\">From <code>" + esc(run.eval_file) +
                    "</code>; brackets: 95% interval.</p>\n<table class=\"eval\">\n<tr><th>split</th><th>source</th>";
  if (has_examples) out += "<th>examples</th>";
  if (has_loss) out += "<th>loss</th>";
  if (has_ppl) out += "<th>perplexity</th>";
  if (has_em) out += "<th>exact match</th>";
  if (has_f1) out += "<th>token F1</th>";
  if (has_rl) out += "<th>ROUGE-L</th>";
  out += "<th>model</th></tr>\n";
  for (const EvalResult& r : run.eval_results) {
    out += "<tr>" + td(esc(r.split)) + td(esc(r.source));
    if (has_examples) out += td_num(r.examples >= 0 ? thousands(r.examples) : "\xE2\x80\x93");
    if (has_loss) out += td_num(fixed(r.loss, 4));
    if (has_ppl) out += td_num(short_number(r.perplexity, 4));
    if (has_em) out += metric_cell(r.exact_match);
    if (has_f1) out += metric_cell(r.token_f1);
    if (has_rl) out += metric_cell(r.rouge_l);
    out += td(r.adapter.empty() ? "base" : "adapter <code>" + esc(r.adapter) + "</code>") + "</tr>\n";
  }
  return out + "</table>\n";
}

std::string answers_section(const RunFolder& run) {
  if (run.compare.empty()) return "";
  const bool has_ref =
      std::any_of(run.compare.begin(), run.compare.end(), [](const CompareRow& r) { return r.reference.has_value(); });
  const size_t shown = std::min(run.compare.size(), kMaxAnswers);
  std::string out =
      "<h2>Answers: base vs fine-tuned</h2>\n<p class=\"sub\">From <code>" + esc(run.compare_file) + "</code>";
  if (shown < run.compare.size())
    out += ", the first " + thousands(int64_t(shown)) + " of " + thousands(int64_t(run.compare.size()));
  out += ".</p>\n<table class=\"answers\">\n<tr><th>question</th><th>base model</th><th>fine-tuned</th>";
  if (has_ref) out += "<th>reference</th>";
  out += "</tr>\n";
  auto cell = [](const std::string& s) { return td(esc(truncate_utf8(s, kMaxAnswerChars))); };
  for (size_t i = 0; i < shown; ++i) {
    const CompareRow& r = run.compare[i];
    out += "<tr>" + cell(r.question) + cell(r.base) + cell(r.fine_tuned);
    if (has_ref) out += r.reference ? cell(*r.reference) : td("");
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

// ---- data ----

std::string data_section(const RunFolder& run) {
  if (!run.data) return "";
  const DataReport& d = *run.data;
  std::string out = "<h2>Data</h2>\n<p class=\"sub\">From <code>" + esc(run.data_file) + "</code>.</p>\n";
  out += kv_table({{"tokenizer", d.tokenizer},
                   {"chat format", d.chat_format},
                   {"max sequence length",
                    d.max_seq_length > 0 ? thousands(d.max_seq_length) + " (" + d.overlong + ")" : "no limit"},
                   {"seed", std::to_string(d.seed)},
                   {"lengths", d.lengths.count.empty() ? ""
                                                       : thousands(d.lengths.min) + " to " + thousands(d.lengths.max) +
                                                             " tokens, mean " + fixed(d.lengths.mean, 1)}});
  out += "<h3>Splits</h3>\n<table><tr><th>split</th><th>examples</th><th>tokens</th><th>trained tokens</th></tr>\n";
  auto split_row = [&](const char* name, const SplitReport& s) {
    out += "<tr>" + td(name) + td_num(thousands(s.examples)) + td_num(thousands(s.tokens)) +
           td_num(thousands(s.trained_tokens)) + "</tr>\n";
  };
  split_row("train", d.train);
  split_row("validation", d.validation);
  if (d.holdout.examples > 0) split_row("holdout (evaluation only)", d.holdout);
  out += "</table>\n";
  if (!d.sources.empty()) {
    // The "filtered" column only when --filter-dataset left records out.
    bool filtered = false;
    for (const SourceReport& s : d.sources) filtered = filtered || s.filtered > 0;
    out += "<h3>Sources</h3>\n<table><tr><th>source</th><th>format</th><th>layout</th><th>records</th>" +
           std::string(filtered ? "<th>filtered out</th>" : "") +
           "<th>kept</th><th>rejected</th><th>truncated</th><th>tokens</th><th>trained tokens</th></tr>\n";
    for (const SourceReport& s : d.sources)
      out += "<tr>" + td("<code>" + esc(s.path) + "</code>") + td(esc(s.format)) + td(esc(s.layout)) +
             td_num(thousands(s.records)) + (filtered ? td_num(thousands(s.filtered)) : std::string()) +
             td_num(thousands(s.kept)) + td_num(thousands(s.rejected)) + td_num(thousands(s.truncated)) +
             td_num(thousands(s.tokens)) + td_num(thousands(s.trained_tokens)) + "</tr>\n";
    out += "</table>\n";
  }
  std::string charts;
  if (!d.lengths.count.empty()) {
    HistogramChart h{
        "Example lengths", "tokens per example (bins double in width)", "examples", {0}, {}, "#4c78a8", 553, 260};
    for (size_t i = 0; i < d.lengths.upper.size(); ++i) {
      h.edges.push_back(double(d.lengths.upper[i]));
      h.counts.push_back(double(d.lengths.count[i]));
    }
    charts += render_histogram(h);
  }
  if (!d.sources.empty()) {
    // File names are enough unless two sources share one.
    std::set<std::string> names;
    for (const SourceReport& s : d.sources) names.insert(fs::path(s.path).filename().string());
    const bool short_names = names.size() == d.sources.size();
    BarChart examples{"Examples kept per source", "examples", {}, {}, "#4c78a8", 553};
    BarChart tokens{"Tokens per source", "tokens (after truncation)", {}, {}, "#59a14f", 553};
    for (const SourceReport& s : d.sources) {
      const std::string label = short_names ? fs::path(s.path).filename().string() : s.path;
      examples.labels.push_back(label);
      examples.values.push_back(double(s.kept));
      tokens.labels.push_back(label);
      tokens.values.push_back(double(s.tokens));
    }
    charts += render_bar_chart(examples) + render_bar_chart(tokens);
  }
  if (!charts.empty()) out += "<div class=\"charts\">\n" + charts + "</div>\n";
  const auto kinds = d.rejected_by_kind();
  if (!kinds.empty()) {
    out += "<h3>Rejected records</h3>\n<table><tr><th>reason</th><th>records</th></tr>\n";
    for (const auto& [kind, n] : kinds) out += "<tr>" + td(esc(kind)) + td_num(thousands(n)) + "</tr>\n";
    out += "</table>\n<ul>\n";
    for (const SourceReport& s : d.sources)
      for (const std::string& m : s.first_rejects) out += "<li><code>" + esc(m) + "</code></li>\n";
    out += "</ul>\n";
  }
  if (!d.warnings.empty()) {
    out += "<h3>Warnings</h3>\n<ul>\n";
    for (const std::string& w : d.warnings) out += "<li>" + esc(w) + "</li>\n";
    out += "</ul>\n";
  }
  return out;
}

}  // namespace

std::string render_run_report(const RunFolder& run) {
  const std::string name = run_name(run.dir);
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"scitune " +
      esc(scitune_version()) +
      "\">\n"
      "<title>scitune run report: " +
      esc(name) + "</title>\n<style>" + kCss +
      "</style>\n</head>\n"
      "<body>\n<main>\n<h1>Run report: " +
      esc(name) + "</h1>\n<p class=\"sub\">Run folder <code>" + esc(run.dir.string()) + "</code> &middot; scitune " +
      esc(scitune_version()) + "</p>\n";
  if (!run.problems.empty()) {
    out +=
        "<div class=\"problems\" id=\"problems\"><strong>Problems while reading the run folder</strong> "
        "(those lines or files are left out of this page):\n<ul>\n";
    for (const std::string& p : run.problems) out += "<li>" + esc(p) + "</li>\n";
    out += "</ul></div>\n";
  }
  const std::string setup = setup_section(run), results = results_cards(run);
  if (!setup.empty() || !results.empty()) out += "<h2>Summary</h2>\n" + results + setup;
  out += training_section(run);
  out += eval_section(run);
  out += answers_section(run);
  out += data_section(run);
  if (run.config_text)
    out += "<h2>Configuration</h2>\n<p class=\"sub\"><code>train_config.yaml</code> as written by the run.</p>\n<pre>" +
           esc(*run.config_text) + "</pre>\n";
  out += "<footer>Made by scitune " + esc(scitune_version()) +
         " (<code>scitune report</code>). Self-contained: no scripts, no external resources.</footer>\n"
         "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace scitune
