// The run report: fixture run folders written here (normal, with eval + compare + data report, malformed lines,
// empty log) and the page checked for its contract: charts with one point per logged value, escaped text,
// missing parts left out, problems named by file:line, deterministic bytes, no scripts or external URLs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "report/html_text.h"
#include "report/run_report.h"
#include "report/svg_chart.h"
#include "util/error.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

class RunDir {
 public:
  RunDir() {
    static int n = 0;
    dir_ = fs::temp_directory_path() / ("scitune_report_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~RunDir() { fs::remove_all(dir_); }
  const fs::path& path() const { return dir_; }
  void write(const std::string& name, const std::string& text) const {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

 private:
  fs::path dir_;
};

std::string step_line(int step, double loss) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"epoch\":%.3f,\"grad_norm\":%.3f,\"learning_rate\":%.6g,\"loss\":%.4f,\"peak_memory_mb\":%.1f,"
                "\"step\":%d,\"tokens_per_second\":%.1f}\n",
                step / 40.0, 2.5 + 0.1 * step, 1e-3 * (1 - step / 20.0), loss, 650 + step * 3.0, step,
                130 + step * 1.0);
  return buf;
}

const char* kConfig =
    "model: build/real.gguf\ndata:\n  - data/demo/science_qa.jsonl\nlearning_rate: 0.001\nlr_scheduler_type: linear\n"
    "max_steps: 12\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 1\nr: 8\nlora_alpha: 16\n"
    "target_modules:\n  - q_proj\n  - v_proj\nseed: 42\n";

void write_normal_run(const RunDir& d, int steps = 6) {
  std::string log;
  for (int s = 1; s <= steps; ++s) {
    log += step_line(s, 4.0 - 0.25 * s);
    if (s % 3 == 0)
      log += "{\"eval_loss\":" + std::to_string(3.5 - 0.2 * s) +
             ",\"eval_perplexity\":" + std::to_string(std::exp(3.5 - 0.2 * s)) + ",\"step\":" + std::to_string(s) +
             "}\n";
  }
  d.write("train_log.jsonl", log);
  d.write("train_config.yaml", kConfig);
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

// The d attribute of the path of the series named `name`, and its declared point count (-1: no such series).
// Plain string search: std::regex recurses per character and overflows the stack on long paths.
std::pair<std::string, int> series(const std::string& page, const std::string& name) {
  const std::string head = "<g class=\"series\" data-series=\"" + html_escape(name) + "\" data-points=\"";
  size_t p = page.find(head);
  if (p == std::string::npos) return {"", -1};
  p += head.size();
  const int n = std::stoi(page.substr(p, page.find('"', p) - p));
  const std::string path = "\">\n<path d=\"";
  p = page.find('"', p);
  if (page.compare(p, path.size(), path) != 0) return {"", n};
  p += path.size();
  return {page.substr(p, page.find('"', p) - p), n};
}

int path_points(const std::string& d) { return int(count(d, "M") + count(d, "L")); }

void expect_self_contained(const std::string& page) {
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(count(page, "http://"), count(page, "xmlns=\"http://www.w3.org/2000/svg\""));  // namespaces only
  EXPECT_NE(page.find("<style>"), std::string::npos);
  EXPECT_NE(page.find("scitune " + std::string(scitune_version())), std::string::npos);
}

TEST(RunReport, NormalRunHasSummaryChartsAndConfig) {
  RunDir d;
  write_normal_run(d);
  const RunFolder run = read_run_folder(d.path());
  EXPECT_TRUE(run.problems.empty());
  ASSERT_EQ(run.steps.size(), 6u);
  ASSERT_EQ(run.evals.size(), 2u);
  EXPECT_EQ(run.config_value("model"), "build/real.gguf");
  EXPECT_EQ(run.config_value("target_modules"), "q_proj, v_proj");
  const std::string page = render_run_report(run);
  expect_self_contained(page);

  auto [train_d, train_n] = series(page, "train loss");
  EXPECT_EQ(train_n, 6);
  EXPECT_EQ(path_points(train_d), 6);
  auto [eval_d, eval_n] = series(page, "validation loss");
  EXPECT_EQ(eval_n, 2);
  EXPECT_EQ(path_points(eval_d), 2);
  EXPECT_NE(page.find("class=\"legend\""), std::string::npos);
  for (const char* title : {"Learning rate", "Gradient norm (before clipping)", "Throughput", "Peak memory"}) {
    auto [sd, sn] = series(page, title);
    EXPECT_EQ(sn, 6) << title;
  }
  EXPECT_EQ(count(page, "<svg "), 5u);
  EXPECT_NE(page.find("<th>model</th><td>build/real.gguf</td>"), std::string::npos);
  EXPECT_NE(page.find("r 8, alpha 16"), std::string::npos);
  EXPECT_NE(page.find("<h2>Configuration</h2>"), std::string::npos);
  EXPECT_NE(page.find("lr_scheduler_type: linear"), std::string::npos);
  EXPECT_NE(page.find("best validation loss"), std::string::npos);
  // Parts the folder does not have are left out, and nothing is reported as wrong.
  for (const char* absent : {"<h2>Evaluation", "<h2>Answers", "<h2>Data", "class=\"problems\""})
    EXPECT_EQ(page.find(absent), std::string::npos) << absent;
  EXPECT_EQ(render_run_report(read_run_folder(d.path())), page);  // deterministic
}

TEST(RunReport, EvalResultsCompareAndDataReport) {
  RunDir d;
  write_normal_run(d);
  d.write("eval/eval_results.jsonl",
          "{\"split\":\"validation\",\"source\":\"all\",\"examples\":40,\"loss\":1.25,\"perplexity\":3.49,"
          "\"exact_match\":0.412,\"exact_match_ci\":[0.35,0.474],\"token_f1\":0.6,\"token_f1_ci\":[0.5,0.7],"
          "\"adapter\":\"run/adapter\"}\n"
          "{\"split\":\"validation\",\"source\":\"all\",\"examples\":40,\"loss\":2.5,\"adapter\":null}\n");
  d.write("compare.jsonl",
          "{\"question\":\"Is 2 < 3 & 3 > 2?\",\"base\":\"<script>alert('x')</script>\",\"fine_tuned\":\"Yes.\","
          "\"reference\":\"Yes \\\"both\\\"\"}\n"
          "{\"question\":\"What is H2O?\",\"base\":\"bad utf8 \\u00e9\",\"fine_tuned\":\"Water.\"}\n");
  d.write("data_report.json",
          R"({"tokenizer":"tok.json","chat_format":"gemma","max_seq_length":1024,"overlong":"truncate","seed":42,
              "sources":[{"path":"data/a.jsonl","format":"jsonl","layout":"messages","requested":-1,"records":10,
                          "valid":9,"examined":9,"kept":8,"rejected":2,"rejected_by_kind":{"empty":1,"layout":1},
                          "first_rejects":["a.jsonl:3: no <assistant> turn"],"truncated":1,"tokens":900,
                          "trained_tokens":400},
                         {"path":"data/b.jsonl","format":"jsonl","layout":"qa","requested":-1,"records":5,
                          "filtered":3,"valid":5,"examined":5,"kept":5,"rejected":0,"rejected_by_kind":{},"first_rejects":[],
                          "truncated":0,"tokens":300,"trained_tokens":100}],
              "train":{"examples":12,"tokens":1100,"trained_tokens":460},
              "validation":{"examples":1,"tokens":100,"trained_tokens":40},
              "lengths":{"upper":[64,128,256],"count":[5,7,1],"min":20,"max":200,"mean":92.3},
              "totals":{},"warnings":["few examples"]})");
  const RunFolder run = read_run_folder(d.path());
  EXPECT_TRUE(run.problems.empty()) << run.problems.front();
  ASSERT_EQ(run.eval_results.size(), 2u);
  ASSERT_EQ(run.compare.size(), 2u);
  ASSERT_TRUE(run.data.has_value());
  const std::string page = render_run_report(run);
  expect_self_contained(page);

  EXPECT_NE(page.find("<h2>Evaluation</h2>"), std::string::npos);
  EXPECT_NE(page.find("0.412 <span class=\"ci\">[0.350, 0.474]</span>"), std::string::npos);
  EXPECT_NE(page.find("<th>token F1</th>"), std::string::npos);
  EXPECT_EQ(page.find("<th>ROUGE-L</th>"), std::string::npos);  // no row has it
  EXPECT_NE(page.find("adapter <code>run/adapter</code>"), std::string::npos);
  EXPECT_NE(page.find("<td>base</td>"), std::string::npos);

  EXPECT_NE(page.find("<h2>Answers: base vs fine-tuned</h2>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("Is 2 &lt; 3 &amp; 3 &gt; 2?"), std::string::npos);
  EXPECT_NE(page.find("Yes &quot;both&quot;"), std::string::npos);
  EXPECT_EQ(page.find("<script>"), std::string::npos);

  EXPECT_NE(page.find("<h2>Data</h2>"), std::string::npos);
  EXPECT_NE(page.find("class=\"chart histogram\""), std::string::npos);
  EXPECT_NE(page.find("<g class=\"series\" data-bars=\"3\">"), std::string::npos);  // the histogram
  EXPECT_EQ(count(page, "<g class=\"series\" data-bars=\"2\">"), 2u);               // examples and tokens per source
  EXPECT_NE(page.find("no &lt;assistant&gt; turn"), std::string::npos);
  EXPECT_NE(page.find("few examples"), std::string::npos);
  EXPECT_NE(page.find("<th>filtered out</th>"), std::string::npos);  // --filter-dataset left 3 of b.jsonl out
  EXPECT_NE(page.find("<td class=\"n\">3</td><td class=\"n\">5</td>"), std::string::npos);  // filtered, kept
}

TEST(RunReport, MalformedLinesAreNamedAndSkipped) {
  RunDir d;
  d.write("train_log.jsonl", step_line(1, 3.0) +                          // 1 ok
                                 "not json\n" +                           // 2
                                 "[1, 2]\n" +                             // 3
                                 "{\"loss\": 1.0}\n" +                    // 4 no step
                                 "{\"step\": \"x\", \"loss\": 1}\n" +     // 5
                                 "\n" +                                   // blank: fine
                                 "{\"step\": 3, \"loss\": \"high\"}\n" +  // 7
                                 "{\"step\": 4}\n" +                      // 8 neither kind
                                 step_line(2, 2.5) +                      // 9 ok
                                 "{\"step\": 3, \"loss\": null}\n" +      // 10: NaN loss, a gap, not an error
                                 step_line(4, 2.0) +                      // 11
                                 "{\"step\":2,\"eval_loss\":2.7,\"eval_perplexity\":14.9}");  // no final newline
  d.write("train_config.yaml", "model: [unclosed\n");
  d.write("eval_results.jsonl",
          "{\"split\":\"validation\",\"exact_match\":0.5,\"exact_match_ci\":[0.6,0.4]}\n"
          "{\"source\":\"all\"}\n{\"split\":\"test\",\"examples\":3}\n");
  d.write("compare.jsonl", "{\"question\":\"q\",\"base\":1,\"fine_tuned\":\"b\"}\n");
  d.write("report.json", "{\"tokenizer\": \"t\"}");
  const RunFolder run = read_run_folder(d.path());
  const std::string log = (d.path() / "train_log.jsonl").string();
  std::string all;
  for (const auto& p : run.problems) all += p + "\n";
  for (int line : {2, 3, 4, 5, 7, 8})
    EXPECT_NE(all.find(log + ":" + std::to_string(line) + ": "), std::string::npos) << line << "\n" << all;
  EXPECT_EQ(all.find(log + ":6:"), std::string::npos);
  EXPECT_EQ(all.find(log + ":10:"), std::string::npos);
  EXPECT_NE(all.find("train_config.yaml:"), std::string::npos) << all;
  EXPECT_NE(all.find("eval_results.jsonl:1: \"exact_match_ci\": low"), std::string::npos) << all;
  EXPECT_NE(all.find("eval_results.jsonl:2: missing \"split\""), std::string::npos) << all;
  EXPECT_NE(all.find("compare.jsonl:1: \"base\""), std::string::npos) << all;
  EXPECT_NE(all.find("report.json: missing"), std::string::npos) << all;
  EXPECT_EQ(run.problems.size(), 11u) << all;

  ASSERT_EQ(run.steps.size(), 4u);  // steps 1, 2, 3 (NaN loss), 4
  EXPECT_TRUE(std::isnan(run.steps[2].loss));
  EXPECT_EQ(run.eval_results.size(), 1u);
  EXPECT_TRUE(run.compare.empty());
  EXPECT_FALSE(run.data.has_value());
  const std::string page = render_run_report(run);
  expect_self_contained(page);
  EXPECT_NE(page.find("class=\"problems\""), std::string::npos);
  EXPECT_NE(page.find(html_escape(log) + ":2: invalid JSON"), std::string::npos);
  auto [train_d, train_n] = series(page, "train loss");
  EXPECT_EQ(train_n, 3);
  EXPECT_EQ(count(train_d, "M"), 2u);  // the NaN step breaks the line
  EXPECT_EQ(series(page, "validation loss").second, 1);
  EXPECT_EQ(page.find("<h2>Answers"), std::string::npos);
  EXPECT_EQ(page.find("<h2>Data"), std::string::npos);
  EXPECT_NE(page.find("model: [unclosed"), std::string::npos);  // the configuration is still shown as written
}

TEST(RunReport, EmptyLogAndResumedSteps) {
  RunDir d;
  d.write("train_log.jsonl", "");
  d.write("train_config.yaml", kConfig);
  RunFolder run = read_run_folder(d.path());
  EXPECT_TRUE(run.problems.empty());
  std::string page = render_run_report(run);
  expect_self_contained(page);
  EXPECT_EQ(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("The log holds no step yet."), std::string::npos);

  // A resumed run logs steps again; the last line of a step wins.
  d.write("train_log.jsonl",
          step_line(1, 3.0) + step_line(2, 2.9) + step_line(3, 2.8) + step_line(2, 1.5) + step_line(3, 1.4));
  run = read_run_folder(d.path());
  ASSERT_EQ(run.steps.size(), 3u);
  EXPECT_DOUBLE_EQ(run.steps[1].loss, 1.5);
  EXPECT_DOUBLE_EQ(run.steps[2].loss, 1.4);
}

TEST(RunReport, LongLogsAreThinnedKeepingSpikes) {
  RunDir d;
  std::string log;
  for (int s = 1; s <= 5000; ++s) log += step_line(s, s == 2345 ? 9.0 : 2.0 + 1.0 / s);
  d.write("train_log.jsonl", log);
  const std::string page = render_run_report(read_run_folder(d.path()));
  auto [train_d, train_n] = series(page, "train loss");
  EXPECT_LE(train_n, 1200);
  EXPECT_GE(train_n, 500);                             // flat stretches give one point per bucket
  EXPECT_EQ(page.find("<circle"), std::string::npos);  // no markers on long series
  // The spike survives: the y axis reaches 9 (a tick label of 9 or 10).
  EXPECT_TRUE(page.find(">10</text>") != std::string::npos || page.find(">9</text>") != std::string::npos);
}

TEST(RunReport, NotARunFolderIsAUserError) {
  RunDir d;
  EXPECT_THROW(read_run_folder(d.path()), UserError);  // empty folder
  EXPECT_THROW(read_run_folder(d.path() / "missing"), UserError);
  d.write("train_log.jsonl", step_line(1, 2.0));
  const fs::path out = d.path() / "report.html";
  EXPECT_TRUE(write_run_report(d.path()).empty());  // default place
  EXPECT_TRUE(fs::exists(out));
  EXPECT_NO_THROW(write_run_report(d.path()));  // its own page is replaced
  EXPECT_THROW(write_run_report(d.path(), out, Overwrite::kNo), UserError);
}

TEST(SvgChart, NiceAxesAndLabels) {
  Axis a = nice_axis(0.83, 4.08, 6, false);
  EXPECT_LE(a.lo, 0.83);
  EXPECT_GE(a.hi, 4.08);
  EXPECT_LE(a.ticks.size(), 6u);
  EXPECT_EQ(tick_label(0.5, 0.5, 4), "0.5");
  EXPECT_EQ(tick_label(2, 1, 12), "2");
  EXPECT_EQ(tick_label(25000, 5000, 25000), "25,000");
  EXPECT_EQ(tick_label(1.5e-4, 5e-5, 2e-4), "1.5e-4");
  EXPECT_EQ(tick_label(1e-3, 2e-4, 1e-3), "1.0e-3");
  EXPECT_EQ(tick_label(5e-5, 5e-5, 2e-4), "5.0e-5");  // the same decimals along one axis
  a = nice_axis(7, 7, 5, true);                       // one value: still an axis with integer ticks around it
  EXPECT_LT(a.lo, 7);
  EXPECT_GT(a.hi, 7);
  for (double t : a.ticks) EXPECT_EQ(t, std::floor(t));
  a = nice_axis(1, 3, 10, true);
  EXPECT_EQ(a.step, 1);
}

TEST(SvgChart, XTickLabelsNeverOverlap) {
  for (double x_max : {12.0, 997.0, 123457.0, 9.87e6}) {
    ChartSeries s{"s", "#000", {1, x_max}, {1e-4, 2e-4}, false};
    const std::string svg = render_line_chart({"t", "step", "lr", {s}, true, 300, 200});
    // Tick labels of the x axis are the middle-anchored texts on one baseline below the plot.
    const std::regex re("<text x=\"([0-9.]+)\" y=\"([0-9.]+)\" text-anchor=\"middle\">([^<]*)</text>");
    std::vector<std::pair<double, std::string>> row;
    double row_y = -1;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it) {
      const double y = std::stod((*it)[2].str());
      if (row_y < 0) row_y = y;
      if (y == row_y) row.emplace_back(std::stod((*it)[1].str()), (*it)[3].str());
    }
    ASSERT_GE(row.size(), 2u) << svg;
    for (size_t i = 1; i < row.size(); ++i) {
      const double gap = row[i].first - row[i - 1].first;
      EXPECT_GE(gap, (text_width(row[i].second, 12) + text_width(row[i - 1].second, 12)) / 2 + 4)
          << x_max << ": " << row[i - 1].second << " | " << row[i].second;
    }
    EXPECT_LE(row.back().first + text_width(row.back().second, 12) / 2, 300.0) << x_max;
  }
}

TEST(HtmlText, EscapesAndRepairs) {
  EXPECT_EQ(html_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(html_escape("bad \xFF\xC3 end"), "bad \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(html_escape(std::string("a\0b\x1b", 4) + "\tc\n"), "ab\tc\n");
  EXPECT_EQ(truncate_utf8("h\xC3\xA9llo", 2), "h\xC3\xA9\xE2\x80\xA6");
  EXPECT_EQ(truncate_utf8("short", 10), "short");
  EXPECT_EQ(thousands(-1234567), "-1,234,567");
  EXPECT_EQ(short_number(0.000123), "1.23e-4");
  EXPECT_EQ(short_number(651.06), "651");
  EXPECT_EQ(short_number(0.0009996), "1.00e-3");
}

}  // namespace
}  // namespace scitune
