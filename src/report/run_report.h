// `scitune report`: one self-contained HTML page (inline CSS and SVG, no scripts, no external URLs) about a run
// folder: summary, training curves, evaluation results with 95% intervals, base vs fine-tuned answers, the data
// report and the full configuration. Problems found while reading (malformed lines, ...) are listed on the page.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "report/run_folder.h"
#include "util/atomic_file.h"

namespace scitune {

// The scitune version written on the page.
const char* scitune_version();

// The page for a run folder already read. Deterministic: the same folder gives the same bytes.
std::string render_run_report(const RunFolder& run);

// Reads run_dir, renders the page and writes it atomically to out_html (empty: RUN_DIR/report.html).
// Returns the problems found, which the page also lists. UserError when run_dir is not a run folder, or
// out_html exists and overwrite is kNo.
std::vector<std::string> write_run_report(const std::filesystem::path& run_dir,
                                          const std::filesystem::path& out_html = {},
                                          Overwrite overwrite = Overwrite::kYes);

}  // namespace scitune
