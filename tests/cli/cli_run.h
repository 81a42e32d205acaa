// Runs the scitune binary as a user would, capturing stdout and stderr together, for the CLI tests.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace scitune::testing {

struct CliRun {
  int rc;
  std::string out;  // stdout and stderr together
};

inline CliRun run_cli(const std::string& args) {
  FILE* p = popen((std::string(SCITUNE_BIN) + " " + args + " 2>&1").c_str(), "r");
  CliRun r{-1, ""};
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace scitune::testing
