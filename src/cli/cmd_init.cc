// scitune init: write a randomly initialised Hugging Face model folder for a preset (for tests, benchmarks
// and smoke runs without downloading weights).
#include <cctype>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "model/init_random.h"
#include "util/error.h"

namespace scitune::cli {

namespace {

// "2GB" (decimal, as huggingface_hub's max_shard_size), "512MiB", "1000000" (bytes).
uint64_t parse_size(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos == 0 || pos > 18) fail("--max-shard-size: \"" + text + "\", expected a size like 2GB, 500MB or 1GiB");
  const uint64_t n = std::stoull(text.substr(0, pos));
  const std::string unit = text.substr(pos);
  uint64_t mult = 0;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KB")
    mult = 1000;
  else if (unit == "MB")
    mult = 1000'000;
  else if (unit == "GB")
    mult = 1000'000'000;
  else if (unit == "KiB")
    mult = 1ull << 10;
  else if (unit == "MiB")
    mult = 1ull << 20;
  else if (unit == "GiB")
    mult = 1ull << 30;
  else
    fail("--max-shard-size: unknown unit \"" + unit + "\" (use B, KB, MB, GB, KiB, MiB or GiB)");
  uint64_t bytes;
  if (__builtin_mul_overflow(n, mult, &bytes) || bytes == 0) fail("--max-shard-size: \"" + text + "\" is out of range");
  return bytes;
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= 1000'000'000)
    std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else if (b >= 1000'000)
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

}  // namespace

void register_init(CLI::App& app) {
  struct Args {
    std::string preset, out, dtype = "f32", max_shard = "2GB";
    uint64_t seed = 0;
    bool force = false, random_norms = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("init", "Write a randomly initialised Hugging Face model folder for a preset");
  std::string presets;
  for (auto p : preset_names()) presets += (presets.empty() ? "" : ", ") + std::string(p);
  cmd->add_option("--preset", args->preset, "Model shape: " + presets)->required();
  cmd->add_option("--out", args->out, "Output folder (created; must be empty unless --force)")->required();
  cmd->add_option("--seed", args->seed, "RNG seed; the same seed gives the same weights (default 0)");
  cmd->add_option("--dtype", args->dtype, "Weight dtype on disk: f32, bf16 or f16 (default f32)");
  cmd->add_option("--max-shard-size", args->max_shard, "Split weights into shards of at most this size (default 2GB)");
  cmd->add_flag("--force", args->force, "Write into a non-empty folder, replacing its model files");
  cmd->add_flag("--random-norms", args->random_norms,
                "Draw RMSNorm weights from N(0, 0.1) instead of 0 (tests of the (1 + w) convention)");
  cmd->callback([args, presets] {
    auto config = preset(args->preset);
    if (!config) fail("--preset: unknown preset \"" + args->preset + "\" (expected one of: " + presets + ")");
    InitOptions opt;
    opt.seed = args->seed;
    if (args->dtype == "f32")
      opt.dtype = DType::F32;
    else if (args->dtype == "bf16")
      opt.dtype = DType::BF16;
    else if (args->dtype == "f16")
      opt.dtype = DType::F16;
    else
      fail("--dtype: \"" + args->dtype + "\", expected f32, bf16 or f16");
    opt.random_norms = args->random_norms;
    opt.max_shard_bytes = parse_size(args->max_shard);
    opt.overwrite = args->force ? Overwrite::kYes : Overwrite::kNo;
    const InitResult r = write_random_model(args->out, *config, opt);
    std::printf("wrote %s: %s, %llu parameters, %s, %zu weight file%s (%s), seed %llu\n", args->out.c_str(),
                args->preset.c_str(), static_cast<unsigned long long>(r.parameters), args->dtype.c_str(),
                r.weight_files.size(), r.weight_files.size() == 1 ? "" : "s", human_bytes(r.data_bytes).c_str(),
                static_cast<unsigned long long>(args->seed));
  });
}

}  // namespace scitune::cli
