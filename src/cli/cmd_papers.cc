// `scitune papers`: from research PDFs to a corpus a model can train on and retrieval can index —
// fetch (download), parse (text, metadata, sections), chunk (datasets by paper), report (HTML with charts and
// word clouds). Each subcommand lives in its own cmd_papers_<name>.cc and is added here.
#include "cli/commands.h"

namespace scitune::cli {

void register_papers(CLI::App& app) {
  CLI::App* papers = app.add_subcommand("papers", "Research PDFs to a corpus: fetch, parse, chunk, report");
  papers->require_subcommand(1);
  // subcommands:
  register_papers_fetch(papers);
  register_papers_parse(papers);
  register_papers_corpus(papers);
}

}  // namespace scitune::cli
