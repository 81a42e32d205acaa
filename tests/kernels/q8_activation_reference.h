// The exact value the integer kernels compute for one output: a dequantised weight row · activation row t as
// quantised to Q8_0 (ActivationQ8), summed in double, with the sum of magnitudes for a relative tolerance.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/matvec_vnni.h"

namespace scitune::testing {

struct ExactDot {
  double value = 0, magnitude = 0;
};

inline ExactDot exact_q8_dot(const std::vector<float>& weight_row, const ops::ActivationQ8& act, int64_t t) {
  const int64_t K = act.cols;
  ExactDot out;
  for (int64_t k = 0; k < K; ++k) {
    const double a = static_cast<double>(act.qs[t * K + k]) * act.d[t * (K / 32) + k / 32];
    out.value += weight_row[k] * a;
    out.magnitude += std::fabs(weight_row[k] * a);
  }
  return out;
}

}  // namespace scitune::testing
