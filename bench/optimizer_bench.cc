// Optimizer step time and state memory: adamw_torch (fp32 moments) vs adamw_8bit (bitsandbytes' block-wise 8-bit
// moments), on a gemma-3-1b LoRA r 16 adapter on all seven projections (26 layers, 13.0 M parameters), gradients
// random. The scitune half of bench/optimizer_vs_bnb.sh. Threads: SCITUNE_THREADS (the 8-bit kernel runs its
// blocks on the pool; torch-semantics AdamW is one loop).
//   optimizer_bench --benchmark_filter=adamw_8bit
// Counters: params, state_bytes (the moments; for adamw_8bit codes + absmax).
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "model/config.h"
#include "train/optimizer.h"

namespace scitune {
namespace {

LoraAdapter make_adapter() {
  LoraConfig lc;
  lc.r = 16;
  lc.alpha = 16;
  LoraAdapter a = LoraAdapter::create(*preset("gemma3-1b"), lc, 1);
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1e-4f), w(0.0f, 1e-2f);
  for (LoraModule& m : a.modules()) {
    for (float& x : m.B) x = w(rng);  // PEFT's zero B would make the first steps special
    for (float& x : m.dA) x = g(rng);
    for (float& x : m.dB) x = g(rng);
  }
  return a;
}

void BM_OptimizerStep(benchmark::State& state, const std::string& optim) {
  LoraAdapter a = make_adapter();
  AdamWConfig cfg;  // Trainer defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0
  const auto opt = make_optimizer(optim, a, cfg);
  opt->step(a, 2e-4);  // warm-up: touches every state page once
  for (auto _ : state) opt->step(a, 2e-4);
  state.counters["params"] = static_cast<double>(a.parameter_count());
  state.counters["state_bytes"] = static_cast<double>(opt->state_bytes());
}

BENCHMARK_CAPTURE(BM_OptimizerStep, adamw_torch, std::string("adamw_torch"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_OptimizerStep, adamw_8bit, std::string("adamw_8bit"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace scitune

BENCHMARK_MAIN();
