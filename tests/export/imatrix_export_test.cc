// `export --format gguf --imatrix`: the released Gemma 3 270M exported with an importance matrix made by
// llama-imatrix is, tensor for tensor, byte-identical to what llama-quantize --imatrix makes of our F32 export of
// it, and carries the same quantize.imatrix.* keys (fixtures by tools/oracle/make_imatrix_fixtures.sh; skips
// without the real model). The tiny random model checks the wiring without it: which tensors take their entry,
// the importance reaching the row quantizer, the size check.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "export/export_base.h"
#include "export/gguf_export.h"
#include "export/imatrix.h"
#include "export_fixture.h"
#include "io/gguf.h"
#include "quant/quants_imatrix.h"
#include "test_util.h"
#include "util/paths.h"
#include "util/sha256.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

const fs::path kGolden = fs::path(SCITUNE_SOURCE_DIR) / "tests/golden/export";

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

fs::path temp_file(const std::string& stem) {
  return fs::path(::testing::TempDir()) / (stem + "_" + std::to_string(::getpid()) + ".gguf");
}

// ---- the real model against llama-quantize --imatrix ----

struct RealCase {
  const char* fixture;  // real270m_llama_quantize_imatrix_<fixture>.json
  const char* quant;
};

class RealImatrixExport : public ::testing::TestWithParam<RealCase> {};

TEST_P(RealImatrixExport, ByteIdenticalToLlamaQuantizeImatrix) {
  const fs::path model = default_model_path();
  if (!fs::exists(model)) GTEST_SKIP() << "real model not in the cache (run scripts/fetch_model.sh)";
  const RealCase c = GetParam();
  std::ifstream in(kGolden / ("real270m_llama_quantize_imatrix_" + std::string(c.fixture) + ".json"));
  const auto want = nlohmann::json::parse(in);
  const fs::path im_path = kGolden / want["imatrix"].get<std::string>();
  auto im = std::make_shared<const ImportanceMatrix>(read_imatrix(im_path));

  const ExportBase base = ExportBase::open(model);
  GgufExportPlan plan = plan_gguf_export(base, {*parse_gguf_file_type(c.quant), "real", std::nullopt, im});
  const fs::path out = temp_file(std::string("imatrix_export_") + c.fixture);
  plan.writer.write(out, Overwrite::kYes);
  const GgufFile f = GgufFile::open(out);

  ASSERT_EQ(f.tensors().size(), want["tensors"].size());
  int same = 0;
  for (const auto& t : want["tensors"]) {
    const GgufTensorInfo* ours = f.find_tensor(t["name"].get<std::string>());
    ASSERT_NE(ours, nullptr) << t["name"];
    EXPECT_EQ(upper(ggml_info(ours->type).name), t["type"].get<std::string>()) << t["name"];
    const bool eq = sha256_hex(ours->data) == t["sha256"].get<std::string>();
    EXPECT_TRUE(eq) << t["name"] << " (" << t["type"] << ") differs from llama-quantize --imatrix";
    same += eq;
  }
  EXPECT_EQ(same, static_cast<int>(want["tensors"].size()));
  EXPECT_GT(plan.imatrix_tensors, 0);

  // quantize.imatrix.*: the same keys, types and values; the file key holds the path each tool was given.
  int keys = 0;
  for (const auto& m : f.metadata()) keys += m.first.rfind("quantize.", 0) == 0;
  EXPECT_EQ(keys, static_cast<int>(want["metadata"].size()));
  for (const auto& m : want["metadata"]) {
    const std::string key = m["key"];
    const GgufValue* v = f.find(key);
    ASSERT_NE(v, nullptr) << key;
    if (m["type"] == "STRING") {
      ASSERT_NE(v->get_if<std::string>(), nullptr) << key;
      const std::string want_value = m["value"];
      if (key == "quantize.imatrix.file")
        EXPECT_EQ(*v->get_if<std::string>(), im_path.string().substr(0, 127)) << "llama-quantize had " << want_value;
      else
        EXPECT_EQ(*v->get_if<std::string>(), want_value) << key;
    } else {
      ASSERT_EQ(m["type"], "UINT32") << key;
      ASSERT_NE(v->get_if<uint32_t>(), nullptr) << key;
      EXPECT_EQ(*v->get_if<uint32_t>(), m["value"].get<uint32_t>()) << key;
    }
  }
  fs::remove(out);
}

// Q4_K_M: Q4_K, Q6_K, Q5_0 and Q8_0 tensors; Q4_0: Q4_0 and (ffn_down of layers 0-1, has_imatrix) Q4_1;
// Q5_K_M: Q5_K, Q5_1, Q6_K; the legacy file: layers 0-2 only, every other tensor quantised without.
INSTANTIATE_TEST_SUITE_P(Types, RealImatrixExport,
                         ::testing::Values(RealCase{"q4_k_m", "q4_k_m"}, RealCase{"q4_0", "q4_0"},
                                           RealCase{"q5_k_m", "q5_k_m"}, RealCase{"q4_k_m_legacy", "q4_k_m"}),
                         [](const auto& info) { return std::string(info.param.fixture); });

// ---- wiring, on the tiny random model ----

class ImatrixExportTiny : public testing::ExportFixture {};

std::shared_ptr<const ImportanceMatrix> tiny_imatrix(const ModelConfig& c, int64_t attn_q_values) {
  auto im = std::make_shared<ImportanceMatrix>();
  im->source = "tiny.imatrix.gguf";
  im->datasets = {"calibration.txt"};
  im->chunk_count = 3;
  auto ramp = [](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = 0.25f + static_cast<float>((i * 7) % 13);
    return v;
  };
  im->entries["blk.0.attn_q.weight"] = ramp(attn_q_values);
  im->entries["blk.1.ffn_down.weight"] = ramp(c.intermediate_size);
  im->entries["blk.9.ffn_down.weight"] = ramp(4);  // no such tensor: ignored, as llama-quantize ignores it
  return im;
}

std::map<std::string, std::string> tensor_hashes(const GgufFile& f) {
  std::map<std::string, std::string> m;
  for (const auto& t : f.tensors()) m[t.name] = sha256_hex(t.data);
  return m;
}

TEST_F(ImatrixExportTiny, EntriesReachTheirTensorsOnly) {
  const ExportBase b = ExportBase::open(base());
  const auto im = tiny_imatrix(config(), config().hidden_size);
  const fs::path with = temp_file("tiny_imatrix"), without = temp_file("tiny_plain"), f32 = temp_file("tiny_f32");
  GgufExportPlan p = plan_gguf_export(b, {*parse_gguf_file_type("q4_0"), "tiny", std::nullopt, im});
  EXPECT_EQ(p.imatrix_tensors, 2);
  p.writer.write(with, Overwrite::kYes);
  plan_gguf_export(b, {*parse_gguf_file_type("q4_0"), "tiny", std::nullopt}).writer.write(without, Overwrite::kYes);
  plan_gguf_export(b, {*parse_gguf_file_type("f32"), "tiny", std::nullopt}).writer.write(f32, Overwrite::kYes);
  const GgufFile fw = GgufFile::open(with), fo = GgufFile::open(without), ff = GgufFile::open(f32);

  const auto hw = tensor_hashes(fw), ho = tensor_hashes(fo);
  for (const auto& [name, h] : hw)
    if (name == "blk.0.attn_q.weight" || name == "blk.1.ffn_down.weight")
      EXPECT_NE(h, ho.at(name)) << name << " ignored its importance";
    else
      EXPECT_EQ(h, ho.at(name)) << name << " has no entry but changed";

  // The bytes are the weighted quantizer's over the F32 rows, the same importance for every row.
  for (const char* name : {"blk.0.attn_q.weight", "blk.1.ffn_down.weight"}) {
    const GgufTensorInfo& src = ff.tensor(name);
    const GgufTensorInfo& q = fw.tensor(name);
    ASSERT_EQ(q.type, GgmlType::Q4_0);
    const int64_t cols = static_cast<int64_t>(src.ne[0]), rows = static_cast<int64_t>(src.ne[1]);
    std::vector<float> x(static_cast<size_t>(cols * rows));
    std::memcpy(x.data(), src.data.data(), x.size() * 4);
    const size_t row_bytes = ggml_row_size(GgmlType::Q4_0, static_cast<uint64_t>(cols));
    std::vector<uint8_t> expect(static_cast<size_t>(rows) * row_bytes);
    for (int64_t r = 0; r < rows; ++r)
      quantize_row_weighted(GgmlType::Q4_0, x.data() + r * cols, expect.data() + static_cast<size_t>(r) * row_bytes,
                            cols, im->find(name)->data());
    EXPECT_EQ(sha256_hex(expect.data(), expect.size()), sha256_hex(q.data)) << name;
  }

  EXPECT_EQ(fw.get_string("quantize.imatrix.file"), "tiny.imatrix.gguf");
  EXPECT_EQ(fw.get_string("quantize.imatrix.dataset"), "calibration.txt");
  EXPECT_EQ(fw.get_u32("quantize.imatrix.entries_count"), 3u);
  EXPECT_EQ(fw.get_u32("quantize.imatrix.chunks_count"), 3u);
  EXPECT_EQ(fo.find("quantize.imatrix.file"), nullptr);
  for (const auto& p2 : {with, without, f32}) fs::remove(p2);
}

TEST_F(ImatrixExportTiny, ChunkCountZeroAndNoDatasetLeaveTheirKeysOut) {
  auto im = std::make_shared<ImportanceMatrix>(*tiny_imatrix(config(), config().hidden_size));
  im->chunk_count = 0;
  im->datasets.clear();
  im->source = std::string(200, 'p');
  const ExportBase b = ExportBase::open(base());
  GgufExportPlan p = plan_gguf_export(b, {*parse_gguf_file_type("q4_k_m"), "tiny", std::nullopt, im});
  const GgufValue* file = p.writer.find("quantize.imatrix.file");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->get_if<std::string>()->size(), 127u);  // llama-quantize's 128-byte override buffer
  EXPECT_EQ(p.writer.find("quantize.imatrix.dataset"), nullptr);
  EXPECT_EQ(p.writer.find("quantize.imatrix.chunks_count"), nullptr);
}

TEST_F(ImatrixExportTiny, WrongSizeIsAnErrorNamingFileAndTensor) {
  const ExportBase b = ExportBase::open(base());
  const auto im = tiny_imatrix(config(), config().hidden_size + 32);
  const std::string e = testing::error_of([&] {
    plan_gguf_export(b, {*parse_gguf_file_type("q4_0"), "tiny", std::nullopt, im});
  });
  EXPECT_NE(e.find("tiny.imatrix.gguf"), std::string::npos) << e;
  EXPECT_NE(e.find("blk.0.attn_q.weight"), std::string::npos) << e;
  EXPECT_NE(e.find(std::to_string(config().hidden_size + 32)), std::string::npos) << e;
}

TEST_F(ImatrixExportTiny, WrongSizeForTokenEmbeddingsIsIgnoredLikeLlamaQuantize) {
  auto im = std::make_shared<ImportanceMatrix>(*tiny_imatrix(config(), config().hidden_size));
  im->entries["token_embd.weight"] = std::vector<float>(3, 1.0f);
  const ExportBase b = ExportBase::open(base());
  GgufExportPlan p = plan_gguf_export(b, {*parse_gguf_file_type("q4_0"), "tiny", std::nullopt, im});
  EXPECT_EQ(p.imatrix_tensors, 2);
}

}  // namespace
}  // namespace scitune
