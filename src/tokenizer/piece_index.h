// piece -> id for a vocabulary of a quarter million strings, as a flat open-addressing table over the
// vocabulary vector itself (no per-entry allocation): tokenizer.json's 514,906 merges need three lookups
// each at load time, and BPE looks up every character.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scitune::tok {

class PieceIndex {
 public:
  PieceIndex() = default;
  // Indexes pieces[0..n); `pieces` must outlive the index and not change. A repeated piece keeps its first id
  // and is reported through first_duplicate().
  explicit PieceIndex(const std::vector<std::string>* pieces);

  std::optional<int32_t> find(std::string_view piece) const {
    if (slots_.empty()) return std::nullopt;
    const uint64_t h = hash(piece);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return std::nullopt;
      if (s.hash == h && (*pieces_)[s.id] == piece) return s.id;
    }
  }
  std::optional<int32_t> first_duplicate() const { return duplicate_; }

  static uint64_t hash(std::string_view s) {  // FNV-1a, then a final mix
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    h ^= h >> 29;
    return h;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    int32_t id = -1;
  };
  const std::vector<std::string>* pieces_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::optional<int32_t> duplicate_;
};

}  // namespace scitune::tok
