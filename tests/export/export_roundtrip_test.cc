// Every export format read back gives the model it came from: base + adapter logits through our own loaders
// (GGUF F32, merged HF folder single and sharded), the GGUF metadata llama.cpp needs, the llama.cpp LoRA layout
// and its scale rule. (tools/oracle/export_check.sh proves the same files in transformers and llama.cpp.)
#include <gtest/gtest.h>

#include <cmath>

#include "export/export_base.h"
#include "export/gguf_export.h"
#include "export/hf_export.h"
#include "export/lora_export.h"
#include "export/model_card.h"
#include "export/staged_output.h"
#include "export_fixture.h"
#include "io/gguf.h"
#include "io/safetensors_index.h"
#include "model/gguf_model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "util/atomic_file.h"
#include "util/half.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;
using testing::ExportFixture;

class ExportRoundTrip : public ExportFixture {
 protected:
  void SetUp() override {
    out_ = root_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(out_);
    fs::create_directories(out_);
  }
  fs::path out_;
};

TEST_F(ExportRoundTrip, GgufF32EqualsBasePlusAdapter) {
  ExportBase b = ExportBase::open(base());
  b.attach_adapter(adapter());
  GgufExportPlan plan = plan_gguf_export(b, {*parse_gguf_file_type("f32"), "tiny", std::nullopt});
  plan.writer.write(out_ / "m.gguf");
  const auto want = logits(base(), adapter(), sample_ids());
  const auto got = logits(out_ / "m.gguf", "", sample_ids());
  EXPECT_LT(testing::rel_err(got, want), 1e-5);
  // The adapter changes the model (so the comparison above is not vacuous).
  EXPECT_GT(testing::rel_err(logits(base(), "", sample_ids()), want), 1e-3);
}

TEST_F(ExportRoundTrip, GgufMetadataIsWhatLlamaCppReads) {
  ExportBase b = ExportBase::open(base());
  GgufExportPlan plan = plan_gguf_export(b, {*parse_gguf_file_type("q8_0"), "tiny", std::nullopt});
  plan.writer.write(out_ / "m.gguf");
  const GgufFile f = GgufFile::open(out_ / "m.gguf");
  EXPECT_EQ(f.get_string("general.architecture"), "gemma3");
  EXPECT_EQ(f.get_u32("general.file_type"), 7u);
  EXPECT_EQ(f.get_u32("general.quantization_version"), 2u);
  EXPECT_EQ(f.get_u32("gemma3.block_count"), 6u);
  EXPECT_EQ(f.get_u32("gemma3.attention.sliding_window"), 8u);
  EXPECT_EQ(f.get_u32("gemma3.attention.key_length"), static_cast<uint32_t>(config().head_dim));
  EXPECT_FLOAT_EQ(f.get_f32("gemma3.rope.scaling.factor"), 8.0f);
  EXPECT_EQ(f.get_array<std::string>("tokenizer.ggml.tokens").size(), static_cast<size_t>(config().vocab_size));
  EXPECT_EQ(f.get_array<float>("tokenizer.ggml.scores").size(), static_cast<size_t>(config().vocab_size));
  EXPECT_NE(f.get_string("tokenizer.chat_template").find("<start_of_turn>"), std::string::npos);
  EXPECT_FALSE(f.find_tensor("output.weight"));  // tied: llama.cpp reuses token_embd
  EXPECT_EQ(f.tensor("token_embd.weight").type, GgmlType::Q8_0);
  // Norms hold the gain 1 + w, in F32.
  const GgufTensorInfo& n = f.tensor("blk.0.attn_norm.weight");
  ASSERT_EQ(n.type, GgmlType::F32);
  const auto w = HfModelFolder::open(base()).tensor("layers.0.input_layernorm.weight").to_f32();
  const float* g = reinterpret_cast<const float*>(n.data.data());
  for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(g[i], 1.0f + w[i]);
  // Our config reader (llama.cpp's rules) gives back the model's attention layout.
  const ModelConfig c = config_from_gguf(f);
  EXPECT_EQ(c.layer_types, config().layer_types);
  EXPECT_EQ(c.query_pre_attn_scalar, config().query_pre_attn_scalar);
}

TEST_F(ExportRoundTrip, VocabularyFromTokenizerJsonIsTheConvertersOne) {
  // Types and pre-normalised pieces as convert_hf_to_gguf.py writes them for Gemma 3 (checked against it on the
  // real tokenizer in tools/oracle; llama-tokenize then gives identical ids on a 14 kB text).
  const fs::path dir = fs::path(SCITUNE_SHARED_DIR) / "tokenizers/gemma3";
  if (!fs::exists(dir / "tokenizer.json")) GTEST_SKIP() << "no ../shared/tokenizers/gemma3";
  ModelConfig c = config();
  c.vocab_size = 262144;
  GgufWriter w;
  add_tokenizer_keys_from_hf(w, Tokenizer::load(dir), dir, c);
  const auto& tokens = *w.find("tokenizer.ggml.tokens")->array_if<std::string>();
  const auto& types = *w.find("tokenizer.ggml.token_type")->array_if<int32_t>();
  const auto& scores = *w.find("tokenizer.ggml.scores")->array_if<float>();
  ASSERT_EQ(tokens.size(), 262144u);
  EXPECT_EQ(tokens[4], "<mask>");
  EXPECT_EQ(types[4], 3);  // not special in tokenizer.json, but looks special: CONTROL
  EXPECT_EQ(types[6], 3);  // <unused0>
  EXPECT_EQ(tokens[5], "[multimodal]");
  EXPECT_EQ(types[5], 4);  // USER_DEFINED
  EXPECT_EQ(tokens[138], "  ");  // whitespace runs written with spaces, as the converter pre-normalises them
  EXPECT_EQ(types[138], 4);
  EXPECT_EQ(tokens[238], "<0x00>");
  EXPECT_EQ(types[238], 6);
  EXPECT_EQ(scores[5], -1000.0f);
  // Normal pieces: higher score for earlier merges ("▁t" is made by the first merges, so it outranks later ones).
  EXPECT_EQ(types[494], 1);
  EXPECT_GT(scores[494], scores[100000]);
  EXPECT_EQ(w.find("tokenizer.ggml.bos_token_id")->get_if<uint32_t>() ? *w.find("tokenizer.ggml.bos_token_id")->get_if<uint32_t>() : 0u, 2u);
}

TEST_F(ExportRoundTrip, MergedFolderEqualsBasePlusAdapter) {
  ExportBase b = ExportBase::open(base());
  b.attach_adapter(adapter());
  MergedExportOptions o;
  o.dtype = DType::F32;
  EXPECT_EQ(write_merged_folder(b, o, out_), 1);
  EXPECT_TRUE(fs::exists(out_ / "tokenizer.model"));
  EXPECT_TRUE(fs::exists(out_ / "generation_config.json"));
  const auto want = logits(base(), adapter(), sample_ids());
  EXPECT_LT(testing::rel_err(logits(out_, "", sample_ids()), want), 1e-5);

  // Sharded: an index plus several files, same model.
  const fs::path sharded = out_ / "sharded";
  fs::create_directories(sharded);
  o.max_shard_bytes = 40'000;
  const int shards = write_merged_folder(b, o, sharded);
  EXPECT_GT(shards, 2);
  EXPECT_TRUE(fs::exists(sharded / "model.safetensors.index.json"));
  EXPECT_EQ(TensorStore::open_folder(sharded).num_files(), static_cast<size_t>(shards));
  EXPECT_LT(testing::rel_err(logits(sharded, "", sample_ids()), want), 1e-5);
}

TEST_F(ExportRoundTrip, MergedBf16IsRoundedOnce) {
  ExportBase b = ExportBase::open(base());
  b.attach_adapter(adapter());
  MergedExportOptions o;
  o.dtype = DType::BF16;
  write_merged_folder(b, o, out_);
  const HfModelFolder f = HfModelFolder::open(out_);
  EXPECT_EQ(f.config().dtype, "bfloat16");
  TensorDesc q;
  for (const TensorDesc& d : text_tensors(config()))
    if (d.name == "layers.0.self_attn.q_proj.weight") q = d;
  ASSERT_EQ(q.role, TensorRole::kLinear);
  const auto merged = b.read(q, false);
  const auto stored = f.tensor(q.name).to_f32();
  for (size_t i = 0; i < merged.size(); ++i) ASSERT_EQ(stored[i], bf16_to_fp32(fp32_to_bf16(merged[i])));
}

TEST_F(ExportRoundTrip, GgufLoraAppliesAsLlamaCppScalesIt) {
  const LoraAdapter a = LoraAdapter::load(adapter(), config());
  const auto bytes = gguf_lora_writer(a, GgmlType::F32, "t").to_bytes();
  const GgufFile f = GgufFile::parse(bytes, "lora.gguf");
  EXPECT_EQ(f.get_string("general.type"), "adapter");
  EXPECT_EQ(f.get_string("adapter.type"), "lora");
  EXPECT_FLOAT_EQ(f.get_f32("adapter.lora.alpha"), 8.0f);
  EXPECT_EQ(f.tensors().size(), a.modules().size() * 2);
  const GgufTensorInfo& la = f.tensor("blk.2.ffn_down.weight.lora_a");
  const GgufTensorInfo& lb = f.tensor("blk.2.ffn_down.weight.lora_b");
  EXPECT_EQ(la.ne, (std::vector<uint64_t>{static_cast<uint64_t>(config().intermediate_size), 4}));
  EXPECT_EQ(lb.ne, (std::vector<uint64_t>{4, static_cast<uint64_t>(config().hidden_size)}));

  // Different ranks per module (rank_pattern): one file alpha cannot scale both, so B carries its scale.
  LoraConfig lc;
  lc.r = 4;
  lc.alpha = 8;
  lc.use_rslora = true;
  lc.rank_pattern = {{"q_proj", 2}};
  LoraAdapter mixed = LoraAdapter::create(config(), lc, 3);
  for (LoraModule& m : mixed.modules()) std::fill(m.B.begin(), m.B.end(), 0.5f);
  const auto mb = gguf_lora_writer(mixed, GgmlType::F32, "t").to_bytes();
  const GgufFile g = GgufFile::parse(mb, "mixed.gguf");
  EXPECT_EQ(g.get_f32("adapter.lora.alpha"), 0.0f);
  const float* bq = reinterpret_cast<const float*>(g.tensor("blk.0.attn_q.weight.lora_b").data.data());
  EXPECT_FLOAT_EQ(bq[0], 0.5f * 8.0f / std::sqrt(2.0f));
  const float* bk = reinterpret_cast<const float*>(g.tensor("blk.0.attn_k.weight.lora_b").data.data());
  EXPECT_FLOAT_EQ(bk[0], 0.5f * 8.0f / 2.0f);
}

TEST_F(ExportRoundTrip, RefusesWhatLlamaCppCannotExpress) {
  // The shared golden tiny model alternates sliding/global layers and scales queries by 1/sqrt(24).
  const fs::path golden = fs::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny/model";
  if (!fs::exists(golden)) GTEST_SKIP() << "no ../shared/golden";
  ExportBase b = ExportBase::open(golden);
  EXPECT_NE(testing::error_of([&] { plan_gguf_export(b, {}); }).find("layer_types is not the 5 sliding + 1 global"),
            std::string::npos);
}

TEST_F(ExportRoundTrip, AdapterThatDoesNotFitIsNamed) {
  ModelConfig other = config();
  other.hidden_size = 48;
  LoraConfig lc;
  LoraAdapter::create(other, lc, 1).save(out_ / "wrong");
  ExportBase b = ExportBase::open(base());
  EXPECT_NE(testing::error_of([&] { b.attach_adapter(out_ / "wrong"); }).find("has shape"), std::string::npos);
}

TEST_F(ExportRoundTrip, StagedOutputLeavesNothingOnFailure) {
  const fs::path target = out_ / "export";
  {
    StagedOutput s(target, false, 1000);
    write_file_atomic(s.dir() / "half.bin", "x");
    // destroyed without commit: as if the export threw
  }
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(fs::is_empty(out_));
  {
    StagedOutput s(target, false, 1000);
    write_file_atomic(s.dir() / "a.txt", "a");
    s.commit();
  }
  EXPECT_TRUE(fs::exists(target / "a.txt"));
  EXPECT_NE(testing::error_of([&] { StagedOutput s(target, false, 1); }).find("already exists"), std::string::npos);
  EXPECT_NE(testing::error_of([&] { StagedOutput s(out_ / "big", false, uint64_t{1} << 62); }).find("not enough free disk space"),
            std::string::npos);
  {
    StagedOutput s(target, true, 1000);  // forced: replaces the old export as a whole
    write_file_atomic(s.dir() / "b.txt", "b");
    s.commit();
  }
  EXPECT_FALSE(fs::exists(target / "a.txt"));
  EXPECT_TRUE(fs::exists(target / "b.txt"));
}

TEST_F(ExportRoundTrip, CardSaysWhenTheAdapterWasMergedIntoAQuantisedBase) {
  // pitfalls.md: a QLoRA adapter trained on dequant(W4) merges into those values, not into an fp16 original.
  ExportBase b = ExportBase::open(fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/gguf/tiny_q8_0.gguf");
  LoraConfig lc;
  lc.r = 2;
  LoraAdapter::create(b.config(), lc, 1).save(out_ / "a");
  b.attach_adapter(out_ / "a");
  EXPECT_EQ(b.quantised_base_type(), std::optional<std::string>("q8_0"));
  const std::string card = model_card(b, {"merged (bf16)", {"model.safetensors"}, "t"});
  EXPECT_NE(card.find("merged into their dequantised values"), std::string::npos) << card;
}

TEST_F(ExportRoundTrip, ModelCardAndModelfile) {
  ExportBase b = ExportBase::open(base());
  b.attach_adapter(adapter());
  const std::string card = model_card(b, {"gguf q8_0", {"m.gguf"}, "tiny"});
  EXPECT_NE(card.find("LoRA r 4, alpha 8"), std::string::npos);
  EXPECT_NE(card.find("Gemma Terms of Use"), std::string::npos);
  EXPECT_NE(card.find("`m.gguf`"), std::string::npos);
  const std::string mf = ollama_modelfile("m.gguf");
  EXPECT_NE(mf.find("FROM ./m.gguf"), std::string::npos);
  EXPECT_NE(mf.find("PARAMETER stop \"<end_of_turn>\""), std::string::npos);
  EXPECT_NE(mf.find("PARAMETER stop \"<eos>\""), std::string::npos);
}

}  // namespace
}  // namespace scitune
