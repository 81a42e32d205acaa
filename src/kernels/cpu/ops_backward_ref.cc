// Plain scalar references for ops_backward.h: obviously correct loops in double, no threads, no SIMD.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/ops_backward.h"

namespace scitune::ops::ref {

void rmsnorm_backward(float* dx, float* dgain, const float* dy, const float* x, const float* rstd, const float* gain,
                      int64_t T, int64_t C) {
  std::vector<double> dg(dgain ? C : 0, 0.0);
  for (int64_t t = 0; t < T; ++t) {
    const double r = rstd[t];
    double dot = 0;  // sum_c gain*dy*x
    for (int64_t c = 0; c < C; ++c) dot += static_cast<double>(gain[c]) * dy[t * C + c] * x[t * C + c];
    if (dgain)
      for (int64_t c = 0; c < C; ++c) dg[c] += static_cast<double>(dy[t * C + c]) * x[t * C + c] * r;
    const double k = r * r * r * dot / static_cast<double>(C);
    for (int64_t c = 0; c < C; ++c) {
      const double xc = x[t * C + c];
      dx[t * C + c] = static_cast<float>(r * gain[c] * dy[t * C + c] - xc * k);
    }
  }
  for (size_t c = 0; c < dg.size(); ++c) dgain[c] += static_cast<float>(dg[c]);
}

void rope_neox_backward(float* dx, const int32_t* pos, const float* inv_freq, int64_t T, int64_t heads, int64_t D) {
  const int64_t half = D / 2;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      float* v = dx + (t * heads + h) * D;
      for (int64_t i = 0; i < half; ++i) {
        const float angle = static_cast<float>(pos[t]) * inv_freq[i];  // the forward's angle, bit for bit
        const double c = std::cos(angle), s = std::sin(angle);
        const double a = v[i], b = v[i + half];
        v[i] = static_cast<float>(a * c + b * s);
        v[i + half] = static_cast<float>(b * c - a * s);
      }
    }
}

void geglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  constexpr double kAlpha = 0.7978845608028654;  // sqrt(2/pi)
  constexpr double kBeta = 0.044715;
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i], u = up[i], d = dout[i];
    const double th = std::tanh(kAlpha * (g + kBeta * g * g * g));
    const double gelu = 0.5 * g * (1.0 + th);
    const double dgelu = 0.5 * (1.0 + th) + 0.5 * g * (1.0 - th * th) * kAlpha * (1.0 + 3.0 * kBeta * g * g);
    dgate[i] = static_cast<float>(d * u * dgelu);
    dup[i] = static_cast<float>(d * gelu);
  }
}

void softcap_backward(float* dx, const float* dy, const float* y, int64_t n, float c) {
  for (int64_t i = 0; i < n; ++i) {
    const double r = static_cast<double>(y[i]) / c;
    dx[i] = static_cast<float>(dy[i] * (1.0 - r * r));
  }
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                        const float* k, const float* v, int64_t T, int64_t H, int64_t G, int64_t D, float scale,
                        int64_t window, int64_t valid_len, float softcap) {
  const int64_t group = H / G;
  std::vector<double> gq(T * H * D, 0.0), gk(T * G * D, 0.0), gv(T * G * D, 0.0), dp(T);
  for (int64_t h = 0; h < H; ++h) {
    const int64_t g = h / group;
    for (int64_t t = 0; t < T && t < valid_len; ++t) {
      const float* p = probs + (h * T + t) * T;
      const float* dot = dout + (t * H + h) * D;
      double rowdot = 0;  // sum_j p_j dp_j
      for (int64_t j = 0; j <= t; ++j) {
        double acc = 0;
        for (int64_t d = 0; d < D; ++d) acc += static_cast<double>(dot[d]) * v[(j * G + g) * D + d];
        dp[j] = acc;
        rowdot += p[j] * acc;
      }
      for (int64_t j = 0; j <= t; ++j) {
        const bool allowed = j < valid_len && (window <= 0 || j > t - window);
        if (!allowed) continue;
        for (int64_t d = 0; d < D; ++d) gv[(j * G + g) * D + d] += p[j] * static_cast<double>(dot[d]);
        double ds = p[j] * (dp[j] - rowdot);  // through the softmax
        if (softcap > 0) {
          double s = 0;
          for (int64_t d = 0; d < D; ++d) s += static_cast<double>(q[(t * H + h) * D + d]) * k[(j * G + g) * D + d];
          const double th = std::tanh(s * scale / softcap);
          ds *= 1.0 - th * th;
        }
        ds *= scale;
        for (int64_t d = 0; d < D; ++d) {
          gq[(t * H + h) * D + d] += ds * k[(j * G + g) * D + d];
          gk[(j * G + g) * D + d] += ds * q[(t * H + h) * D + d];
        }
      }
    }
  }
  for (size_t i = 0; i < gq.size(); ++i) dq[i] = static_cast<float>(gq[i]);
  for (size_t i = 0; i < gk.size(); ++i) dk[i] = static_cast<float>(gk[i]);
  for (size_t i = 0; i < gv.size(); ++i) dv[i] = static_cast<float>(gv[i]);
}

}  // namespace scitune::ops::ref
