// A random Gemma 3 that llama.cpp's gemma3 graph can express (5 sliding + 1 global layers, query scale
// 1/sqrt(head_dim), local RoPE base 10000), tiny, with random norms (so the 1 + w convention shows) and the
// small SentencePiece tokenizer from tests/golden/tokenizer/sp_tiny; plus a LoRA adapter with non-zero B on
// all seven projections. Written once per test binary.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "model/config.h"
#include "model/init_random.h"
#include "model/load.h"
#include "tokenizer/tokenizer.h"
#include "train/gemma3_lora.h"
#include "train/lora.h"

namespace scitune::testing {

inline ModelConfig llama_compatible_tiny(int64_t vocab) {
  ModelConfig c = *preset("tiny");
  c.vocab_size = vocab;
  c.num_hidden_layers = 6;
  c.layer_types = ModelConfig::pattern_layer_types(6, 6);
  c.query_pre_attn_scalar = static_cast<double>(c.head_dim);
  c.rope_local_base_freq = 10000;
  c.sliding_window = 8;
  c.max_position_embeddings = 512;
  return c;
}

class ExportFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = std::filesystem::temp_directory_path() / ("scitune_export_" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    const std::filesystem::path sp = std::filesystem::path(SCITUNE_SOURCE_DIR) / "tests/golden/tokenizer/sp_tiny";
    const Tokenizer tok = Tokenizer::load(sp);
    config_ = llama_compatible_tiny(static_cast<int64_t>(tok.vocab_size()));
    InitOptions opt;
    opt.seed = 11;
    opt.random_norms = true;
    write_random_model(base(), config_, opt);
    std::filesystem::copy_file(sp / "tokenizer.model", base() / "tokenizer.model");
    LoraConfig lc;
    lc.r = 4;
    lc.alpha = 8;
    LoraAdapter a = LoraAdapter::create(config_, lc, 5);
    std::mt19937 rng(7);
    std::normal_distribution<float> n(0.0f, 0.05f);
    for (LoraModule& m : a.modules())
      for (float& b : m.B) b = n(rng);
    a.save(adapter());
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(root_); }

  static std::filesystem::path base() { return root_ / "base"; }
  static std::filesystem::path adapter() { return root_ / "adapter"; }
  static const ModelConfig& config() { return config_; }

  // Logits [T, V] of `ids` from a model path (optionally with a PEFT adapter), through the training forward.
  static std::vector<float> logits(const std::filesystem::path& model, const std::filesystem::path& adapter_dir,
                                   const std::vector<int32_t>& ids) {
    LoadedGemma3 m = load_model_fp32(model);
    std::optional<LoraAdapter> a;
    if (!adapter_dir.empty()) a = LoraAdapter::load(adapter_dir, m.config);
    Gemma3Lora net(m.config, m.weights, a ? &*a : nullptr);
    const int64_t T = static_cast<int64_t>(ids.size());
    std::vector<float> out(static_cast<size_t>(T * m.config.vocab_size));
    const std::vector<int64_t> lengths = {T};
    net.logits(ids, lengths, 1, T, out.data());
    return out;
  }
  static std::vector<int32_t> sample_ids() {
    std::vector<int32_t> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(static_cast<int32_t>((i * 37 + 5) % config_.vocab_size));
    return ids;
  }

  static inline std::filesystem::path root_;
  static inline ModelConfig config_;
};

}  // namespace scitune::testing
