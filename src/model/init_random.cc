#include "model/init_random.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numbers>
#include <thread>

#include "io/safetensors_index.h"
#include "model/generation_config.h"
#include "util/error.h"
#include "util/half.h"
#include "util/progress.h"
#include "util/splitmix.h"

namespace scitune {

namespace fs = std::filesystem;

namespace {

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

class Xoshiro256ss {
 public:
  explicit Xoshiro256ss(uint64_t seed) {
    for (auto& w : s_) w = seed = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3], s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

float stddev_of(const TensorDesc& d, const ModelConfig& c, const InitOptions& opt) {
  if (d.role == TensorRole::kNorm) return opt.random_norms ? 0.1f : 0.0f;
  return static_cast<float>(c.initializer_range);
}

// Values [block * kInitBlock, block * kInitBlock + out.size()) of one tensor.
void fill_block(uint64_t seed, uint64_t name_hash, uint64_t block, float stddev, std::span<float> out) {
  if (stddev == 0.0f) {
    std::fill(out.begin(), out.end(), 0.0f);
    return;
  }
  Xoshiro256ss rng(splitmix64(splitmix64(splitmix64(seed) ^ name_hash) ^ block));
  constexpr float kInv24 = 1.0f / 16777216.0f, kTwoPi = 2.0f * std::numbers::pi_v<float>;
  for (size_t i = 0; i < out.size(); i += 2) {
    const uint64_t r = rng.next();
    const float u1 = static_cast<float>((r >> 40) + 1) * kInv24;  // (0, 1]: log is finite
    const float u2 = static_cast<float>((r >> 16) & 0xffffff) * kInv24;
    const float radius = std::sqrt(-2.0f * std::log(u1)) * stddev;
    out[i] = radius * std::cos(kTwoPi * u2);
    if (i + 1 < out.size()) out[i + 1] = radius * std::sin(kTwoPi * u2);
  }
}

// Fills out with values [first, first + out.size()) of tensor d; first is a multiple of kInitBlock.
void fill_range(const TensorDesc& d, const ModelConfig& c, const InitOptions& opt, uint64_t first,
                std::span<float> out) {
  const uint64_t hash = fnv1a64(d.name);
  const float sd = stddev_of(d, c, opt);
  for (uint64_t off = 0; off < out.size(); off += kInitBlock) {
    const uint64_t n = std::min<uint64_t>(kInitBlock, out.size() - off);
    fill_block(opt.seed, hash, (first + off) / kInitBlock, sd, out.subspan(off, n));
  }
  // nn.Embedding(padding_idx=pad_token_id): transformers zeroes that row.
  if (d.role == TensorRole::kEmbedding && c.pad_token_id) {
    const uint64_t row_begin = static_cast<uint64_t>(*c.pad_token_id) * static_cast<uint64_t>(c.hidden_size);
    const uint64_t row_end = row_begin + static_cast<uint64_t>(c.hidden_size), last = first + out.size();
    for (uint64_t i = std::max(row_begin, first); i < std::min(row_end, last); ++i) out[i - first] = 0.0f;
  }
}

uint64_t numel_of(const TensorDesc& d) {
  auto n = checked_numel(d.shape);
  SCITUNE_CHECK(n.has_value(), "validated config gives finite tensor sizes");
  return *n;
}

// The name transformers' Gemma3ForCausalLM stores a canonical tensor under.
std::string stored_name(const TensorDesc& d) { return d.role == TensorRole::kLmHead ? d.name : "model." + d.name; }

void encode(std::span<const float> in, DType dtype, std::vector<uint8_t>& out) {
  out.resize(in.size() * dtype_size(dtype));
  if (dtype == DType::F32) {
    if (!in.empty()) std::memcpy(out.data(), in.data(), in.size() * 4);
    return;
  }
  for (size_t i = 0; i < in.size(); ++i) {
    const uint16_t h = dtype == DType::BF16 ? fp32_to_bf16(in[i]) : fp32_to_fp16(in[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
}

std::string hf_dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "float32";
    case DType::BF16:
      return "bfloat16";
    case DType::F16:
      return "float16";
    default:
      fail("init: dtype " + std::string(dtype_name(t)) + " is not supported (use f32, bf16 or f16)");
  }
}

// Empty, or made ready for --force: remove the weight files an earlier init may have left.
void prepare_dir(const fs::path& dir, Overwrite overwrite) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) fail(dir.string() + ": cannot create directory: " + ec.message());
    return;
  }
  if (!fs::is_directory(dir, ec)) fail(dir.string() + ": exists and is not a directory");
  if (fs::is_empty(dir, ec)) return;
  if (overwrite == Overwrite::kNo)
    fail(dir.string() + ": directory is not empty (pass --force to write the model into it)");
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    const bool shard =
        name.starts_with("model-") && name.ends_with(".safetensors") && name.find("-of-") != std::string::npos;
    if (e.is_regular_file() && (shard || name == kSafetensorsSingleFile || name == kSafetensorsIndexFile))
      fs::remove(e.path());
  }
}

}  // namespace

std::string shard_file_name(size_t index, size_t count) {
  if (count == 1) return std::string(kSafetensorsSingleFile);
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return buf;
}

std::vector<std::vector<TensorDesc>> plan_shards(const ModelConfig& config, DType dtype, uint64_t max_shard_bytes) {
  std::vector<std::vector<TensorDesc>> shards(1);
  uint64_t current = 0;
  for_each_tensor(config, [&](const TensorDesc& d) {
    const uint64_t bytes = numel_of(d) * dtype_size(dtype);
    if (!shards.back().empty() && current + bytes > max_shard_bytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(d);
    current += bytes;
  });
  return shards;
}

std::vector<float> init_tensor_values(const TensorDesc& d, const ModelConfig& config, const InitOptions& opt) {
  std::vector<float> out(numel_of(d));
  fill_range(d, config, opt, 0, out);
  return out;
}

InitResult write_random_model(const fs::path& dir, const ModelConfig& config, const InitOptions& opt) {
  validate(config, "init: model config");
  ModelConfig out_config = config;
  out_config.dtype = hf_dtype_name(opt.dtype);
  if (opt.max_shard_bytes == 0) fail("init: the maximum shard size must be positive");
  prepare_dir(dir, opt.overwrite);

  const auto shards = plan_shards(config, opt.dtype, opt.max_shard_bytes);
  InitResult result;
  for (const auto& shard : shards)
    for (const auto& d : shard)
      result.data_bytes += numel_of(d) * dtype_size(opt.dtype), result.parameters += numel_of(d);

  const unsigned threads = std::max(1u, opt.threads ? opt.threads : std::thread::hardware_concurrency());
  ProgressBar bar("init", result.data_bytes, "B");
  uint64_t done = 0;
  std::vector<float> values(threads * kInitBlock);
  std::vector<uint8_t> bytes;
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string file = shard_file_name(s, shards.size());
    std::vector<TensorSpec> specs;
    std::map<std::string, const TensorDesc*> by_name;
    for (const auto& d : shards[s]) {
      specs.push_back({stored_name(d), opt.dtype, d.shape});
      by_name[stored_name(d)] = &d;
      weight_map[stored_name(d)] = file;
    }
    auto fill = [&](const TensorSpec& spec, TensorSink& sink) {
      const TensorDesc& d = *by_name.at(spec.name);
      const uint64_t n = numel_of(d);
      // Blocks of one batch are drawn in parallel (each block has its own stream) and written in order.
      for (uint64_t first = 0; first < n; first += threads * kInitBlock) {
        const uint64_t count = std::min<uint64_t>(n - first, threads * kInitBlock);
        std::vector<std::thread> pool;
        for (unsigned t = 1; t * kInitBlock < count; ++t)
          pool.emplace_back([&, t] {
            const uint64_t begin = t * kInitBlock, len = std::min<uint64_t>(kInitBlock, count - begin);
            fill_range(d, config, opt, first + begin, std::span<float>(values).subspan(begin, len));
          });
        fill_range(d, config, opt, first, std::span<float>(values).subspan(0, std::min<uint64_t>(kInitBlock, count)));
        for (auto& th : pool) th.join();
        encode(std::span<const float>(values).subspan(0, count), opt.dtype, bytes);
        sink.write(bytes);
        done += bytes.size();
        bar.update(done);
      }
    };
    write_safetensors_streaming(dir / file, std::move(specs), {{"format", "pt"}}, fill, opt.overwrite);
    result.weight_files.push_back(file);
  }
  bar.finish();
  if (shards.size() > 1) {
    const nlohmann::json index = {{"metadata", {{"total_size", result.data_bytes}}}, {"weight_map", weight_map}};
    write_file_atomic(dir / kSafetensorsIndexFile, index.dump(2) + "\n", opt.overwrite);
  }
  // Config files last: a folder with config.json is complete.
  write_generation_config(dir / "generation_config.json", generation_defaults_for(out_config), opt.overwrite);
  write_hf_config(dir / "config.json", out_config, opt.overwrite);
  return result;
}

}  // namespace scitune
