// Plain scalar references for ops.h: obviously correct loops, no threads, no SIMD.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/ops.h"

namespace scitune::ops::ref {

void matmul_nt(float* y, const float* x, const float* w, int64_t T, int64_t K, int64_t N, bool accumulate) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n) {
      double acc = accumulate ? y[t * N + n] : 0.0;
      for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(x[t * K + k]) * w[n * K + k];
      y[t * N + n] = static_cast<float>(acc);
    }
}

void rmsnorm(float* y, float* rstd, const float* x, const float* gain, int64_t T, int64_t C, float eps) {
  for (int64_t t = 0; t < T; ++t) {
    double ss = 0;
    for (int64_t c = 0; c < C; ++c) ss += static_cast<double>(x[t * C + c]) * x[t * C + c];
    float r = static_cast<float>(1.0 / std::sqrt(ss / C + eps));
    if (rstd) rstd[t] = r;
    for (int64_t c = 0; c < C; ++c) y[t * C + c] = x[t * C + c] * r * gain[c];
  }
}

void rope_neox(float* x, const int32_t* pos, const float* inv_freq, int64_t T, int64_t heads, int64_t D) {
  const int64_t half = D / 2;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * D;
      for (int64_t i = 0; i < half; ++i) {
        float angle = static_cast<float>(pos[t]) * inv_freq[i];
        float c = std::cos(angle), s = std::sin(angle);
        float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
      }
    }
}

void geglu(float* out, const float* gate, const float* up, int64_t n) {
  constexpr double kAlpha = 0.7978845608028654;  // sqrt(2/pi)
  for (int64_t i = 0; i < n; ++i) {
    double g = gate[i];
    double gelu = 0.5 * g * (1.0 + std::tanh(kAlpha * (g + 0.044715 * g * g * g)));
    out[i] = static_cast<float>(gelu * up[i]);
  }
}

void attention(float* out, float* probs, const float* q, const float* k, const float* v, int64_t T, int64_t H,
               int64_t G, int64_t D, float scale, int64_t window, int64_t valid_len, float softcap) {
  const int64_t group = H / G;
  std::vector<double> s(T);
  for (int64_t h = 0; h < H; ++h) {
    const int64_t g = h / group;
    for (int64_t t = 0; t < T; ++t) {
      float* o = out + (t * H + h) * D;
      float* p = probs ? probs + (h * T + t) * T : nullptr;
      if (p) std::fill(p, p + T, 0.0f);
      std::fill(o, o + D, 0.0f);
      if (t >= valid_len) continue;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j <= t; ++j) {
        bool allowed = j < valid_len && (window <= 0 || j > t - window);
        if (!allowed) {
          s[j] = -std::numeric_limits<double>::infinity();
          continue;
        }
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += static_cast<double>(q[(t * H + h) * D + d]) * k[(j * G + g) * D + d];
        dot *= scale;
        if (softcap > 0) dot = softcap * std::tanh(dot / softcap);
        s[j] = dot;
        mx = std::max(mx, dot);
      }
      double sum = 0;
      for (int64_t j = 0; j <= t; ++j) sum += (s[j] = std::exp(s[j] - mx));
      for (int64_t j = 0; j <= t; ++j) {
        double pj = s[j] / sum;
        if (p) p[j] = static_cast<float>(pj);
        for (int64_t d = 0; d < D; ++d) o[d] += static_cast<float>(pj * v[(j * G + g) * D + d]);
      }
    }
  }
}

}  // namespace scitune::ops::ref
