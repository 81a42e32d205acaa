// The released Gemma 3 270M exported to Q8_0 / Q4_0 / Q4_K_M is, tensor for tensor, byte-identical to what
// llama-quantize makes of our F32 export of it (fixtures by tools/oracle/make_export_fixtures.sh): the same type
// choice per tensor and the same quantiser. Skips without the real model in the cache.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "export/export_base.h"
#include "export/gguf_export.h"
#include "io/gguf.h"
#include "util/paths.h"
#include "util/sha256.h"

namespace scitune {
namespace {

namespace fs = std::filesystem;

class RealExport : public ::testing::TestWithParam<const char*> {};

TEST_P(RealExport, ByteIdenticalToLlamaQuantize) {
  const fs::path model = default_model_path();
  if (!fs::exists(model)) GTEST_SKIP() << "real model not in the cache (run scripts/fetch_model.sh)";
  const std::string q = GetParam();
  std::ifstream in(fs::path(SCITUNE_SOURCE_DIR) / ("tests/golden/export/real270m_llama_quantize_" + q + ".json"));
  const auto want = nlohmann::json::parse(in)["tensors"];
  const ExportBase base = ExportBase::open(model);
  GgufExportPlan plan = plan_gguf_export(base, {*parse_gguf_file_type(q), "real", std::nullopt});
  const fs::path out = fs::path(::testing::TempDir()) / ("real_export_" + q + "_" + std::to_string(::getpid()) + ".gguf");
  plan.writer.write(out, Overwrite::kYes);
  const GgufFile f = GgufFile::open(out);
  ASSERT_EQ(f.tensors().size(), want.size());
  int same = 0;
  for (const auto& t : want) {
    const GgufTensorInfo* ours = f.find_tensor(t["name"].get<std::string>());
    ASSERT_NE(ours, nullptr) << t["name"];
    std::string type(ggml_info(ours->type).name);
    for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(type, t["type"].get<std::string>()) << t["name"];
    const bool eq = sha256_hex(ours->data) == t["sha256"].get<std::string>();
    EXPECT_TRUE(eq) << t["name"];
    same += eq;
  }
  EXPECT_EQ(same, static_cast<int>(want.size()));
  fs::remove(out);
}

INSTANTIATE_TEST_SUITE_P(Types, RealExport, ::testing::Values("q8_0", "q4_0", "q4_k_m"));

}  // namespace
}  // namespace scitune
