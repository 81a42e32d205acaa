// Tokenizer speed: loading the real Gemma 3 tokenizer.json, and encoding a corpus (JSON lines with "text",
// from tools/tokenizer_corpus.py) on 1 and 2 threads. bench/tokenizer_vs_hf.sh runs this next to HF
// `tokenizers` on the same corpus and thread count and reports the ratio.
//   SCITUNE_TOKENIZER=<tokenizer.json or folder> SCITUNE_TOKENIZER_CORPUS=<corpus.jsonl> tokenizer_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace {

// Default: the shared Gemma 3 tokenizer beside the repository (this file is <repo>/bench/tokenizer_bench.cc).
std::string tokenizer_path() {
  if (const char* p = std::getenv("SCITUNE_TOKENIZER")) return p;
  const std::filesystem::path self(__FILE__);
  return (self.parent_path().parent_path().parent_path() / "shared/tokenizers/gemma3").string();
}

const std::vector<std::string>* corpus() {
  static std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    const char* path = std::getenv("SCITUNE_TOKENIZER_CORPUS");
    if (!path) return out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
    return out;
  }();
  return texts.empty() ? nullptr : &texts;
}

void BM_LoadTokenizer(benchmark::State& state) {
  for (auto _ : state) {
    scitune::Tokenizer t = scitune::Tokenizer::load(tokenizer_path());
    benchmark::DoNotOptimize(t.vocab_size());
  }
}
BENCHMARK(BM_LoadTokenizer)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_EncodeCorpus(benchmark::State& state) {
  const auto* texts = corpus();
  if (!texts) {
    state.SkipWithError("set SCITUNE_TOKENIZER_CORPUS to a corpus.jsonl");
    return;
  }
  static const scitune::Tokenizer tok = scitune::Tokenizer::load(tokenizer_path());
  size_t bytes = 0, tokens = 0;
  for (const auto& t : *texts) bytes += t.size();
  for (auto _ : state) {
    const auto ids = tok.encode_batch(*texts, false, unsigned(state.range(0)));
    tokens = 0;
    for (const auto& v : ids) tokens += v.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(int64_t(bytes) * state.iterations());
  state.counters["tokens_per_second"] =
      benchmark::Counter(double(tokens) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["bytes"] = double(bytes);
  state.counters["tokens"] = double(tokens);
}
BENCHMARK(BM_EncodeCorpus)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
