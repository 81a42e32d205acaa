// `scitune papers parse DIR|FILE... --out corpus.jsonl`: PDFs -> one PaperDocument per line (papers/corpus.h):
// text in reading order, cleaned, with metadata, page offsets and sections. Files are read on --jobs threads; a
// file that cannot be read (encrypted, no text layer, malformed, truncated) is still a record, with the reason
// as its status, and is listed in the summary. Exit code 1 when any file failed; the others are written.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "papers/corpus.h"
#include "papers/parse.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

struct ParseArgs {
  std::vector<std::string> inputs;
  std::string out;
  bool drop_references = false, force = false;
  int jobs = 0;
  int64_t max_pages = 10000;
};

void run_parse(const ParseArgs& a) {
  if (a.jobs < 0) fail("--jobs " + std::to_string(a.jobs) + ": expected 0 (all cores) or more");
  if (a.max_pages < 1) fail("--max-pages " + std::to_string(a.max_pages) + ": expected 1 or more");
  if (!a.force && std::filesystem::exists(a.out)) fail(a.out + ": already exists (pass --force to replace it)");
  const std::vector<std::filesystem::path> files = collect_pdf_inputs(a.inputs);
  ParseOptions o;
  o.drop_references = a.drop_references;
  o.jobs = a.jobs;
  o.read.max_pages = a.max_pages;
  ProgressBar bar("parse", files.size(), "files");
  size_t done = 0;
  const std::vector<PaperDocument> docs =
      parse_pdf_files(files, o, [&](size_t, const PaperDocument&) { bar.update(++done); });
  bar.finish();
  write_corpus(a.out, docs, a.force);

  int64_t pages = 0, words = 0;
  size_t failed = 0;
  std::string out;
  char line[64];
  if (verbosity() > 0) out += "  pages    words  status         file\n";
  for (const PaperDocument& d : docs) {
    const int64_t w = d.words();
    pages += d.pages, words += w;
    if (!d.ok()) ++failed;
    if (verbosity() > 0) {
      std::snprintf(line, sizeof line, "%7lld %8lld  %-13s  ", static_cast<long long>(d.pages),
                    static_cast<long long>(w), d.status.c_str());
      out += line + d.file + "\n";
      for (const std::string& p : d.problems) out += "                                 " + p + "\n";
    }
  }
  out += "parsed " + std::to_string(docs.size()) + " file(s): " + std::to_string(docs.size() - failed) + " ok, " +
         std::to_string(failed) + " failed, " + std::to_string(pages) + " pages, " + std::to_string(words) +
         " words; wrote " + a.out + "\n";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  if (failed > 0)
    fail(std::to_string(failed) + " of " + std::to_string(docs.size()) +
         " file(s) could not be parsed (status above; their records in " + a.out + " say why)");
}

}  // namespace

void register_papers_parse(CLI::App* papers) {
  auto a = std::make_shared<ParseArgs>();
  CLI::App* cmd = papers->add_subcommand("parse", "PDFs to corpus.jsonl: text in reading order, metadata, sections");
  cmd->add_option("INPUTS", a->inputs, "PDF files, or folders searched for *.pdf")->required();
  cmd->add_option("--out", a->out, "Corpus to write, one document per line (JSON Lines)")->required();
  cmd->add_flag("--drop-references", a->drop_references, "Leave the reference list out of the text");
  cmd->add_option("--jobs", a->jobs, "Files read at once (default: all cores)");
  cmd->add_option("--max-pages", a->max_pages, "Pages read per file; the rest are reported (default 10000)");
  cmd->add_flag("--force", a->force, "Replace --out if it exists");
  cmd->callback([a] { run_parse(*a); });
}

}  // namespace scitune::cli
