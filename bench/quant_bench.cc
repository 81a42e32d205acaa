// Throughput of the quantisation kernels (values/s and input MB/s): quantize, dequantize and vec_dot per type,
// scalar reference next to the dispatched (SIMD) version, and NF4. Data: bell-shaped rows from
// quant/test_data.h (kind 0, weight-like), the same generator bench/quant_vs_llama.sh feeds llama-quantize.
//   quant_bench --benchmark_filter=Quantize/q4_K
// Multi-threaded variants (…/threads:2) give aggregate values/s over wall time; each thread works on its own
// copy of the rows.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "quant/nf4.h"
#include "quant/quants.h"
#include "quant/test_data.h"

namespace scitune {
namespace {

constexpr int64_t kRowLen = 2560;  // Gemma 3 4B hidden size: a multiple of every block size
constexpr int64_t kRows = 64;      // 163840 values: 640 KB of floats per thread
constexpr int64_t kN = kRowLen * kRows;

const std::vector<float>& rows() {
  static const std::vector<float> x = [] {
    std::vector<float> v(static_cast<size_t>(kN));
    for (int64_t r = 0; r < kRows; ++r)
      quant::testdata::make_row(0xBE4C, static_cast<uint64_t>(r), 0, v.data() + r * kRowLen, kRowLen);
    return v;
  }();
  return x;
}

void set_rate(benchmark::State& state, int64_t values_per_iter) {
  state.SetItemsProcessed(state.iterations() * values_per_iter);
  state.SetBytesProcessed(state.iterations() * values_per_iter * 4);
}

void BM_Quantize(benchmark::State& state, GgmlType t, bool scalar) {
  const std::vector<float> x = rows();  // per-thread copy
  std::vector<uint8_t> q(ggml_row_size(t, kN));
  for (auto _ : state) {
    if (scalar)
      quant::ref::quantize_row(t, x.data(), q.data(), kN);
    else
      quantize_row(t, x.data(), q.data(), kN);
    benchmark::DoNotOptimize(q.data());
  }
  set_rate(state, kN);
}

void BM_Dequantize(benchmark::State& state, GgmlType t, bool scalar) {
  std::vector<uint8_t> q(ggml_row_size(t, kN));
  quantize_row(t, rows().data(), q.data(), kN);
  std::vector<float> y(static_cast<size_t>(kN));
  for (auto _ : state) {
    if (scalar)
      quant::ref::dequantize_row(t, q.data(), y.data(), kN);
    else
      dequantize_row(t, q.data(), y.data(), kN);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, kN);
}

void BM_VecDot(benchmark::State& state, GgmlType t, bool scalar) {
  const GgmlType at = vec_dot_activation_type(t);
  std::vector<uint8_t> w(ggml_row_size(t, kN)), a(ggml_row_size(at, kN));
  quantize_row(t, rows().data(), w.data(), kN);
  quantize_row(at, rows().data(), a.data(), kN);
  for (auto _ : state) {
    float s = 0;
    for (int64_t r = 0; r < kRows; ++r) {
      const auto* wr = w.data() + ggml_row_size(t, r * kRowLen);
      const auto* ar = a.data() + ggml_row_size(at, r * kRowLen);
      s += scalar ? quant::ref::vec_dot(t, wr, ar, kRowLen) : vec_dot(t, wr, ar, kRowLen);
    }
    benchmark::DoNotOptimize(s);
  }
  set_rate(state, kN);
}

void BM_Nf4Quantize(benchmark::State& state) {
  const bool dq = state.range(0) != 0;
  for (auto _ : state) benchmark::DoNotOptimize(nf4_quantize(rows(), 64, dq).packed.data());
  set_rate(state, kN);
}

void BM_Nf4Dequantize(benchmark::State& state) {
  const auto q = nf4_quantize(rows(), 64, state.range(0) != 0);
  std::vector<float> y(static_cast<size_t>(kN));
  for (auto _ : state) {
    nf4_dequantize(q, y);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, kN);
}

int register_all() {
  const GgmlType all[] = {GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                          GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1,
                          GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K};
  for (GgmlType t : all) {
    const std::string n(ggml_info(t).name);
    benchmark::RegisterBenchmark(("Quantize/" + n).c_str(), BM_Quantize, t, false)->ThreadRange(1, 2)->UseRealTime();
    benchmark::RegisterBenchmark(("QuantizeRef/" + n).c_str(), BM_Quantize, t, true);
    benchmark::RegisterBenchmark(("Dequantize/" + n).c_str(), BM_Dequantize, t, false);
    benchmark::RegisterBenchmark(("DequantizeRef/" + n).c_str(), BM_Dequantize, t, true);
    if (vec_dot_supported(t)) {
      benchmark::RegisterBenchmark(("VecDot/" + n).c_str(), BM_VecDot, t, false);
      benchmark::RegisterBenchmark(("VecDotRef/" + n).c_str(), BM_VecDot, t, true);
    }
  }
  benchmark::RegisterBenchmark("Nf4Quantize/double_quant", BM_Nf4Quantize)->Arg(0)->Arg(1);
  benchmark::RegisterBenchmark("Nf4Dequantize/double_quant", BM_Nf4Dequantize)->Arg(0)->Arg(1);
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace scitune

BENCHMARK_MAIN();
