#include "model/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "io/json_limits.h"
#include "model/generation_config.h"
#include "model/tensor_names.h"
#include "util/error.h"
#include "test_util.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kFixtures = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/configs";

using ::scitune::testing::error_of;

json fixture(const std::string& name) { return read_json_file(kFixtures / name); }

std::string diff_text(const ModelConfig& a, const ModelConfig& b) {
  std::string s;
  for (const auto& d : differences(a, b)) s += "\n  " + d;
  return s;
}

std::vector<int64_t> global_layers(const ModelConfig& c) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    if (c.is_global(i)) out.push_back(i);
  return out;
}

// --- both spellings and the wrapper give one ModelConfig, equal to the preset ---

TEST(ModelConfig, HubAndV5SpellingsGiveThePreset) {
  for (std::string name : {"gemma3-270m", "gemma3-1b", "gemma3-4b", "tiny", "tiny-wrapper"}) {
    const std::string preset_name = name == "tiny-wrapper" ? "tiny" : name;
    const ModelConfig expected = *preset(preset_name);
    for (std::string spelling : {"-hub.json", "-v5.json"}) {
      SCOPED_TRACE(name + spelling);
      ConfigOrigin origin;
      const ModelConfig c = parse_hf_config(fixture(name + spelling), "config.json", &origin);
      EXPECT_TRUE(c == expected) << diff_text(c, expected);
      const bool wrapper = name == "gemma3-4b" || name == "tiny-wrapper";
      EXPECT_EQ(origin.multimodal, wrapper);
      EXPECT_EQ(origin.architecture, wrapper ? "Gemma3ForConditionalGeneration" : "Gemma3ForCausalLM");
      EXPECT_EQ(origin.model_type, wrapper ? "gemma3" : "gemma3_text");
    }
  }
}

TEST(ModelConfig, SharedGoldenModelIsTheTinyPreset) {
  const fs::path p = fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny/model/config.json";
  if (!fs::exists(p)) GTEST_SKIP() << "shared golden data not found at " << p;
  const ModelConfig c = read_hf_config(p);
  EXPECT_TRUE(c == *preset("tiny")) << diff_text(c, *preset("tiny"));
}

TEST(ModelConfig, ProjectGoldenCasesParse) {
  const fs::path g = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3";
  if (!fs::exists(g / "hub-seed2/model/config.json")) GTEST_SKIP() << "tests/golden/gemma3 not present";
  const ModelConfig hub = read_hf_config(g / "hub-seed2/model/config.json");
  EXPECT_EQ(hub.num_hidden_layers, 3);
  EXPECT_EQ(global_layers(hub), (std::vector<int64_t>{2}));  // sliding_window_pattern 3
  EXPECT_EQ(hub.rope_scaling_factor, 8.0);
  EXPECT_EQ(hub.head_dim, 16);
  ConfigOrigin origin;
  const ModelConfig mm = read_hf_config(g / "multimodal-seed3/model/config.json", &origin);
  EXPECT_TRUE(origin.multimodal);
  EXPECT_EQ(mm.rope_scaling_factor, 1.0);
  EXPECT_EQ(mm.dtype, "float32");  // from the wrapper's top level
}

// The wrapper's text_config falls back on transformers' Gemma3TextConfig defaults (v5.12).
TEST(ModelConfig, WrapperWithoutTextConfigTakesTransformersDefaults) {
  const ModelConfig c = parse_hf_config(json{{"model_type", "gemma3"}}, "config.json");
  EXPECT_EQ(c.vocab_size, 262208);
  EXPECT_EQ(c.hidden_size, 2304);
  EXPECT_EQ(c.intermediate_size, 9216);
  EXPECT_EQ(c.num_hidden_layers, 26);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.query_pre_attn_scalar, 256);
  EXPECT_EQ(c.sliding_window, 4096);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(global_layers(c), (std::vector<int64_t>{5, 11, 17, 23}));
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.rope_local_base_freq, 1e4);
  EXPECT_EQ(c.rope_scaling_factor, 1.0);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1}));
  EXPECT_TRUE(c.tie_word_embeddings);
}

// --- presets against the spec table (1.1) ---

TEST(ModelConfig, PresetsMatchTheSpecTable) {
  const ModelConfig a = *preset("gemma3-270m"), b = *preset("gemma3-1b"), c = *preset("gemma3-4b");
  EXPECT_EQ(a.vocab_size, 262144);
  EXPECT_EQ(b.vocab_size, 262144);
  EXPECT_EQ(c.vocab_size, 262208);
  EXPECT_EQ(a.hidden_size, 640);
  EXPECT_EQ(b.hidden_size, 1152);
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(a.num_hidden_layers, 18);
  EXPECT_EQ(b.num_hidden_layers, 26);
  EXPECT_EQ(c.num_hidden_layers, 34);
  EXPECT_EQ(a.num_attention_heads, 4);
  EXPECT_EQ(b.num_attention_heads, 4);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(a.num_key_value_heads, 1);
  EXPECT_EQ(b.num_key_value_heads, 1);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(a.intermediate_size, 2048);
  EXPECT_EQ(b.intermediate_size, 6912);
  EXPECT_EQ(c.intermediate_size, 10240);
  EXPECT_EQ(a.sliding_window, 512);
  EXPECT_EQ(b.sliding_window, 512);
  EXPECT_EQ(c.sliding_window, 1024);
  EXPECT_EQ(global_layers(a), (std::vector<int64_t>{5, 11, 17}));
  EXPECT_EQ(global_layers(b), (std::vector<int64_t>{5, 11, 17, 23}));
  EXPECT_EQ(global_layers(c), (std::vector<int64_t>{5, 11, 17, 23, 29}));
  EXPECT_EQ(a.max_position_embeddings, 32768);
  EXPECT_EQ(b.max_position_embeddings, 32768);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(a.rope_scaling_factor, 1.0);
  EXPECT_EQ(b.rope_scaling_factor, 1.0);
  EXPECT_EQ(c.rope_scaling_factor, 8.0);
  EXPECT_EQ(a.eos_token_ids, (std::vector<int64_t>{1}));
  EXPECT_EQ(b.eos_token_ids, (std::vector<int64_t>{1, 106}));
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1, 106}));
  for (const ModelConfig* m : {&a, &b, &c}) {
    EXPECT_EQ(m->head_dim, 256);
    EXPECT_EQ(m->query_pre_attn_scalar, 256);
    EXPECT_EQ(m->rope_theta, 1e6);
    EXPECT_EQ(m->rope_local_base_freq, 1e4);
    EXPECT_EQ(m->rms_norm_eps, 1e-6);
    EXPECT_EQ(m->attn_logit_softcapping, 0);
    EXPECT_EQ(m->final_logit_softcapping, 0);
    EXPECT_TRUE(m->tie_word_embeddings);
    EXPECT_EQ(m->pad_token_id, 0);
    EXPECT_EQ(m->bos_token_id, 2);
    EXPECT_EQ(m->dtype, "bfloat16");
  }
  // Published parameter counts of the text decoders (tied head counted once).
  EXPECT_EQ(parameter_count(a), 268098176u);
  EXPECT_EQ(parameter_count(b), 999885952u);
  EXPECT_FALSE(preset("gemma3-27b").has_value());
  for (auto name : preset_names()) EXPECT_NO_THROW(validate(*preset(name), std::string(name)));
}

// --- contradictions and bad values: each names config.json and the field ---

struct BadCase {
  std::string what;
  std::function<void(json& text, json& root)> edit;
  std::string expect;
};

TEST(ModelConfig, RejectsContradictionsAndBadValues) {
  const std::vector<BadCase> cases = {
      {"short layer_types", [](json& t, json&) { t["layer_types"].erase(0); },
       "\"layer_types\" has 3 entries but \"num_hidden_layers\" is 4"},
      {"bad layer type", [](json& t, json&) { t["layer_types"][1] = "chunked_attention"; },
       "\"layer_types\"[1]: \"chunked_attention\", expected sliding_attention or full_attention"},
      {"pattern vs layer_types",
       [](json& t, json&) { t["sliding_window_pattern"] = 3, t["_sliding_window_pattern"] = 3; },
       "\"layer_types\" contradicts \"_sliding_window_pattern\" = 3"},
      {"two patterns", [](json& t, json&) { t["_sliding_window_pattern"] = 3; },
       "\"_sliding_window_pattern\" = 3 contradicts \"sliding_window_pattern\" = 2"},
      {"rope_theta twice", [](json& t, json&) { t["rope_theta"] = 10000.0; },
       "\"rope_parameters\".full_attention.rope_theta = 1000000.0 contradicts \"rope_theta\" = 10000.0"},
      {"local theta twice", [](json& t, json&) { t["rope_local_base_freq"] = 5.0; },
       "contradicts \"rope_local_base_freq\" = 5.0"},
      {"factor twice",
       [](json& t, json&) {
         t["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 4.0}};
       },
       "\"rope_parameters\".full_attention.factor = 8.0 contradicts \"rope_scaling\".factor = 4.0"},
      {"default vs linear",
       [](json& t, json&) {
         t["rope_parameters"]["full_attention"] = {{"rope_type", "default"}, {"rope_theta", 1e6}};
         t["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
       },
       "factor = 1.0 contradicts \"rope_scaling\".factor = 8.0"},
      // transformers 5 keeps rope_type "default" when a legacy {"type": "linear"} is merged in: contradictory.
      {"v5 default with factor",
       [](json& t, json&) { t["rope_parameters"]["full_attention"]["rope_type"] = "default"; },
       "\"rope_parameters\" \"full_attention\": \"factor\" is given but rope_type is \"default\""},
      {"yarn", [](json& t, json&) { t["rope_parameters"]["full_attention"]["rope_type"] = "yarn"; },
       "rope_type \"yarn\" is not supported"},
      {"linear without factor", [](json& t, json&) { t["rope_parameters"]["full_attention"].erase("factor"); },
       "rope_type \"linear\" needs \"factor\""},
      {"scaled sliding",
       [](json& t, json&) {
         t["rope_parameters"]["sliding_attention"] = {{"rope_type", "linear"}, {"factor", 2.0}};
       },
       "RoPE scaling on sliding layers is not supported"},
      {"flat rope_parameters",
       [](json& t, json&) {
         t["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e6}};
       },
       "\"rope_parameters\": expected one entry per layer type"},
      {"dtype twice", [](json& t, json&) { t["torch_dtype"] = "bfloat16"; },
       "\"dtype\" = \"float32\" contradicts \"torch_dtype\" = \"bfloat16\""},
      {"bad dtype", [](json& t, json&) { t["dtype"] = "int8"; }, "\"dtype\" is \"int8\", expected float32"},
      {"kv heads", [](json& t, json&) { t["num_key_value_heads"] = 3; },
       "\"num_key_value_heads\" = 3 must divide \"num_attention_heads\" = 4"},
      {"hidden vs heads", [](json& t, json&) { t["hidden_size"] = 66; },
       "\"hidden_size\" = 66 is not a multiple of \"num_attention_heads\" = 4"},
      {"zero hidden", [](json& t, json&) { t["hidden_size"] = 0; }, "\"hidden_size\" = 0 must be positive"},
      {"negative ffn", [](json& t, json&) { t["intermediate_size"] = -128; },
       "\"intermediate_size\" = -128 must be positive"},
      {"odd head_dim", [](json& t, json&) { t["head_dim"] = 31; }, "\"head_dim\" = 31 must be even"},
      {"huge layers", [](json& t, json&) { t["num_hidden_layers"] = 1000000000000; },
       "\"num_hidden_layers\" = 1000000000000 must be in [1, 4096]"},
      {"eps", [](json& t, json&) { t["rms_norm_eps"] = 0.0; }, "\"rms_norm_eps\" = 0.0 must be a positive number"},
      {"activation", [](json& t, json&) { t["hidden_activation"] = "gelu"; },
       "\"hidden_activation\" is \"gelu\", Gemma 3 uses \"gelu_pytorch_tanh\""},
      {"string size", [](json& t, json&) { t["hidden_size"] = "64"; },
       "\"hidden_size\": expected an integer, found string"},
      {"float size", [](json& t, json&) { t["vocab_size"] = 512.5; },
       "\"vocab_size\": expected an integer, found number 512.5"},
      {"null size", [](json& t, json&) { t["sliding_window"] = nullptr; }, "\"sliding_window\": null is not supported"},
      {"eos outside vocab",
       [](json& t, json&) {
         t["eos_token_id"] = {1, 512};
       },
       "\"eos_token_id\" = 512 is outside the vocabulary [0, 512)"},
      {"bos type", [](json& t, json&) { t["bos_token_id"] = "2"; }, "\"bos_token_id\": expected an integer"},
      {"negative softcap", [](json& t, json&) { t["final_logit_softcapping"] = -1.0; },
       "\"final_logit_softcapping\" = -1.0"},
      {"bias", [](json& t, json&) { t["attention_bias"] = true; }, "\"attention_bias\": true is not supported"},
      {"bidirectional", [](json& t, json&) { t["use_bidirectional_attention"] = true; },
       "\"use_bidirectional_attention\": true"},
      {"architecture", [](json&, json& r) { r["architectures"] = {"LlamaForCausalLM"}; },
       "\"architectures\": \"LlamaForCausalLM\" is not supported (expected Gemma3ForCausalLM or "
       "Gemma3ForConditionalGeneration)"},
      {"model_type", [](json&, json& r) { r["model_type"] = "gemma2"; }, "\"model_type\": \"gemma2\" is not supported"},
      {"arch vs type", [](json&, json& r) { r["model_type"] = "gemma3"; },
       "\"model_type\": \"gemma3\" contradicts \"architectures\": \"Gemma3ForCausalLM\""},
      {"no arch", [](json&, json& r) { r.erase("architectures"), r.erase("model_type"); },
       "missing \"architectures\" and \"model_type\""},
      {"two archs",
       [](json&, json& r) {
         r["architectures"] = {"Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"};
       },
       "lists several models"},
  };
  const json base = fixture("tiny-v5.json");
  for (const auto& c : cases) {
    json root = base;
    c.edit(root, root);
    const auto msg = error_of([&] { parse_hf_config(root, "config.json"); });
    EXPECT_EQ(msg.rfind("config.json: ", 0), 0u) << c.what << ": " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.what << "\n  got: " << msg;
  }
  // In the wrapper, field names carry the text_config prefix.
  json wrapper = fixture("tiny-wrapper-v5.json");
  wrapper["text_config"]["num_key_value_heads"] = 3;
  auto msg = error_of([&] { parse_hf_config(wrapper, "config.json"); });
  EXPECT_NE(msg.find("\"num_key_value_heads\" = 3 must divide"), std::string::npos) << msg;
  wrapper = fixture("tiny-wrapper-v5.json");
  wrapper["text_config"]["hidden_size"] = "x";
  msg = error_of([&] { parse_hf_config(wrapper, "config.json"); });
  EXPECT_NE(msg.find("config.json: \"text_config.hidden_size\": expected an integer"), std::string::npos) << msg;
  wrapper["text_config"] = {{"model_type", "gemma2"}};
  msg = error_of([&] { parse_hf_config(wrapper, "config.json"); });
  EXPECT_NE(msg.find("\"text_config.model_type\": \"gemma2\", expected \"gemma3_text\""), std::string::npos) << msg;
  wrapper["text_config"] = 5;
  msg = error_of([&] { parse_hf_config(wrapper, "config.json"); });
  EXPECT_NE(msg.find("\"text_config\": expected an object"), std::string::npos) << msg;
}

TEST(ModelConfig, DuplicateKeysInTheFileAreRejected) {
  const fs::path p = fs::path(::testing::TempDir()) / ("dup_config_" + std::to_string(::getpid()) + ".json");
  std::ofstream(p) << R"({"model_type": "gemma3_text", "hidden_size": 64, "hidden_size": 128})";
  const auto msg = error_of([&] { read_hf_config(p); });
  fs::remove(p);
  EXPECT_NE(msg.find("duplicate key \"hidden_size\""), std::string::npos) << msg;
}

// --- writing ---

TEST(ModelConfig, WrittenConfigReadsBackEqual) {
  for (auto name : preset_names()) {
    SCOPED_TRACE(std::string(name));
    const ModelConfig c = *preset(name);
    const json j = to_hf_config(c);
    const ModelConfig back = parse_hf_config(j, "config.json");
    EXPECT_TRUE(back == c) << diff_text(back, c);
    EXPECT_EQ(j["architectures"], json({"Gemma3ForCausalLM"}));
    EXPECT_EQ(j["model_type"], "gemma3_text");
    EXPECT_EQ(j["dtype"], c.dtype);
    EXPECT_EQ(j["torch_dtype"], c.dtype);
  }
  // Non-periodic layer types are written without a pattern and still read back.
  ModelConfig odd = *preset("tiny");
  odd.layer_types = {LayerType::kGlobal, LayerType::kSliding, LayerType::kGlobal, LayerType::kGlobal};
  odd.final_logit_softcapping = 30.0;
  odd.eos_token_ids = {1, 106 % 512};
  const json j = to_hf_config(odd);
  EXPECT_FALSE(j.contains("sliding_window_pattern"));
  EXPECT_EQ(j["final_logit_softcapping"], 30.0);
  EXPECT_TRUE(parse_hf_config(j, "config.json") == odd);
}

TEST(ModelConfig, WrittenTinyConfigMatchesTransformersOutput) {
  // Every key transformers 5 wrote for the golden tiny model, with the same value (except its version stamp).
  const json ours = to_hf_config(*preset("tiny")), ref = fixture("tiny-v5.json");
  for (const auto& [k, v] : ref.items()) {
    if (k == "transformers_version" || k == "_sliding_window_pattern") continue;
    ASSERT_TRUE(ours.contains(k)) << k;
    EXPECT_EQ(ours[k], v) << k;
  }
}

TEST(ModelConfig, WriteRefusesToOverwrite) {
  const fs::path p = fs::path(::testing::TempDir()) / ("cfg_" + std::to_string(::getpid()) + ".json");
  fs::remove(p);
  write_hf_config(p, *preset("tiny"));
  EXPECT_NE(error_of([&] { write_hf_config(p, *preset("tiny")); }).find("already exists"), std::string::npos);
  write_hf_config(p, *preset("gemma3-1b"), Overwrite::kYes);
  EXPECT_TRUE(read_hf_config(p) == *preset("gemma3-1b"));
  fs::remove(p);
}

TEST(ModelConfig, DescribeAndDifferences) {
  const ModelConfig a = *preset("gemma3-270m");
  ModelConfig b = a;
  EXPECT_TRUE(differences(a, b).empty());
  b.rope_theta = 5e5;
  b.layer_types[0] = LayerType::kGlobal;
  const auto d = differences(a, b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].rfind("layer_types:", 0), 0u);
  EXPECT_EQ(d[1], "rope_theta: 1000000.0 vs 500000.0");
  const std::string text = describe(a);
  EXPECT_NE(text.find("hidden_size: 640"), std::string::npos) << text;
  EXPECT_NE(text.find("global layers: [5, 11, 17]"), std::string::npos) << text;
  EXPECT_NE(text.find("final_logit_softcapping: none"), std::string::npos) << text;
  const auto j = to_json(a);
  EXPECT_EQ(j["num_hidden_layers"], 18);
  EXPECT_EQ(j["layer_types"].size(), 18u);
  EXPECT_EQ(j["eos_token_ids"], json({1}));
}

// --- generation_config.json ---

TEST(GenerationConfig, GemmaDefaultsFillWhatTheFileOmits) {
  const ModelConfig m = *preset("gemma3-1b");
  const auto g = parse_generation_config(json{{"bos_token_id", 2}, {"eos_token_id", {1, 106}}, {"pad_token_id", 0}},
                                         "generation_config.json", m);
  EXPECT_TRUE(g.do_sample);
  EXPECT_EQ(g.temperature, 1.0);
  EXPECT_EQ(g.top_k, 64);
  EXPECT_EQ(g.top_p, 0.95);
  EXPECT_EQ(g.min_p, 0.0);
  EXPECT_EQ(g.repetition_penalty, 1.0);
  EXPECT_FALSE(g.max_new_tokens.has_value());
  EXPECT_EQ(g.eos_token_ids, (std::vector<int64_t>{1, 106}));
  EXPECT_TRUE(g == generation_defaults_for(m));
  // Ids the file leaves out come from config.json; a single eos id is a one-element list.
  const auto g2 = parse_generation_config(
      json{{"eos_token_id", 1}, {"top_k", 0}, {"temperature", 0.7}, {"do_sample", false}, {"max_new_tokens", 128}},
      "generation_config.json", m);
  EXPECT_EQ(g2.eos_token_ids, (std::vector<int64_t>{1}));
  EXPECT_EQ(g2.bos_token_id, 2);
  EXPECT_EQ(g2.top_k, 0);
  EXPECT_EQ(g2.temperature, 0.7);
  EXPECT_FALSE(g2.do_sample);
  EXPECT_EQ(g2.max_new_tokens, 128);
}

TEST(GenerationConfig, ReadsGoldenFileAndRoundTrips) {
  const fs::path p = fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny/model/generation_config.json";
  const ModelConfig m = *preset("tiny");
  if (fs::exists(p)) {
    const auto g = read_generation_config(p, m);
    EXPECT_EQ(g.eos_token_ids, (std::vector<int64_t>{1}));
    EXPECT_EQ(g.pad_token_id, 0);
  }
  EXPECT_TRUE(read_generation_config("/nonexistent/generation_config.json", m) == generation_defaults_for(m));
  GenerationDefaults g = generation_defaults_for(m);
  g.min_p = 0.05, g.max_new_tokens = 256, g.temperature = 0.3, g.eos_token_ids = {1, 3};
  EXPECT_TRUE(parse_generation_config(to_hf_generation_config(g), "g", m) == g);
}

TEST(GenerationConfig, RejectsOutOfRangeValues) {
  const ModelConfig m = *preset("tiny");
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"top_p", 0.0}}, "\"top_p\" = 0.0, expected a number in (0, 1]"},
      {{{"top_p", 1.5}}, "\"top_p\" = 1.5"},
      {{{"top_k", -1}}, "\"top_k\" = -1.0, expected an integer >= 0"},
      {{{"temperature", -0.1}}, "\"temperature\" = -0.1"},
      {{{"min_p", 2.0}}, "\"min_p\" = 2.0"},
      {{{"repetition_penalty", 0}}, "\"repetition_penalty\" = 0.0"},
      {{{"max_new_tokens", 0}}, "\"max_new_tokens\" = 0, expected at least 1"},
      {{{"eos_token_id", {1, 9999}}}, "\"eos_token_id\" = 9999 is outside the vocabulary"},
      {{{"do_sample", "yes"}}, "\"do_sample\": expected true or false"},
      {{{"top_k", 5.5}}, "\"top_k\": expected an integer"},
  };
  for (const auto& [j, expect] : cases) {
    const auto msg = error_of([&] { parse_generation_config(j, "generation_config.json", m); });
    EXPECT_NE(msg.find("generation_config.json: " + expect), std::string::npos) << j.dump() << " -> " << msg;
  }
}

}  // namespace
}  // namespace scitune
