// What the `scitune train` CLI tests share: a RealVocabModel fixture handing out temporary paths (removed after
// each test), the small chat data set they train on, and the reading of a train_log.jsonl.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "real_vocab_model.h"

namespace scitune::testing {

// Six science question/answer chats, one {"messages": [user, assistant]} object per line, written to p.
inline void write_science_qa_jsonl(const std::filesystem::path& p) {
  std::ofstream f(p);
  const char* qa[][2] = {{"What is the powerhouse of the cell?", "The mitochondrion."},
                         {"What gas do plants absorb?", "Carbon dioxide."},
                         {"What is the chemical symbol for gold?", "Au."},
                         {"How many planets orbit the Sun?", "Eight."},
                         {"What is the boiling point of water?", "100 degrees Celsius at sea level."},
                         {"What is the SI unit of force?", "The newton."}};
  for (auto& p2 : qa)
    f << nlohmann::json{{"messages",
                         {{{"role", "user"}, {"content", p2[0]}}, {{"role", "assistant"}, {"content", p2[1]}}}}}
             .dump()
      << "\n";
}

// Every line of a finished JSONL file (a train_log.jsonl), parsed; a line that is not JSON throws.
inline std::vector<nlohmann::json> read_jsonl_lines(const std::filesystem::path& p) {
  std::vector<nlohmann::json> v;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

// A RealVocabModel fixture whose tmp(name) is a fresh path in the temporary directory,
// "<prefix><pid>_<name>", removed (with whatever was written there) after the test.
class TrainCliTest : public RealVocabModel {
 protected:
  explicit TrainCliTest(std::string prefix) : prefix_(std::move(prefix)) {}
  std::filesystem::path tmp(const std::string& name) {
    std::filesystem::path p =
        std::filesystem::temp_directory_path() / (prefix_ + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(p);
    cleanup_.push_back(p);
    return p;
  }
  void TearDown() override {
    for (const auto& p : cleanup_) std::filesystem::remove_all(p);
  }

 private:
  std::string prefix_;
  std::vector<std::filesystem::path> cleanup_;
};

}  // namespace scitune::testing
