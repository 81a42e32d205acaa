#include "tokenizer/merge_rules.h"

#include <algorithm>
#include <string_view>

#include "tokenizer/piece_index.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace scitune {

std::vector<std::pair<int32_t, int32_t>> merges_from_scores(const std::vector<std::string>& pieces,
                                                            const std::vector<float>& scores) {
  SCITUNE_CHECK(pieces.size() == scores.size(), "pieces and scores differ in length");
  // Python's dict keeps the last id of a repeated piece; loaders reject repeats, so ids are unique here.
  const tok::PieceIndex vocab(&pieces);

  struct Candidate {
    float score;
    uint32_t len_left, len_right;  // code points
    int32_t left, right;
  };
  std::vector<Candidate> all;
  std::vector<Candidate> local;
  for (size_t id = 0; id < pieces.size(); ++id) {
    const std::string_view piece = pieces[id];
    local.clear();
    const uint32_t total = uint32_t(tok::count_code_points(piece));
    size_t pos = 0;
    uint32_t n_left = 0;
    while (true) {
      tok::next_code_point(piece, pos);
      ++n_left;
      if (pos >= piece.size()) break;
      const auto l = vocab.find(piece.substr(0, pos));
      if (!l) continue;
      const auto r = vocab.find(piece.substr(pos));
      if (!r) continue;
      local.push_back({scores[id], n_left, total - n_left, *l, *r});
    }
    std::sort(local.begin(), local.end(), [](const Candidate& a, const Candidate& b) {
      return a.left != b.left ? a.left < b.left : a.right < b.right;
    });
    all.insert(all.end(), local.begin(), local.end());
  }
  // Python: sorted(..., key=(score, len_left, len_right), reverse=True) is stable.
  std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.len_left != b.len_left) return a.len_left > b.len_left;
    return a.len_right > b.len_right;
  });
  std::vector<std::pair<int32_t, int32_t>> merges;
  merges.reserve(all.size());
  for (const Candidate& c : all) merges.emplace_back(c.left, c.right);
  return merges;
}

}  // namespace scitune
