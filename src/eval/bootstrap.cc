// Percentile bootstrap confidence interval of a mean (Efron & Tibshirani 1993, ch. 13), with a resampling
// rule written out in metrics.h so that a seed gives the same interval on every platform and library.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "util/error.h"

namespace scitune {

double percentile_linear(std::span<const double> sorted, double q) {
  SCITUNE_CHECK(!sorted.empty() && q >= 0 && q <= 1, "percentile_linear: empty input or q outside [0, 1]");
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

BootstrapCi bootstrap_ci(std::span<const double> values, int n_resamples, uint64_t seed) {
  if (values.empty()) fail("bootstrap_ci: no values; expected at least one");
  if (n_resamples < 1) fail("bootstrap_ci: n_resamples " + std::to_string(n_resamples) + "; expected >= 1");
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) fail("bootstrap_ci: value " + std::to_string(i) + " is not finite");

  const size_t n = values.size();
  const auto n_double = static_cast<double>(n);
  double sum = 0;
  for (double v : values) sum += v;

  std::mt19937_64 rng(seed);
  std::vector<double> means(static_cast<size_t>(n_resamples));
  for (double& mean : means) {
    double s = 0;
    for (size_t k = 0; k < n; ++k) {
      // Multiply-shift maps a 64-bit draw to [0, n); its bias is below n / 2^64.
      const auto idx = static_cast<size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
      s += values[idx];
    }
    mean = s / n_double;
  }
  std::sort(means.begin(), means.end());
  return {sum / n_double, percentile_linear(means, 0.025), percentile_linear(means, 0.975)};
}

}  // namespace scitune
