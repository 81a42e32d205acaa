// Opt-in wall-clock profile of named phases (SCITUNE_PROFILE=1): where a training step's time goes, without a
// sampling profiler (which cannot see a core left idle by a single-threaded phase). Off: one branch per scope.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace scitune::profile {

bool enabled();
void add(const char* phase, double seconds);
// "phase  seconds  share" lines, largest first; then clears the totals.
std::string report_and_reset();

class Scope {
 public:
  explicit Scope(const char* phase) : phase_(enabled() ? phase : nullptr) {
    if (phase_) t0_ = std::chrono::steady_clock::now();
  }
  ~Scope() {
    if (phase_) add(phase_, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const char* phase_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace scitune::profile
