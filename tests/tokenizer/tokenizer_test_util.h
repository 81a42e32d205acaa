// Shared helpers for the tokenizer tests: the real Gemma 3 tokenizer (loaded once per test binary), the
// golden files, and the real GGUF when the model cache has it.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/paths.h"
#include "test_util.h"

namespace scitune::testing {

inline std::filesystem::path gemma3_dir() { return std::filesystem::path(SCITUNE_SHARED_DIR) / "tokenizers/gemma3"; }
inline std::filesystem::path golden_dir() {
  return std::filesystem::path(SCITUNE_SOURCE_DIR) / "tests/golden/tokenizer";
}

// The real Gemma 3 270M GGUF: $SCITUNE_DATA/models or $HOME/.cache/scitune/models.
inline std::filesystem::path gemma3_gguf() { return default_model_path(); }

// Loaded on first use and kept for the whole binary (the 33 MB file is read once).
inline const Tokenizer* gemma3_tokenizer() {
  static std::unique_ptr<Tokenizer> tok = [] {
    if (!std::filesystem::exists(gemma3_dir() / "tokenizer.json")) return std::unique_ptr<Tokenizer>();
    return std::make_unique<Tokenizer>(Tokenizer::load(gemma3_dir()));
  }();
  return tok.get();
}

inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}


}  // namespace scitune::testing

#define SCITUNE_REQUIRE_GEMMA3(tok)                                         \
  const ::scitune::Tokenizer* tok = ::scitune::testing::gemma3_tokenizer(); \
  if (!tok) GTEST_SKIP() << "real Gemma 3 tokenizer not found at " << ::scitune::testing::gemma3_dir()
