// scitune: one binary, many subcommands. Exit codes: 0 ok, 1 user error (one line naming the file/field),
// 2 internal error.
#include <cstdio>
#include <exception>
#include <string_view>

#include "cli/commands.h"
#include "kernels/cpu/blas_threads.h"
#include "util/error.h"
#include "util/progress.h"

#ifndef SCITUNE_VERSION
#define SCITUNE_VERSION "dev"
#endif

namespace {

// The subcommand: the first argument that is not an option (the global options take no values).
std::string_view subcommand(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] != '-') return argv[i];
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  // Only the training commands run oneDNN (bf16 GEMMs); the others skip the re-execution it may need.
  if (const std::string_view sub = subcommand(argc, argv); sub == "train" || sub == "demo")
    scitune::ensure_passive_openmp_threads(argv);
  scitune::stop_idle_blas_threads();  // started again by the first GEMM that wants them
  CLI::App app{"scitune: fine-tune Google Gemma models on science text, locally"};
  app.set_version_flag("--version", "scitune " SCITUNE_VERSION);
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Only errors and results (no progress bars)");
  app.add_flag("-v,--verbose", verbose, "More detail on what is being done");
  app.require_subcommand(1);
  app.fallthrough();
  scitune::cli::register_all(app);
  app.parse_complete_callback([&] { scitune::set_verbosity(quiet ? 0 : verbose ? 2 : 1); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 1;
  } catch (const scitune::UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
