// One training example after tokenisation, in the layout the trainer consumes: token ids and HF-style labels
// (same length, NOT shifted: the model's loss shifts by one; -100 marks tokens that are not trained, e.g. the
// prompt under response-only training).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace scitune {

inline constexpr int64_t kIgnoreLabel = -100;

struct TokenizedExample {
  std::vector<int32_t> input_ids;
  std::vector<int64_t> labels;
  std::string source;  // where it came from ("file.jsonl:12"), for reports and error messages
  int64_t trained_tokens() const {
    int64_t n = 0;
    for (int64_t l : labels) n += l != kIgnoreLabel;
    return n;
  }
};

}  // namespace scitune
