// `scitune report RUN_DIR`: one self-contained HTML page about a training run (report/run_report.h): summary,
// loss and learning-rate curves, evaluation results, base vs fine-tuned answers, the data report and the
// configuration. Lines it cannot read are listed on the page and as warnings here; they never stop the page.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "report/run_report.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct ReportOptions {
  std::string run_dir, out;
  bool force = false;
};

void run_report(const ReportOptions& o) {
  // The default page lives in the run folder and belongs to this command, so it is replaced; a page written
  // anywhere else is the user's file and is kept unless --force.
  const std::filesystem::path out =
      o.out.empty() ? std::filesystem::path(o.run_dir) / "report.html" : std::filesystem::path(o.out);
  const Overwrite overwrite = o.out.empty() || o.force ? Overwrite::kYes : Overwrite::kNo;
  const auto problems = write_run_report(o.run_dir, out, overwrite);
  for (const std::string& p : problems) std::fprintf(stderr, "warning: %s\n", p.c_str());
  if (verbosity() > 0) std::printf("wrote %s\n", out.c_str());
}

}  // namespace

void register_report(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand("report", "Write an HTML page about a training run (curves, metrics, answers)");
  cmd->add_option("RUN_DIR", o->run_dir, "Run folder of scitune train (train_log.jsonl, train_config.yaml, ...)")
      ->required();
  cmd->add_option("--out", o->out, "HTML file to write (default: RUN_DIR/report.html)");
  cmd->add_flag("--force", o->force, "Replace --out if it exists");
  cmd->callback([o] { run_report(*o); });
}

}  // namespace scitune::cli
