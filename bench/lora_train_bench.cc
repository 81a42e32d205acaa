// One LoRA training micro-batch (forward + backward, gradients for the adapter only) on a model folder, timed, with
// the process's peak RSS: the scitune half of bench/lora_train_vs_torch.sh. Prints one JSON line.
//   lora_train_bench MODEL [--seq 512] [--batch 1] [--r 16] [--alpha 16] [--ckpt 0|1] [--quant none|nf4|q8_0|q4_0]
//                          [--steps 2] [--warmup 1] [--bf16 0|1]
// SCITUNE_PROFILE=1: also the wall time of each phase of the timed steps (stderr).
// Labels are the input ids (every position scored, HF shift); LoRA on all seven projections, PEFT init with B set
// to small random values so that the LoRA backward does its full work. Run one configuration per process: peak
// RSS (VmHWM) covers loading too; train_peak_rss_mib is the peak after loading (VmHWM reset through
// /proc/self/clear_refs), which leaves out the model files' pages mapped while they were converted. Threads:
// SCITUNE_THREADS and OPENBLAS_NUM_THREADS.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "model/load.h"
#include "train/gemma3_lora.h"
#include "util/phase_profile.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A field of /proc/self/status in MiB ("VmHWM", "VmRSS", "RssAnon", "RssFile").
double status_mib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, n, key) == 0 && line[n] == ':') return std::stod(line.substr(n + 1)) / 1024.0;
  return 0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0), so the training phase's peak can be read apart from loading's,
// which counts the safetensors pages mapped while converting.
bool reset_hwm() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace scitune;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s MODEL [--seq N] [--batch N] [--r N] [--alpha X] [--ckpt 0|1] [--quant Q] "
                 "[--steps N] [--warmup N]\n",
                 argv[0]);
    return 2;
  }
  const std::string model_path = argv[1];
  int64_t T = 512, B = 1, r = 16, steps = 2, warmup = 1;
  double alpha = 16;
  bool ckpt = false, bf16 = false;
  std::string quant = "none";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--seq")
      T = std::stoll(v);
    else if (k == "--batch")
      B = std::stoll(v);
    else if (k == "--r")
      r = std::stoll(v);
    else if (k == "--alpha")
      alpha = std::stod(v);
    else if (k == "--ckpt")
      ckpt = v == "1";
    else if (k == "--bf16")
      bf16 = v == "1";
    else if (k == "--quant")
      quant = v;
    else if (k == "--steps")
      steps = std::stoll(v);
    else if (k == "--warmup")
      warmup = std::stoll(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    auto t0 = Clock::now();
    LoadOptions lo;
    apply_quant_on_load(lo, quant, "--quant");
    lo.bf16 = bf16;  // as `scitune train --bf16 true` loads an fp32 folder
    LoadedGemma3 m = load_model(model_path, lo);
    const double load_s = seconds_since(t0);
    const double rss_loaded = status_mib("VmRSS"), anon_loaded = status_mib("RssAnon"),
                 file_loaded = status_mib("RssFile"), hwm_loaded = status_mib("VmHWM");
    const bool hwm_reset = reset_hwm();

    LoraConfig lc;
    lc.r = r;
    lc.alpha = alpha;
    LoraAdapter adapter = LoraAdapter::create(m.config, lc, 1);
    std::mt19937 rng(2);
    std::normal_distribution<float> nd(0.0f, 0.01f);
    for (LoraModule& mod : adapter.modules())
      for (float& b : mod.B) b = nd(rng);
    Gemma3Lora net(m.config, m.weights, &adapter);

    const int64_t N = B * T;
    std::vector<int32_t> ids(static_cast<size_t>(N));
    std::uniform_int_distribution<int32_t> tok(3, static_cast<int32_t>(m.config.vocab_size) - 1);
    for (auto& id : ids) id = tok(rng);
    for (int64_t b = 0; b < B; ++b) ids[static_cast<size_t>(b * T)] = 2;
    std::vector<int64_t> labels(ids.begin(), ids.end()), lengths(static_cast<size_t>(B), T);
    TrainOptions opt;
    opt.checkpoint = ckpt;
    opt.bf16 = bf16;  // frozen projections + LM head on bf16-rounded inputs (TRL bf16: true), fp32 accumulation
    const float grad_scale = 1.0f / static_cast<float>(B * (T - 1));

    double loss = 0, warm_s = 0;
    for (int64_t s = 0; s < warmup; ++s) {
      auto t = Clock::now();
      loss = net.step(ids, lengths, labels, B, T, grad_scale, true, opt, s).mean();
      warm_s += seconds_since(t);
    }
    auto t1 = Clock::now();
    if (steps > 0) profile::report_and_reset();  // the warm-up's phases are not part of the profile
    for (int64_t s = 0; s < steps; ++s) loss = net.step(ids, lengths, labels, B, T, grad_scale, true, opt, s).mean();
    if (profile::enabled()) std::fprintf(stderr, "%s", profile::report_and_reset().c_str());
    const double step_s =
        steps > 0 ? seconds_since(t1) / static_cast<double>(steps) : warm_s / std::max<int64_t>(warmup, 1);
    // Forward alone (loss only, no saved-activation reuse beyond what step keeps), for the fwd/bwd split.
    auto t2 = Clock::now();
    if (steps > 0) net.step(ids, lengths, labels, B, T, grad_scale, false, opt, 0);
    const double fwd_s = steps > 0 ? seconds_since(t2) : 0;

    const char* threads = std::getenv("SCITUNE_THREADS");
    std::printf(
        "{\"impl\": \"scitune\", \"model\": \"%s\", \"quant\": \"%s\", \"seq\": %lld, \"batch\": %lld, \"r\": %lld, "
        "\"ckpt\": %s, \"bf16\": %s, \"threads\": \"%s\", \"load_s\": %.2f, \"warmup_s\": %.3f, \"step_s\": %.3f, "
        "\"fwd_s\": %.3f, "
        "\"tok_s\": %.2f, \"loss\": %.5f, \"rss_loaded_mib\": %.0f, \"anon_loaded_mib\": %.0f, "
        "\"file_loaded_mib\": %.0f, \"hwm_loaded_mib\": %.0f, \"activation_mib\": %.0f, \"lora_params\": %lld, "
        "\"train_peak_rss_mib\": %.0f, \"peak_rss_mib\": %.0f}\n",
        model_path.c_str(), quant.c_str(), static_cast<long long>(T), static_cast<long long>(B),
        static_cast<long long>(r), ckpt ? "true" : "false", bf16 ? "true" : "false", threads ? threads : "", load_s,
        warm_s, step_s, fwd_s, static_cast<double>(N) / step_s, loss, rss_loaded, anon_loaded, file_loaded, hwm_loaded,
        static_cast<double>(net.activation_bytes()) / (1 << 20), static_cast<long long>(adapter.parameter_count()),
        hwm_reset ? status_mib("VmHWM") : -1.0, std::max(hwm_loaded, status_mib("VmHWM")));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lora_train_bench: %s\n", e.what());
    return 1;
  }
}
