// Inference speed on one model file, llama-bench style: prompt processing (pp, tokens/s over a prompt of
// --prompt tokens) and text generation (tg, tokens/s over --decode greedy tokens after a 1-token prompt), plus
// a STREAM-like copy bandwidth, a read bandwidth, and decode as a fraction of the read limit (weight bytes read
// per token).
//   infer_bench MODEL [--prompt 512] [--decode 128] [--reps 2] [--quant q8_0|q4_0] [--inference-layout 0|1]
//               [--context N]   (decode after an N-token prompt, N <= --prompt; default: after 1 token)
// SCITUNE_PROFILE=1: decode time split between the layers and the LM head (stderr).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cpu/thread_pool.h"
#include "model/load.h"
#include "util/huge_page_buffer.h"
#include "util/phase_profile.h"

using namespace scitune;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Memory bandwidth over 256 MiB buffers in huge pages (as the inference layout holds weights), both threads, best of
// 4: a STREAM-like copy (read + write bytes per second) and a plain read, which is what decoding does.
struct Bandwidth {
  double copy = 0, read = 0;
};
Bandwidth measure_bandwidth() {
  const size_t n = size_t{1} << 26;  // floats per buffer
  HugePageBuffer abuf(n * sizeof(float)), bbuf(n * sizeof(float));
  auto* a = reinterpret_cast<float*>(abuf.data());
  auto* b = reinterpret_cast<float*>(bbuf.data());
  std::fill(a, a + n, 1.0f);
  std::fill(b, b + n, 0.0f);
  Bandwidth best;
  std::atomic<uint64_t> sink{0};  // keeps the reads
  for (int rep = 0; rep < 4; ++rep) {
    auto t0 = Clock::now();
    ThreadPool::global().parallel_for(static_cast<int64_t>(n), [&](int64_t s, int64_t e) {
      std::memcpy(b + s, a + s, static_cast<size_t>(e - s) * sizeof(float));
    });
    best.copy = std::max(best.copy, 2.0 * n * sizeof(float) / seconds_since(t0));
    t0 = Clock::now();
    const auto* words = reinterpret_cast<const uint64_t*>(a);
    ThreadPool::global().parallel_for(static_cast<int64_t>(n / 2), [&](int64_t s, int64_t e) {
      uint64_t x[8] = {};  // eight independent xor chains: the loop vectorises and is bound by the loads
      for (int64_t i = s; i + 8 <= e; i += 8)
        for (int j = 0; j < 8; ++j) x[j] ^= words[i + j];
      for (int j = 0; j < 8; ++j) sink.fetch_xor(x[j]);
    });
    best.read = std::max(best.read, 1.0 * n * sizeof(float) / seconds_since(t0));
  }
  return best;
}

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: infer_bench MODEL [--prompt N] [--decode N] [--reps N] [--quant TYPE] [--inference-layout 0|1] [--context N]\n");
    return 1;
  }
  int64_t n_prompt = 512, n_decode = 128, reps = 2, context = 0;
  LoadOptions opts;
  opts.inference_layout = true;  // as generate/chat load
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--prompt") n_prompt = std::atoll(argv[i + 1]);
    else if (k == "--decode") n_decode = std::atoll(argv[i + 1]);
    else if (k == "--reps") reps = std::atoll(argv[i + 1]);
    else if (k == "--context") context = std::atoll(argv[i + 1]);
    else if (k == "--quant") apply_quant_on_load(opts, argv[i + 1], "--quant");
    else if (k == "--inference-layout") opts.inference_layout = std::atoi(argv[i + 1]) != 0;
  }
  if (context < 0 || context > n_prompt) {
    std::fprintf(stderr, "--context must be in [0, --prompt]\n");
    return 1;
  }
  try {
    LoadedGemma3 m = load_model(argv[1], opts);
    Gemma3 net(m.config, m.weights);
    const int64_t V = m.config.vocab_size;
    std::vector<int32_t> prompt(static_cast<size_t>(n_prompt));
    for (int64_t i = 0; i < n_prompt; ++i) prompt[i] = static_cast<int32_t>(2 + (i * 7919) % (V - 2));
    double pp = 0, tg = 0;
    for (int64_t r = 0; r < reps; ++r) {
      KvCache cache = net.new_cache(n_prompt + n_decode + 1);
      auto t0 = Clock::now();
      net.forward_cached(prompt, cache);
      pp = std::max(pp, n_prompt / seconds_since(t0));

      KvCache dc = net.new_cache(context + n_decode + 1);
      if (context > 0) net.forward_cached(std::span(prompt).first(static_cast<size_t>(context)), dc);
      std::vector<float> logits(static_cast<size_t>(V));
      int32_t id = 2;
      t0 = Clock::now();
      for (int64_t i = 0; i < n_decode; ++i) {
        std::vector<float> h;
        {
          profile::Scope p("decode: layers");
          h = net.forward_cached(std::span<const int32_t>(&id, 1), dc);
        }
        profile::Scope p("decode: lm head + argmax");
        net.lm_head(logits.data(), h.data(), 1);
        id = argmax(logits);
      }
      tg = std::max(tg, n_decode / seconds_since(t0));
    }
    if (profile::enabled()) std::fprintf(stderr, "%s", profile::report_and_reset().c_str());
    const Bandwidth bw = measure_bandwidth();
    const double bytes = static_cast<double>(m.weight_bytes());
    std::printf("model %s: %.1f MiB of weights read per token\n", argv[1], bytes / (1 << 20));
    std::printf("pp%lld %.1f tok/s\ntg%lld %.1f tok/s\n", static_cast<long long>(n_prompt), pp,
                static_cast<long long>(n_decode), tg);
    std::printf("copy bandwidth %.1f GB/s, read bandwidth %.1f GB/s; decode limit %.1f tok/s (read); decode at %.0f%% of it\n",
                bw.copy / 1e9, bw.read / 1e9, bw.read / bytes, 100.0 * tg * bytes / bw.read);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
