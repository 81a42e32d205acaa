// Each subcommand lives in its own cmd_<name>.cc and registers itself on the CLI11 app here.
// A command's callback throws UserError for bad input; main() turns that into exit code 1.
#pragma once
#include <CLI/CLI.hpp>

namespace scitune::cli {

void register_demo(CLI::App& app);
void register_train(CLI::App& app);
void register_generate(CLI::App& app);
void register_chat(CLI::App& app);
void register_perplexity(CLI::App& app);
void register_inspect(CLI::App& app);
void register_init(CLI::App& app);
void register_score(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_chat_template(CLI::App& app);
void register_data(CLI::App& app);
void register_export(CLI::App& app);
void register_eval(CLI::App& app);
void register_compare(CLI::App& app);
void register_papers(CLI::App& app);
void register_papers_fetch(CLI::App* papers);
void register_papers_parse(CLI::App* papers);
void register_papers_corpus(CLI::App* papers);  // chunk, report
void register_report(CLI::App& app);

// All commands, in the order `scitune --help` lists them.
inline void register_all(CLI::App& app) {
  register_demo(app);
  register_train(app);
  register_generate(app);
  register_chat(app);
  register_inspect(app);
  register_init(app);
  register_score(app);
  register_perplexity(app);
  register_eval(app);
  register_compare(app);
  register_export(app);
  register_report(app);
  register_data(app);
  register_papers(app);
  register_tokenize(app);
  register_chat_template(app);
}

}  // namespace scitune::cli
