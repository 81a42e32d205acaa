#include "model/init_random.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "io/json_limits.h"
#include "model/hf_folder.h"
#include "util/error.h"
#include "test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

using ::scitune::testing::error_of;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

struct Stats {
  double mean = 0, sd = 0;
};
Stats stats(const std::vector<float>& v) {
  Stats s;
  for (float x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (float x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(s.sd / static_cast<double>(v.size()));
  return s;
}

class InitTest : public ::scitune::testing::TempDirTest {};

TEST_F(InitTest, TinyReopensWithValidShapesAndHfInit) {
  InitOptions opt;
  opt.seed = 42;
  const auto r = write_random_model(dir_ / "m", *preset("tiny"), opt);
  EXPECT_EQ(r.weight_files, (std::vector<std::string>{"model.safetensors"}));
  EXPECT_EQ(r.parameters, parameter_count(*preset("tiny")));
  EXPECT_EQ(r.data_bytes, r.parameters * 4);
  const auto f = HfModelFolder::open(dir_ / "m");  // validates every tensor's presence and shape
  EXPECT_TRUE(f.config() == *preset("tiny"));
  EXPECT_EQ(f.store().files().at(0)->metadata().at("format"), "pt");  // transformers checks this
  EXPECT_EQ(f.generation().top_k, 64);
  EXPECT_EQ(f.generation().eos_token_ids, (std::vector<int64_t>{1}));

  const auto embed = f.tensor("embed_tokens.weight").to_f32();
  const Stats s = stats(embed);
  EXPECT_NEAR(s.mean, 0.0, 0.001);
  EXPECT_NEAR(s.sd, 0.02, 0.001);  // N(0, initializer_range), 32768 draws
  for (int64_t i = 0; i < 64; ++i) EXPECT_EQ(embed[i], 0.0f) << "pad row (id 0) is zeroed, as nn.Embedding does";
  EXPECT_NE(embed[64], 0.0f);
  const Stats q = stats(f.tensor("layers.0.self_attn.q_proj.weight").to_f32());
  EXPECT_NEAR(q.sd, 0.02, 0.002);
  for (float x : f.tensor("layers.2.self_attn.k_norm.weight").to_f32()) EXPECT_EQ(x, 0.0f);
  for (float x : f.tensor("norm.weight").to_f32()) EXPECT_EQ(x, 0.0f);
}

TEST_F(InitTest, DeterministicForASeed) {
  InitOptions opt;
  opt.seed = 7;
  write_random_model(dir_ / "a", *preset("tiny"), opt);
  write_random_model(dir_ / "b", *preset("tiny"), opt);
  opt.seed = 8;
  write_random_model(dir_ / "c", *preset("tiny"), opt);
  const std::string a = slurp(dir_ / "a/model.safetensors");
  EXPECT_EQ(a, slurp(dir_ / "b/model.safetensors"));
  EXPECT_NE(a, slurp(dir_ / "c/model.safetensors"));
  EXPECT_EQ(slurp(dir_ / "a/config.json"), slurp(dir_ / "c/config.json"));
  // The values are those init_tensor_values reports.
  const auto f = HfModelFolder::open(dir_ / "a");
  opt.seed = 7;
  for (const auto& d : text_tensors(*preset("tiny")))
    ASSERT_EQ(f.tensor(d.name).to_f32(), init_tensor_values(d, *preset("tiny"), opt)) << d.name;
}

TEST_F(InitTest, ValuesDoNotDependOnThreadsShardsOrDtype) {
  ModelConfig c = *preset("tiny");
  c.vocab_size = 20000;  // embedding of 1.28M values spans two RNG blocks
  InitOptions one;
  one.threads = 1;
  write_random_model(dir_ / "t1", c, one);
  InitOptions four = one;
  four.threads = 4;
  write_random_model(dir_ / "t4", c, four);
  EXPECT_EQ(slurp(dir_ / "t1/model.safetensors"), slurp(dir_ / "t4/model.safetensors"));

  InitOptions sharded = one;
  sharded.max_shard_bytes = 1'000'000;  // the embedding (5.1 MB) alone, then the layers
  const auto r = write_random_model(dir_ / "sh", c, sharded);
  ASSERT_GT(r.weight_files.size(), 1u);
  EXPECT_EQ(r.weight_files[0], "model-00001-of-0000" + std::to_string(r.weight_files.size()) + ".safetensors");
  const auto index = read_json_file(dir_ / "sh/model.safetensors.index.json");
  EXPECT_EQ(index["metadata"]["total_size"], r.data_bytes);
  EXPECT_EQ(index["weight_map"]["model.embed_tokens.weight"], r.weight_files[0]);
  const auto a = HfModelFolder::open(dir_ / "t1"), b = HfModelFolder::open(dir_ / "sh");
  EXPECT_EQ(b.store().num_files(), r.weight_files.size());
  for (const auto& d : text_tensors(c)) {
    const auto va = a.tensor(d.name), vb = b.tensor(d.name);
    ASSERT_TRUE(std::equal(va.data.begin(), va.data.end(), vb.data.begin(), vb.data.end())) << d.name;
  }

  InitOptions bf = one;
  bf.dtype = DType::BF16;
  write_random_model(dir_ / "bf", c, bf);
  const auto h = HfModelFolder::open(dir_ / "bf");
  EXPECT_EQ(h.config().dtype, "bfloat16");
  const auto v32 = a.tensor("layers.1.mlp.up_proj.weight").to_f32(),
             v16 = h.tensor("layers.1.mlp.up_proj.weight").to_f32();
  EXPECT_EQ(h.tensor("layers.1.mlp.up_proj.weight").dtype(), DType::BF16);
  for (size_t i = 0; i < v32.size(); ++i) ASSERT_NEAR(v16[i], v32[i], std::abs(v32[i]) / 128) << i;
}

TEST(InitShards, PlanLikeHuggingFaceHub) {
  const ModelConfig c = *preset("gemma3-1b");
  const auto one = plan_shards(c, DType::BF16, 2'000'000'000);
  EXPECT_EQ(one.size(), 1u);  // 1.0B params x 2 bytes = 2.0 GB fits in one 2 GB shard
  const auto f32 = plan_shards(c, DType::F32, 2'000'000'000);
  ASSERT_EQ(f32.size(), 3u);  // 4.0 GB: greedy filling leaves a third, partial shard
  size_t total = 0;
  for (const auto& s : f32) total += s.size();
  EXPECT_EQ(total, text_tensors(c).size());
  EXPECT_EQ(f32[0][0].name, "embed_tokens.weight");
  // A tensor larger than the limit gets a shard of its own.
  const auto tinyshards = plan_shards(*preset("tiny"), DType::F32, 1000);
  EXPECT_EQ(tinyshards[0].size(), 1u);
  EXPECT_EQ(shard_file_name(0, 1), "model.safetensors");
  EXPECT_EQ(shard_file_name(2, 12), "model-00003-of-00012.safetensors");
}

TEST_F(InitTest, RefusesNonEmptyFolderWithoutForceAndCleansStaleShards) {
  std::ofstream(dir_ / "notes.txt") << "mine";
  auto msg = error_of([&] { write_random_model(dir_, *preset("tiny"), {}); });
  EXPECT_NE(msg.find("directory is not empty (pass --force"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir_ / "config.json"));

  InitOptions opt;
  opt.overwrite = Overwrite::kYes;
  opt.max_shard_bytes = 100'000;
  write_random_model(dir_, *preset("tiny"), opt);
  ASSERT_TRUE(fs::exists(dir_ / "model.safetensors.index.json"));
  opt.max_shard_bytes = 2'000'000'000;
  opt.random_norms = true;
  write_random_model(dir_, *preset("tiny"), opt);
  EXPECT_FALSE(fs::exists(dir_ / "model.safetensors.index.json")) << "stale index removed";
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_)) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"config.json", "generation_config.json", "model.safetensors", "notes.txt"}));
  EXPECT_EQ(slurp(dir_ / "notes.txt"), "mine") << "other files are left alone";
  const auto f = HfModelFolder::open(dir_);
  const Stats n = stats(f.tensor("layers.0.input_layernorm.weight").to_f32());
  EXPECT_GT(n.sd, 0.05) << "--random-norms draws norms from N(0, 0.1)";

  std::ofstream(dir_ / "file") << "x";
  msg = error_of([&] { write_random_model(dir_ / "file", *preset("tiny"), {}); });
  EXPECT_NE(msg.find("exists and is not a directory"), std::string::npos) << msg;
  InitOptions bad;
  bad.dtype = DType::I8;
  msg = error_of([&] { write_random_model(dir_ / "x", *preset("tiny"), bad); });
  EXPECT_NE(msg.find("dtype I8 is not supported"), std::string::npos) << msg;
}

}  // namespace
}  // namespace scitune
