// GGUF -> ModelConfig (as llama.cpp reads gemma3 files) and the canonical <-> GGUF tensor names.
#include "model/gguf_model.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "model/hf_folder.h"
#include "model/tensor_names.h"
#include "util/error.h"
#include "util/paths.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

fs::path real_model() { return default_model_path(); }

TEST(GgufModel, RealGemma3_270mMatchesThePreset) {
  if (!fs::exists(real_model())) GTEST_SKIP() << "real model not in the cache (run scripts/fetch_model.sh)";
  GgufFile f = GgufFile::open(real_model());
  ModelConfig c = config_from_gguf(f);
  ModelConfig p = *preset("gemma3-270m");
  EXPECT_EQ(c.hidden_size, p.hidden_size);
  EXPECT_EQ(c.num_hidden_layers, p.num_hidden_layers);
  EXPECT_EQ(c.intermediate_size, p.intermediate_size);
  EXPECT_EQ(c.num_attention_heads, p.num_attention_heads);
  EXPECT_EQ(c.num_key_value_heads, p.num_key_value_heads);
  EXPECT_EQ(c.head_dim, p.head_dim);
  EXPECT_EQ(c.vocab_size, p.vocab_size);
  EXPECT_EQ(c.sliding_window, p.sliding_window);
  EXPECT_EQ(c.layer_types, p.layer_types);
  EXPECT_DOUBLE_EQ(c.query_pre_attn_scalar, p.query_pre_attn_scalar);
  EXPECT_DOUBLE_EQ(c.rope_theta, p.rope_theta);
  EXPECT_DOUBLE_EQ(c.rope_local_base_freq, p.rope_local_base_freq);
  EXPECT_DOUBLE_EQ(c.rope_scaling_factor, 1.0);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);  // the decimal HF has, not float32's 9.99999997e-07
  EXPECT_TRUE(c.tie_word_embeddings);
  // Every canonical tensor has its GGUF counterpart with the reversed shape.
  for_each_tensor(c, [&](const TensorDesc& d) {
    auto name = gguf_tensor_name(d.name);
    ASSERT_TRUE(name.has_value()) << d.name;
    const GgufTensorInfo* t = f.find_tensor(*name);
    ASSERT_NE(t, nullptr) << *name;
    ASSERT_EQ(t->ne.size(), d.shape.size()) << *name;
    for (size_t i = 0; i < d.shape.size(); ++i)
      EXPECT_EQ(static_cast<int64_t>(t->ne[i]), d.shape[d.shape.size() - 1 - i]) << *name;
  });
}

TEST(GgufModel, ConverterFixtureKeepsTheShapesOfItsHfSource) {
  GgufFile f = GgufFile::open(fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gguf/tiny_q8_0.gguf");
  ModelConfig c = config_from_gguf(f);
  ModelConfig hf = HfModelFolder::open(fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny/model").config();
  EXPECT_EQ(c.hidden_size, hf.hidden_size);
  EXPECT_EQ(c.num_hidden_layers, hf.num_hidden_layers);
  EXPECT_EQ(c.num_key_value_heads, hf.num_key_value_heads);
  EXPECT_EQ(c.head_dim, hf.head_dim);
  EXPECT_EQ(c.vocab_size, hf.vocab_size);
  EXPECT_EQ(c.sliding_window, hf.sliding_window);
  // llama.cpp's gemma3 ignores the HF pattern (hard-coded 6) and scales queries by 1/sqrt(head_dim):
  EXPECT_EQ(c.layer_types, ModelConfig::pattern_layer_types(hf.num_hidden_layers, 6));
  EXPECT_DOUBLE_EQ(c.query_pre_attn_scalar, static_cast<double>(hf.head_dim));
}

TEST(GgufModel, NameMapping) {
  EXPECT_EQ(gguf_tensor_name("embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(gguf_tensor_name("norm.weight"), "output_norm.weight");
  EXPECT_EQ(gguf_tensor_name("layers.17.mlp.down_proj.weight"), "blk.17.ffn_down.weight");
  EXPECT_EQ(gguf_tensor_name("layers.0.self_attn.k_norm.weight"), "blk.0.attn_k_norm.weight");
  EXPECT_EQ(gguf_tensor_name("layers.2.pre_feedforward_layernorm.weight"), "blk.2.ffn_norm.weight");
  EXPECT_FALSE(gguf_tensor_name("lm_head.weight").has_value());
  EXPECT_FALSE(gguf_tensor_name("layers.1.self_attn.rotary.weight").has_value());
}

TEST(GgufModel, WrongArchitectureIsNamed) {
  GgufWriter w;
  w.add("general.architecture", GgufValue::str("llama"));
  auto bytes = w.to_bytes();
  GgufFile f = GgufFile::parse(bytes, "x.gguf");
  try {
    config_from_gguf(f);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("general.architecture"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scitune
