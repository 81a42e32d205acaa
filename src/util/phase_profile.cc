#include "util/phase_profile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace scitune::profile {

namespace {
std::mutex mu;
std::map<std::string, double>& totals() {
  static std::map<std::string, double> t;
  return t;
}
}  // namespace

bool enabled() {
  static const bool on = [] {
    const char* e = std::getenv("SCITUNE_PROFILE");
    return e && *e && std::string(e) != "0";
  }();
  return on;
}

void add(const char* phase, double seconds) {
  std::lock_guard<std::mutex> lock(mu);
  totals()[phase] += seconds;
}

std::string report_and_reset() {
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::pair<std::string, double>> rows(totals().begin(), totals().end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  double sum = 0;
  for (const auto& r : rows) sum += r.second;
  std::string out;
  char line[160];
  for (const auto& [name, s] : rows) {
    std::snprintf(line, sizeof line, "%-28s %9.3f s %6.1f%%\n", name.c_str(), s, sum > 0 ? 100.0 * s / sum : 0.0);
    out += line;
  }
  totals().clear();
  return out;
}

}  // namespace scitune::profile
