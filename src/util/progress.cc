#include "util/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace scitune {

namespace {
std::atomic<int> g_verbosity{1};
}

int verbosity() { return g_verbosity.load(); }
void set_verbosity(int level) { g_verbosity.store(level); }
void ProgressBar::set_quiet(bool quiet) { set_verbosity(quiet ? 0 : 1); }
bool ProgressBar::enabled() { return verbosity() > 0 && ::isatty(STDERR_FILENO); }

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

void ProgressBar::update(uint64_t done, const std::string& suffix) {
  done_ = done;
  if (!enabled()) return;
  auto now = std::chrono::steady_clock::now();
  if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(suffix);
}

void ProgressBar::finish(const std::string& suffix) {
  if (finished_) return;
  finished_ = true;
  if (!enabled()) return;
  draw(suffix);
  std::fputc('\n', stderr);
}

void ProgressBar::draw(const std::string& suffix) {
  constexpr int kWidth = 30;
  double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  if (frac > 1) frac = 1;
  int filled = static_cast<int>(frac * kWidth);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = secs > 0 ? static_cast<double>(done_) / secs : 0;
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %llu/%llu %s %.1f%s/s %s\x1b[K", label_.c_str(), bar.c_str(), frac * 100,
               static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_), unit_.c_str(), rate,
               unit_.c_str(), suffix.c_str());
  std::fflush(stderr);
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", v, units[u]);
  return buf;
}

}  // namespace scitune
