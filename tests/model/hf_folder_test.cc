#include "model/hf_folder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "model/tensor_names.h"
#include "util/error.h"
#include "test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

using ::scitune::testing::error_of;

class HfFolderTest : public ::scitune::testing::TempDirTest {
 protected:

  // A folder for `c` whose tensors are the expected ones, renamed / reshaped / dropped by `edit`
  // (return false to drop), plus `extra` tensors; zero data.
  void make_folder(const ModelConfig& c, const std::string& prefix,
                   const std::function<bool(TensorSpec&)>& edit = nullptr, std::vector<TensorSpec> extra = {}) {
    write_hf_config(dir_ / "config.json", c, Overwrite::kYes);
    std::vector<TensorSpec> specs = std::move(extra);
    for_each_tensor(c, [&](const TensorDesc& d) {
      TensorSpec s{d.role == TensorRole::kLmHead ? d.name : prefix + d.name, DType::F32, d.shape};
      if (!edit || edit(s)) specs.push_back(s);
    });
    write_safetensors_streaming(
        dir_ / "model.safetensors", specs, {{"format", "pt"}},
        [](const TensorSpec& s, TensorSink& sink) {
          std::vector<uint8_t> zeros(s.nbytes());
          sink.write(zeros);
        },
        Overwrite::kYes);
  }
};

std::vector<int64_t> shape_of(const TensorView& v) { return {v.shape().begin(), v.shape().end()}; }

TEST(TensorNames, OneEnumerationDrivenByTheConfig) {
  const ModelConfig c = *preset("gemma3-270m");
  const auto all = text_tensors(c);
  ASSERT_EQ(all.size(), 2u + 13u * 18u);  // embed + norm + 13 per layer; tied head not listed
  std::set<std::string> names;
  for (const auto& d : all) names.insert(d.name);
  EXPECT_EQ(names.size(), all.size()) << "names are unique";
  auto find = [&](const std::string& n) {
    for (const auto& d : all)
      if (d.name == n) return d.shape;
    return std::vector<int64_t>{};
  };
  // Spec table 1.1, gemma-3-270m column.
  EXPECT_EQ(find("embed_tokens.weight"), (std::vector<int64_t>{262144, 640}));
  EXPECT_EQ(find("layers.0.self_attn.q_proj.weight"), (std::vector<int64_t>{1024, 640}));
  EXPECT_EQ(find("layers.17.self_attn.k_proj.weight"), (std::vector<int64_t>{256, 640}));
  EXPECT_EQ(find("layers.3.self_attn.v_proj.weight"), (std::vector<int64_t>{256, 640}));
  EXPECT_EQ(find("layers.3.self_attn.o_proj.weight"), (std::vector<int64_t>{640, 1024}));
  EXPECT_EQ(find("layers.3.self_attn.q_norm.weight"), (std::vector<int64_t>{256}));
  EXPECT_EQ(find("layers.3.mlp.gate_proj.weight"), (std::vector<int64_t>{2048, 640}));
  EXPECT_EQ(find("layers.3.mlp.down_proj.weight"), (std::vector<int64_t>{640, 2048}));
  EXPECT_EQ(find("layers.3.post_feedforward_layernorm.weight"), (std::vector<int64_t>{640}));
  EXPECT_EQ(find("norm.weight"), (std::vector<int64_t>{640}));
  ModelConfig untied = c;
  untied.tie_word_embeddings = false;
  const auto u = text_tensors(untied);
  ASSERT_EQ(u.size(), all.size() + 1);
  EXPECT_EQ(u.back().name, "lm_head.weight");
  EXPECT_EQ(u.back().role, TensorRole::kLmHead);
  EXPECT_EQ(parameter_count(untied), parameter_count(c) + 262144u * 640u);
}

TEST(HfFolder, OpensSharedGoldenModel) {
  const fs::path dir = fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny/model";
  if (!fs::exists(dir)) GTEST_SKIP() << "shared golden model not found at " << dir;
  const auto f = HfModelFolder::open(dir);
  EXPECT_TRUE(f.config() == *preset("tiny"));
  EXPECT_EQ(f.origin().architecture, "Gemma3ForCausalLM");
  EXPECT_EQ(f.text_prefix(), "model.");
  EXPECT_TRUE(f.other_tensors().empty());
  EXPECT_FALSE(f.has_separate_lm_head());
  EXPECT_EQ(f.generation().eos_token_ids, (std::vector<int64_t>{1}));
  for (const auto& d : text_tensors(f.config())) {
    const auto v = f.tensor(d.name);
    EXPECT_EQ(shape_of(v), d.shape) << d.name;
    EXPECT_EQ(v.dtype(), DType::F32);
  }
  // The golden norms are random (README): a non-zero gain offset proves we read real data.
  const auto norm = f.tensor("layers.1.input_layernorm.weight").to_f32();
  EXPECT_NE(norm[0], 0.0f);
  // Tied head: lm_head.weight is the embedding matrix itself.
  EXPECT_EQ(f.tensor("lm_head.weight").data.data(), f.tensor("embed_tokens.weight").data.data());
}

TEST(HfFolder, OpensProjectGoldenLayouts) {
  const fs::path g = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3";
  if (!fs::exists(g / "multimodal-seed3/model")) GTEST_SKIP() << "tests/golden/gemma3 not present";
  const auto mm = HfModelFolder::open(g / "multimodal-seed3/model");
  EXPECT_TRUE(mm.origin().multimodal);
  EXPECT_EQ(mm.text_prefix(), "language_model.model.");  // transformers 5 still saves the old layout
  EXPECT_GT(mm.other_tensors().size(), 10u);             // vision tower and projector, ignored
  EXPECT_EQ(shape_of(mm.tensor("layers.3.mlp.down_proj.weight")), (std::vector<int64_t>{64, 128}));
  const auto hub = HfModelFolder::open(g / "hub-seed2/model");
  EXPECT_EQ(hub.config().num_hidden_layers, 3);
  EXPECT_EQ(shape_of(hub.tensor("layers.2.self_attn.q_proj.weight")), (std::vector<int64_t>{32, 64}));
}

TEST_F(HfFolderTest, AllThreePrefixesWork) {
  const ModelConfig c = *preset("tiny");
  for (std::string prefix : {"model.", "model.language_model.", "language_model.model."}) {
    SCOPED_TRACE(prefix);
    make_folder(c, prefix, nullptr, {{"vision_tower.patch.weight", DType::F32, {3, 4}}});
    const auto f = HfModelFolder::open(dir_);
    EXPECT_EQ(f.text_prefix(), prefix);
    EXPECT_EQ(f.other_tensors(), (std::vector<std::string>{"vision_tower.patch.weight"}));
    EXPECT_EQ(shape_of(f.tensor("layers.3.self_attn.o_proj.weight")), (std::vector<int64_t>{64, 128}));
  }
}

TEST_F(HfFolderTest, SeparateLmHead) {
  ModelConfig c = *preset("tiny");
  c.tie_word_embeddings = false;
  make_folder(c, "model.");
  const auto f = HfModelFolder::open(dir_);
  EXPECT_TRUE(f.has_separate_lm_head());
  EXPECT_NE(f.tensor("lm_head.weight").data.data(), f.tensor("embed_tokens.weight").data.data());
  // Untied config without the head.
  make_folder(c, "model.", [](TensorSpec& s) { return s.name != "lm_head.weight"; });
  auto msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("tensor \"lm_head.weight\" is missing (config.json: tie_word_embeddings is false)"),
            std::string::npos)
      << msg;
}

TEST_F(HfFolderTest, ValidationNamesTheTensorAndShapes) {
  const ModelConfig c = *preset("tiny");
  make_folder(c, "model.", [](TensorSpec& s) { return s.name != "model.layers.2.mlp.up_proj.weight"; });
  auto msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("tensor \"model.layers.2.mlp.up_proj.weight\" is missing (from config.json: 4 layers"),
            std::string::npos)
      << msg;

  make_folder(c, "model.", [](TensorSpec& s) {
    if (s.name == "model.layers.1.self_attn.k_proj.weight") s.shape = {32, 64};
    return true;
  });
  msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("tensor \"model.layers.1.self_attn.k_proj.weight\" has shape [32, 64], expected [64, 64]"),
            std::string::npos)
      << msg;

  make_folder(c, "model.", [](TensorSpec& s) {
    if (s.name == "model.norm.weight") s.dtype = DType::I32;
    return true;
  });
  msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("tensor \"model.norm.weight\" has dtype I32, expected F32, BF16 or F16"), std::string::npos)
      << msg;

  make_folder(c, "model.", nullptr, {{"model.layers.4.mlp.up_proj.weight", DType::F32, {128, 64}}});
  msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("tensor \"model.layers.4.mlp.up_proj.weight\" is not part of a Gemma 3 text decoder"),
            std::string::npos)
      << msg;

  make_folder(c, "model.", nullptr, {{"lm_head.weight", DType::F32, {512, 32}}});
  msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("tensor \"lm_head.weight\" has shape [512, 32], expected [512, 64]"), std::string::npos) << msg;

  make_folder(c, "transformer.");
  msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("no text decoder: expected \"embed_tokens.weight\" under"), std::string::npos) << msg;

  make_folder(c, "model.", nullptr, {{"language_model.model.embed_tokens.weight", DType::F32, {512, 64}}});
  msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("text decoder tensors found under both"), std::string::npos) << msg;
}

TEST_F(HfFolderTest, ConfigProblemsNameTheFile) {
  auto msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("no config.json"), std::string::npos) << msg;
  std::ofstream(dir_ / "config.json") << R"({"model_type": "llama"})";
  msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find((dir_ / "config.json").string() + ": \"model_type\": \"llama\" is not supported"),
            std::string::npos)
      << msg;
  make_folder(*preset("tiny"), "model.");
  std::ofstream(dir_ / "generation_config.json") << R"({"top_p": 7})";
  msg = error_of([&] { HfModelFolder::open(dir_); });
  EXPECT_NE(msg.find("generation_config.json: \"top_p\" = 7.0"), std::string::npos) << msg;
  msg = error_of([&] { HfModelFolder::open(dir_ / "nope"); });
  EXPECT_NE(msg.find("not a directory"), std::string::npos) << msg;
}

}  // namespace
}  // namespace scitune
