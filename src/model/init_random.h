// A randomly initialised HF model folder (config.json, generation_config.json, safetensors weights), as
// transformers' _init_weights would make it: Linear and embedding weights ~ N(0, initializer_range), the
// embedding row of pad_token_id zeroed, RMSNorm weights 0 (Gemma stores norms as an offset from 1).
//
// RNG (deterministic for a seed, independent of thread count, sharding and dtype): every tensor is cut into
// blocks of kInitBlock values; block b of tensor `name` draws from xoshiro256** seeded by splitmix64 from
// (seed, FNV-1a-64(name), b). Each 64-bit draw gives two 24-bit uniforms, turned into two normals by the
// Box-Muller transform in float (tails are cut at about 5.8 sigma, harmless for initialisation).
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "model/config.h"
#include "model/tensor_names.h"
#include "util/atomic_file.h"

namespace scitune {

inline constexpr uint64_t kInitBlock = uint64_t{1} << 20;

struct InitOptions {
  uint64_t seed = 0;
  DType dtype = DType::F32;                  // F32, BF16 or F16 on disk
  bool random_norms = false;                 // norms ~ N(0, 0.1) instead of 0, so tests see the (1 + w) convention
  uint64_t max_shard_bytes = 2'000'000'000;  // larger models go into shards with an index
  Overwrite overwrite = Overwrite::kNo;      // kYes (--force): write into a non-empty folder
  unsigned threads = 0;                      // 0: all hardware threads
};

struct InitResult {
  std::vector<std::string> weight_files;  // file names inside the folder
  uint64_t data_bytes = 0;
  uint64_t parameters = 0;
};

// Writes the folder. Refuses a non-empty `dir` unless overwrite is kYes; then it first removes the weight
// files a previous init may have left (model.safetensors, model-*-of-*.safetensors, the index) so that no
// stale shard or index can shadow the new weights.
InitResult write_random_model(const std::filesystem::path& dir, const ModelConfig& config, const InitOptions& opt);

// The fp32 values write_random_model gives tensor `d` (before rounding to the file dtype).
std::vector<float> init_tensor_values(const TensorDesc& d, const ModelConfig& config, const InitOptions& opt);

// The shard layout write_random_model uses, like huggingface_hub's splitter: tensors in for_each_tensor
// order, a new shard when the next tensor would pass max_shard_bytes, an oversized tensor alone.
std::vector<std::vector<TensorDesc>> plan_shards(const ModelConfig& config, DType dtype, uint64_t max_shard_bytes);

// "model.safetensors" for one shard, else "model-00001-of-00003.safetensors".
std::string shard_file_name(size_t index, size_t count);

}  // namespace scitune
