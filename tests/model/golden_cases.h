// The Gemma 3 golden cases (HF transformers / PEFT in float64) shared by the forward and LoRA tests: where each
// case lives, its batch (ids, labels, per-row lengths and the attention mask), and the logits' relative error
// over the unpadded positions.
#pragma once
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace scitune::testing {

struct GoldenCase {
  std::string name;  // the case's folder name, e.g. "v5-seed1"
  std::filesystem::path dir;
};

// ../shared/golden/gemma3-tiny, then the cases committed under tests/golden/gemma3.
inline std::vector<GoldenCase> gemma3_golden_cases() {
  std::vector<GoldenCase> out = {{"shared-tiny", std::filesystem::path(SCITUNE_SHARED_DIR) / "golden/gemma3-tiny"}};
  for (const char* n : {"v5-seed1", "hub-seed2", "multimodal-seed3", "softcap-seed4", "padded-seed5"})
    out.push_back({n, std::filesystem::path(SCITUNE_SOURCE_DIR) / "tests/golden/gemma3" / n});
  return out;
}

// The parameterised test's name for a case: its name with every non-alphanumeric character as '_'.
struct GoldenCaseName {
  template <class Info>
  std::string operator()(const Info& info) const {
    std::string n = info.param.name;
    for (char& ch : n)
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
  }
};

// A golden case's batch: B rows of T tokens; without an attention_mask every row is full length.
struct GoldenBatch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> ids;
  std::vector<int64_t> labels, lengths, mask;
};

inline GoldenBatch read_golden_batch(const SafetensorsFile& g) {
  GoldenBatch b;
  auto shape = g.tensor("input_ids").shape();
  b.B = shape[0];
  b.T = shape[1];
  auto ids = g.tensor("input_ids").as<int64_t>();
  b.ids.assign(ids.begin(), ids.end());
  auto labels = g.tensor("labels").as<int64_t>();
  b.labels.assign(labels.begin(), labels.end());
  b.lengths.assign(b.B, b.T);
  b.mask.assign(b.B * b.T, 1);
  if (auto m = g.find("attention_mask")) {
    auto mm = m->as<int64_t>();
    b.mask.assign(mm.begin(), mm.end());
    for (int64_t r = 0; r < b.B; ++r) {
      b.lengths[r] = 0;
      for (int64_t t = 0; t < b.T; ++t) b.lengths[r] += b.mask[r * b.T + t];
    }
  }
  return b;
}

// max|got - want| and max|want| over the positions n with mask[n] != 0, V values each (padded queries: HF
// computes something there, nothing uses it).
struct MaskedDiff {
  double max_diff = 0, max_ref = 0;
  double rel() const { return max_diff / max_ref; }
};

inline MaskedDiff masked_diff(std::span<const float> got, std::span<const float> want, std::span<const int64_t> mask,
                              int64_t V) {
  MaskedDiff d;
  for (int64_t n = 0; n < static_cast<int64_t>(mask.size()); ++n) {
    if (!mask[n]) continue;
    for (int64_t v = 0; v < V; ++v) {
      d.max_diff = std::max(d.max_diff, std::fabs(static_cast<double>(got[n * V + v]) - want[n * V + v]));
      d.max_ref = std::max(d.max_ref, std::fabs(static_cast<double>(want[n * V + v])));
    }
  }
  return d;
}

}  // namespace scitune::testing
