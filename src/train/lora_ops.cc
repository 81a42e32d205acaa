#include "train/lora_ops.h"

#include "kernels/cpu/sgemm.h"
#include "util/splitmix.h"

namespace scitune::lora {

namespace {

// drop(x) as a fresh buffer (only when dropout is on).
std::vector<float> dropped(const float* x, int64_t n, const Dropout& d) {
  std::vector<float> out(static_cast<size_t>(n));
  const float s = 1.0f / (1.0f - d.p);
  for (int64_t i = 0; i < n; ++i) out[i] = d.keep(static_cast<uint64_t>(i)) ? x[i] * s : 0.0f;
  return out;
}

}  // namespace

bool Dropout::keep(uint64_t index) const {
  // 24 random bits against the threshold: enough resolution for any practical p.
  return static_cast<float>(splitmix64(seed ^ splitmix64(index)) >> 40) * (1.0f / 16777216.0f) >= p;
}

void forward(float* y, float* u, const float* x, const LoraModule& m, int64_t N, const Dropout& drop) {
  std::vector<float> xd;
  if (drop.p > 0) {
    xd = dropped(x, N * m.in, drop);
    x = xd.data();
  }
  ops::sgemm(false, true, N, m.r, m.in, 1.0f, x, m.in, m.A.data(), m.in, 0.0f, u, m.r);
  ops::sgemm(false, true, N, m.out, m.r, m.scale, u, m.r, m.B.data(), m.r, 1.0f, y, m.out);
}

void backward(float* dx, const float* dy, const float* x, const float* u, LoraModule& m, int64_t N,
              const Dropout& drop) {
  std::vector<float> xd;
  if (drop.p > 0) {
    xd = dropped(x, N * m.in, drop);
    x = xd.data();
  }
  // dB[out, r] += scale · dyᵀ[out, N] · u[N, r]
  ops::sgemm(true, false, m.out, m.r, N, m.scale, dy, m.out, u, m.r, 1.0f, m.dB.data(), m.r);
  // du[N, r] = scale · dy[N, out] · B[out, r]
  std::vector<float> du(static_cast<size_t>(N * m.r));
  ops::sgemm(false, false, N, m.r, m.out, m.scale, dy, m.out, m.B.data(), m.r, 0.0f, du.data(), m.r);
  // dA[r, in] += duᵀ[r, N] · drop(x)[N, in]
  ops::sgemm(true, false, m.r, m.in, N, 1.0f, du.data(), m.r, x, m.in, 1.0f, m.dA.data(), m.in);
  // dx[N, in] += drop'(du · A)
  if (drop.p <= 0) {
    ops::sgemm(false, false, N, m.in, m.r, 1.0f, du.data(), m.r, m.A.data(), m.in, 1.0f, dx, m.in);
    return;
  }
  std::vector<float> dxd(static_cast<size_t>(N * m.in));
  ops::sgemm(false, false, N, m.in, m.r, 1.0f, du.data(), m.r, m.A.data(), m.in, 0.0f, dxd.data(), m.in);
  const float s = 1.0f / (1.0f - drop.p);
  for (int64_t i = 0; i < N * m.in; ++i)
    if (drop.keep(static_cast<uint64_t>(i))) dx[i] += dxd[i] * s;
}

ProjectionHook inference_hook(const LoraAdapter& adapter) {
  return [&adapter](int64_t layer, int proj, const float* x, float* y, int64_t N) {
    const LoraModule* m = adapter.find(layer, static_cast<Proj>(proj));
    if (!m) return;
    thread_local std::vector<float> u;
    u.resize(static_cast<size_t>(N * m->r));
    forward(y, u.data(), x, *m, N, Dropout{});
  };
}

}  // namespace scitune::lora
