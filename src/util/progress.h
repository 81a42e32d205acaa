// Progress bar for long work: redraws one line on a terminal, prints nothing when stderr is piped
// (or when quiet). Thread-compatible, not thread-safe: update from one thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace scitune {

class ProgressBar {
 public:
  ProgressBar(std::string label, uint64_t total, std::string unit = "");
  ~ProgressBar();
  void update(uint64_t done, const std::string& suffix = "");
  void add(uint64_t n) { update(done_ + n); }
  void finish(const std::string& suffix = "");
  // Whether bars draw at all (stderr is a tty and not quiet).
  static bool enabled();
  static void set_quiet(bool quiet);

 private:
  void draw(const std::string& suffix);
  std::string label_, unit_;
  uint64_t total_, done_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1.23 GiB", "512 B": byte counts for people.
std::string human_bytes(uint64_t n);

// Verbosity shared by the CLI and log lines: 0 quiet, 1 normal, 2 verbose.
int verbosity();
void set_verbosity(int level);

}  // namespace scitune
