// Reading stage of `scitune data prepare`, without the tokenizer: records/s of a data file read into records
// (data/record_source.h: JSON lines or Parquet), and read + validated into chat messages (data/layouts.h).
// bench/data_prepare_bench.sh runs it on the same synthetic records as JSONL and as Parquet.
//   SCITUNE_BENCH_DATA=<file>[,<file>...] data_read_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "data/layouts.h"
#include "data/record_source.h"

namespace {

std::vector<std::string> files() {
  std::vector<std::string> out;
  const char* env = std::getenv("SCITUNE_BENCH_DATA");
  if (!env) return out;
  std::string s(env);
  for (size_t start = 0; start <= s.size();) {
    const size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

void read(benchmark::State& state, const std::string& path, bool validate) {
  int64_t records = 0;
  for (auto _ : state) {
    auto src = scitune::open_record_source(path);
    scitune::Layout layout = scitune::Layout::kAuto;
    while (auto rec = src->next()) {
      ++records;
      if (!validate || rec->reject) continue;
      if (layout == scitune::Layout::kAuto)
        layout = scitune::detect_layout(rec->value).value_or(scitune::Layout::kText);
      try {
        benchmark::DoNotOptimize(scitune::record_content(rec->value, layout, {}, rec->where));
      } catch (const scitune::RecordReject&) {
      }
    }
  }
  state.counters["records_per_s"] = benchmark::Counter(double(records), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  for (const std::string& f : files()) {
    benchmark::RegisterBenchmark(("BM_Read/" + f).c_str(), [f](benchmark::State& s) { read(s, f, false); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
    benchmark::RegisterBenchmark(("BM_ReadValidate/" + f).c_str(), [f](benchmark::State& s) { read(s, f, true); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
