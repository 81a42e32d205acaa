// Finds added tokens in text the way HF `tokenizers` does (a leftmost-longest Aho-Corasick automaton): scan
// left to right; at the first position where any token matches, take the longest one, continue after it.
// Tokens are valid UTF-8, so a byte match always starts and ends on character boundaries.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace scitune::tok {

class TokenTrie {
 public:
  TokenTrie();
  void add(std::string_view pattern, int32_t id);  // pattern non-empty; a repeated pattern keeps the first id
  void seal();                                     // after the last add(), before split()
  bool empty() const { return nodes_.size() == 1; }

  // Calls on_piece(text, id) for each piece of `text` in order: id >= 0 for a token, -1 for the text between
  // tokens (never empty).
  template <class F>
  void split(std::string_view text, F&& on_piece) const {
    size_t start = 0, i = 0;
    const auto* p = reinterpret_cast<const uint8_t*>(text.data());
    while (i < text.size()) {
      if (!first_byte_[p[i]]) {
        ++i;
        continue;
      }
      size_t len = 0;
      const int32_t id = longest_at(p + i, text.size() - i, &len);
      if (id < 0) {
        ++i;
        continue;
      }
      if (i > start) on_piece(text.substr(start, i - start), -1);
      on_piece(text.substr(i, len), id);
      i += len;
      start = i;
    }
    if (start < text.size()) on_piece(text.substr(start), -1);
  }

 private:
  struct Node {
    int32_t id = -1;
    uint32_t first_edge = 0, n_edges = 0;  // into edges_ after seal()
  };
  struct Edge {
    uint8_t byte;
    int32_t child;
  };
  int32_t longest_at(const uint8_t* p, size_t n, size_t* len) const;
  int32_t child(int32_t node, uint8_t b) const;

  std::vector<Node> nodes_;
  std::vector<std::vector<Edge>> build_edges_;  // per node while adding; seal() packs them sorted into edges_
  std::vector<Edge> edges_;
  std::array<bool, 256> first_byte_{};
  bool dirty_ = false;
};

}  // namespace scitune::tok
