// Training kernels at Gemma 3 270m shapes: the fused LM head + cross-entropy (N rows, C = 640, V = 262144, tied
// fp32 embedding) and attention backward for one sequence (T = 512, H = 4, G = 1, D = 256) next to its forward.
// Threads: SCITUNE_THREADS (element-wise parts) and OPENBLAS_NUM_THREADS (GEMMs), e.g.
//   SCITUNE_THREADS=2 OPENBLAS_NUM_THREADS=2 backward_bench --benchmark_filter=LmHead
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/blas_threads.h"
#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/lm_head_loss.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/ops_backward.h"
#include "util/half.h"
#include "util/phase_profile.h"

namespace scitune {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

constexpr int64_t kC = 640, kV = 262144;

const std::vector<float>& embedding() {
  static const std::vector<float> e = randn(static_cast<size_t>(kV * kC), 1, 0.03f);  // 640 MiB
  return e;
}

// Arg 0: rows N; arg 1: 1 = forward + backward, 0 = forward (loss) only.
void BM_LmHeadCE(benchmark::State& state) {
  const int64_t N = state.range(0);
  const bool backward = state.range(1) != 0;
  const auto& embed = embedding();
  const auto hidden = randn(static_cast<size_t>(N * kC), 2, 1.0f);
  std::vector<int32_t> targets(N);
  std::mt19937 rng(3);
  for (auto& t : targets) t = static_cast<int32_t>(rng() % kV);
  std::vector<float> dh(static_cast<size_t>(N * kC));
  for (auto _ : state) {
    double loss = ops::lm_head_ce_forward_backward(backward ? dh.data() : nullptr, hidden.data(), embed.data(),
                                                   targets.data(), N, kC, kV, 0.0f, 1.0f / N, nullptr);
    benchmark::DoNotOptimize(loss);
  }
  // GEMM work: 2*N*V*C flops per product, one product forward, one more backward.
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(backward ? 4 : 2) * N * kV * kC * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LmHeadCE)->Args({512, 1})->Args({512, 0})->Unit(benchmark::kMillisecond)->UseRealTime();

// The same with the embedding in bf16 (widened to fp32 chunk by chunk, twice per block of rows).
void BM_LmHeadCEBf16(benchmark::State& state) {
  const int64_t N = state.range(0);
  static const std::vector<uint16_t> embed = [] {
    std::vector<uint16_t> e(embedding().size());
    for (size_t i = 0; i < e.size(); ++i) e[i] = fp32_to_bf16(embedding()[i]);
    return e;
  }();
  const auto hidden = randn(static_cast<size_t>(N * kC), 2, 1.0f);
  std::vector<int32_t> targets(N);
  std::mt19937 rng(3);
  for (auto& t : targets) t = static_cast<int32_t>(rng() % kV);
  std::vector<float> dh(static_cast<size_t>(N * kC));
  for (auto _ : state) {
    double loss = ops::lm_head_ce_forward_backward_bf16(dh.data(), hidden.data(), embed.data(), targets.data(), N, kC,
                                                        kV, 0.0f, 1.0f / N, nullptr);
    benchmark::DoNotOptimize(loss);
  }
}
BENCHMARK(BM_LmHeadCEBf16)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();

// bf16 GEMMs (TRL bf16: AVX512-BF16 through oneDNN) on a bf16 embedding read in place, as a bf16 training step
// runs it (OpenBLAS single-threaded meanwhile).
void BM_LmHeadCEBf16Gemm(benchmark::State& state) {
  if (!ops::bf16_gemm_available()) return state.SkipWithError("no AVX512-BF16");
  const int64_t N = state.range(0);
  static const std::vector<uint16_t> embed = [] {
    std::vector<uint16_t> e(embedding().size());
    for (size_t i = 0; i < e.size(); ++i) e[i] = fp32_to_bf16(embedding()[i]);
    return e;
  }();
  const WeightMatrix w{GgmlType::BF16, reinterpret_cast<const uint8_t*>(embed.data()), kV, kC};
  const auto hidden = randn(static_cast<size_t>(N * kC), 2, 1.0f);
  std::vector<int32_t> targets(N);
  std::mt19937 rng(3);
  for (auto& t : targets) t = static_cast<int32_t>(rng() % kV);
  std::vector<float> dh(static_cast<size_t>(N * kC));
  SingleThreadedBlasScope blas(true);
  profile::report_and_reset();
  for (auto _ : state) {
    double loss = ops::lm_head_ce_forward_backward(dh.data(), hidden.data(), w, targets.data(), N, 0.0f, 1.0f / N,
                                                   nullptr, /*bf16=*/true);
    benchmark::DoNotOptimize(loss);
  }
  if (profile::enabled()) std::fprintf(stderr, "%s", profile::report_and_reset().c_str());
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * N * kV * kC * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LmHeadCEBf16Gemm)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();

struct Attn {
  int64_t T = 512, H = 4, G = 1, D = 256;
  std::vector<float> q, k, v, out, probs, dout, dq, dk, dv;
  Attn() {
    q = randn(T * H * D, 4, 1.0f);
    k = randn(T * G * D, 5, 1.0f);
    v = randn(T * G * D, 6, 1.0f);
    dout = randn(T * H * D, 7, 1.0f);
    out.resize(T * H * D);
    probs.resize(H * T * T);
    dq.resize(T * H * D);
    dk.resize(T * G * D);
    dv.resize(T * G * D);
  }
};

// Arg: sliding window (0 = global).
void BM_AttentionForward(benchmark::State& state) {
  Attn a;
  for (auto _ : state)
    ops::attention(a.out.data(), a.probs.data(), a.q.data(), a.k.data(), a.v.data(), a.T, a.H, a.G, a.D, 0.0625f,
                   state.range(0), a.T, 0.0f);
}
BENCHMARK(BM_AttentionForward)->Arg(0)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AttentionBackward(benchmark::State& state) {
  Attn a;
  const int64_t window = state.range(0);
  ops::attention(a.out.data(), a.probs.data(), a.q.data(), a.k.data(), a.v.data(), a.T, a.H, a.G, a.D, 0.0625f, window,
                 a.T, 0.0f);
  for (auto _ : state)
    ops::attention_backward(a.dq.data(), a.dk.data(), a.dv.data(), a.dout.data(), a.probs.data(), a.q.data(),
                            a.k.data(), a.v.data(), a.T, a.H, a.G, a.D, 0.0625f, window, a.T, 0.0f);
}
BENCHMARK(BM_AttentionBackward)->Arg(0)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AttentionBackwardReference(benchmark::State& state) {
  Attn a;
  ops::attention(a.out.data(), a.probs.data(), a.q.data(), a.k.data(), a.v.data(), a.T, a.H, a.G, a.D, 0.0625f, 0, a.T,
                 0.0f);
  for (auto _ : state)
    ops::ref::attention_backward(a.dq.data(), a.dk.data(), a.dv.data(), a.dout.data(), a.probs.data(), a.q.data(),
                                 a.k.data(), a.v.data(), a.T, a.H, a.G, a.D, 0.0625f, 0, a.T, 0.0f);
}
BENCHMARK(BM_AttentionBackwardReference)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
}  // namespace scitune

BENCHMARK_MAIN();
