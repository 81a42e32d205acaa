#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "util/error.h"

namespace scitune::tok {

TokenTrie::TokenTrie() {
  nodes_.emplace_back();
  build_edges_.emplace_back();
}

void TokenTrie::add(std::string_view pattern, int32_t id) {
  SCITUNE_CHECK(!pattern.empty() && id >= 0, "bad added token");
  int32_t node = 0;
  for (char c : pattern) {
    const uint8_t b = uint8_t(c);
    auto& edges = build_edges_[node];
    auto it = std::find_if(edges.begin(), edges.end(), [&](const Edge& e) { return e.byte == b; });
    if (it != edges.end()) {
      node = it->child;
      continue;
    }
    const int32_t child = int32_t(nodes_.size());
    nodes_.emplace_back();
    build_edges_.emplace_back();
    build_edges_[node].push_back({b, child});
    node = child;
  }
  if (nodes_[node].id < 0) nodes_[node].id = id;
  first_byte_[uint8_t(pattern[0])] = true;
  dirty_ = true;
}

void TokenTrie::seal() {
  if (!dirty_) return;
  edges_.clear();
  for (size_t n = 0; n < nodes_.size(); ++n) {
    auto edges = build_edges_[n];
    std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.byte < b.byte; });
    nodes_[n].first_edge = uint32_t(edges_.size());
    nodes_[n].n_edges = uint32_t(edges.size());
    edges_.insert(edges_.end(), edges.begin(), edges.end());
  }
  dirty_ = false;
}

int32_t TokenTrie::child(int32_t node, uint8_t b) const {
  const Node& n = nodes_[node];
  const Edge* begin = edges_.data() + n.first_edge;
  const Edge* end = begin + n.n_edges;
  const Edge* it = std::lower_bound(begin, end, b, [](const Edge& e, uint8_t v) { return e.byte < v; });
  return (it != end && it->byte == b) ? it->child : -1;
}

int32_t TokenTrie::longest_at(const uint8_t* p, size_t n, size_t* len) const {
  SCITUNE_CHECK(!dirty_, "TokenTrie used before seal()");
  int32_t node = 0, best = -1;
  for (size_t i = 0; i < n; ++i) {
    node = child(node, p[i]);
    if (node < 0) break;
    if (nodes_[node].id >= 0) {
      best = nodes_[node].id;
      *len = i + 1;
    }
  }
  return best;
}

}  // namespace scitune::tok
