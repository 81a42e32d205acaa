// A random tiny Gemma 3 (the "tiny" preset at half width) with Gemma 3's real 262144-token vocabulary, written once per
// test process into a temporary folder with the shared tokenizer linked in, so that `scitune generate`, `chat` and
// `perplexity` can run on real text in well under a second. The same model is loaded in-process too, for
// computing what the CLI should print.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "cli/model_session.h"
#include "model/config.h"
#include "model/init_random.h"

namespace scitune::testing {

class RealVocabModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::filesystem::path tok = std::filesystem::path(SCITUNE_SHARED_DIR) / "tokenizers/gemma3";
    if (!std::filesystem::exists(tok / "tokenizer.json")) return;  // each test skips
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("scitune_real_vocab_" + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    ModelConfig c = *preset("tiny");
    c.vocab_size = 262144;
    c.hidden_size = 32, c.intermediate_size = 64, c.num_attention_heads = 2, c.num_key_value_heads = 1;
    c.head_dim = 16, c.query_pre_attn_scalar = 16;  // half the tiny preset: the 262144 x C embedding dominates
    InitOptions opt;
    opt.seed = 3;
    write_random_model(*dir_, c, opt);
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      std::filesystem::create_symlink(tok / f, *dir_ / f);
    session_ = cli::open_model_session(dir_->string(), "").release();
  }
  static void TearDownTestSuite() {
    delete session_;
    session_ = nullptr;
    if (dir_) std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!session_) GTEST_SKIP() << "the Gemma 3 tokenizer is not in ../shared/tokenizers/gemma3";
  }
  static std::string model() { return dir_->string(); }
  static cli::ModelSession& session() { return *session_; }

  static inline std::filesystem::path* dir_ = nullptr;
  static inline cli::ModelSession* session_ = nullptr;
};

}  // namespace scitune::testing
