#include "report/run_report.h"

#include "util/error.h"

#ifndef SCITUNE_VERSION
#define SCITUNE_VERSION "dev"
#endif

namespace scitune {

const char* scitune_version() { return SCITUNE_VERSION; }

std::vector<std::string> write_run_report(const std::filesystem::path& run_dir, const std::filesystem::path& out_html,
                                          Overwrite overwrite) {
  const std::filesystem::path out = out_html.empty() ? run_dir / "report.html" : out_html;
  if (overwrite == Overwrite::kNo && std::filesystem::exists(out))  // before reading, not after
    fail(out.string() + ": already exists (refusing to overwrite; pass --force to replace it)");
  const RunFolder run = read_run_folder(run_dir);
  write_file_atomic(out, render_run_report(run), overwrite);
  return run.problems;
}

}  // namespace scitune
