// The per-tensor GGUF types we pick equal llama-quantize's: against the released Gemma 3 270M Q4_K_M (made by
// llama-quantize; its tensor table is committed as JSON) and llama-quantize/convert outputs of the tiny model.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "export/gguf_types.h"
#include "io/gguf.h"
#include "model/config.h"
#include "model/gguf_model.h"
#include "model/tensor_names.h"

namespace scitune {
namespace {

const std::filesystem::path kGolden = std::filesystem::path(SCITUNE_SOURCE_DIR) / "tests/golden/gguf";

std::vector<GgufTensorPlan> plan_for(const ModelConfig& c, std::string_view type) {
  std::vector<GgufTensorPlan> v;
  for (const TensorDesc& d : text_tensors(c)) {
    if (d.role == TensorRole::kLmHead) continue;
    v.push_back({*gguf_tensor_name(d.name), std::vector<uint64_t>(d.shape.rbegin(), d.shape.rend())});
  }
  plan_gguf_types(*parse_gguf_file_type(type), v);
  return v;
}

std::map<std::string, std::string> types_in(const std::string& json_file) {
  std::ifstream in(kGolden / json_file);
  const auto j = nlohmann::json::parse(in);
  std::map<std::string, std::string> m;
  for (const auto& t : j["tensors"]) m[t["name"].get<std::string>()] = t["type"].get<std::string>();
  return m;
}

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

void expect_same_types(const std::vector<GgufTensorPlan>& plan, const std::map<std::string, std::string>& want) {
  ASSERT_EQ(plan.size(), want.size());
  for (const auto& t : plan) {
    ASSERT_TRUE(want.count(t.name)) << t.name;
    EXPECT_EQ(upper(ggml_info(t.type).name), want.at(t.name)) << t.name;
  }
}

TEST(GgufTypes, Real270mQ4KMixIsLlamaQuantizes) {
  // 90 fallbacks: 640-wide rows cannot hold 256-value K-quant blocks (attn_q/k/v, ffn_gate/up, token_embd).
  const auto plan = plan_for(*preset("gemma3-270m"), "q4_k_m");
  expect_same_types(plan, types_in("gemma-3-270m-q4_k_m.json"));
  int fallbacks = 0;
  for (const auto& t : plan) fallbacks += t.fell_back;
  EXPECT_EQ(fallbacks, 90);
}

TEST(GgufTypes, TinyModelMatchesLlamaQuantizeAndConverter) {
  const GgufFile f16 = GgufFile::open(kGolden / "tiny_f16.gguf");
  const ModelConfig c = config_from_gguf(f16);
  expect_same_types(plan_for(c, "q4_k_m"), types_in("tiny_q4_k_m.json"));
  expect_same_types(plan_for(c, "q8_0"), types_in("tiny_q8_0.json"));
  expect_same_types(plan_for(c, "f16"), types_in("tiny_f16.json"));
}

TEST(GgufTypes, FourBShapeKeepsKQuants) {
  // 2560-wide rows divide 256: no fallback; the tied embedding is the output tensor -> Q6_K.
  const auto plan = plan_for(*preset("gemma3-4b"), "q4_k_m");
  std::map<std::string, GgmlType> by;
  for (const auto& t : plan) {
    by[t.name] = t.type;
    EXPECT_FALSE(t.fell_back) << t.name;
  }
  EXPECT_EQ(by["token_embd.weight"], GgmlType::Q6_K);
  EXPECT_EQ(by["blk.0.attn_q.weight"], GgmlType::Q4_K);
  EXPECT_EQ(by["blk.0.attn_v.weight"], GgmlType::Q6_K);  // use_more_bits(0, 34)
  EXPECT_EQ(by["blk.5.attn_v.weight"], GgmlType::Q4_K);
  EXPECT_EQ(by["blk.6.ffn_down.weight"], GgmlType::Q6_K);  // (6 - 4) % 3 == 2
  EXPECT_EQ(by["blk.0.attn_norm.weight"], GgmlType::F32);
  // Q4_0 file: the tied output gets Q6_K, not Q4_0 (llama-quantize's output rule).
  for (const auto& t : plan_for(*preset("gemma3-4b"), "q4_0")) {
    if (t.name == "token_embd.weight") {
      EXPECT_EQ(t.type, GgmlType::Q6_K);
    } else if (t.ne.size() == 2) {
      EXPECT_EQ(t.type, GgmlType::Q4_0) << t.name;
    }
  }
}

TEST(GgufTypes, OrderIsLlamaCpps) {
  EXPECT_TRUE(llama_tensor_order_less("token_embd.weight", "blk.0.attn_q.weight"));
  EXPECT_TRUE(llama_tensor_order_less("blk.2.ffn_up.weight", "blk.10.attn_k.weight"));
  EXPECT_TRUE(llama_tensor_order_less("blk.3.attn_k.weight", "blk.3.attn_q.weight"));
}

TEST(GgufTypes, FileTypeNames) {
  EXPECT_EQ(parse_gguf_file_type("Q4_K_M")->ftype, 15u);
  EXPECT_EQ(parse_gguf_file_type("q8_0")->ftype, 7u);
  EXPECT_EQ(parse_gguf_file_type("bf16")->ftype, 32u);
  EXPECT_FALSE(parse_gguf_file_type("q3_k_xl"));
  EXPECT_FALSE(parse_gguf_file_type(""));
}

}  // namespace
}  // namespace scitune
