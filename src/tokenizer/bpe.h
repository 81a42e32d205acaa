// The BPE model of HF `tokenizers` (models/bpe), reproduced exactly: a word becomes one symbol per code point
// (pieces looked up in the vocabulary; a missing character becomes its UTF-8 bytes as <0xNN> pieces with
// byte_fallback, else the unknown piece, consecutive unknowns fused when fuse_unk), then merges are applied
// lowest rank first, leftmost first among equal ranks, from a priority queue. A queued merge is applied when
// the pair now at its position still merges into the same piece (HF compares only the resulting id, not the
// rank; kept identical because the order of merges can depend on it).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/piece_index.h"

namespace scitune::tok {

// (left id, right id) -> (rank, merged id), open addressing: 514k Gemma merges are looked up per symbol pair.
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    int32_t id;
  };
  void reserve(size_t n);
  void insert_or_assign(int32_t left, int32_t right, Value v);  // a later rank replaces (as a Rust HashMap)
  const Value* find(int32_t left, int32_t right) const {
    const uint64_t key = pack(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  struct Slot {
    uint64_t key = kEmpty;
    Value value{};
  };
  static uint64_t pack(int32_t l, int32_t r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }
  static size_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return size_t(k);
  }
  void grow();
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

// Reusable buffers for one thread's encoding.
struct BpeScratch {
  struct Symbol {
    int32_t id;
    int32_t prev, next;
    bool alive;
  };
  struct Merge {
    uint32_t rank;
    int32_t pos;
    int32_t id;
  };
  std::vector<Symbol> symbols;
  std::vector<Merge> heap;
};

class BpeModel {
 public:
  BpeModel() = default;
  // pieces by id; merges as (left, right) id pairs in rank order; results looked up by concatenation.
  // Throws UserError (naming source) when a merge's result is not a piece.
  BpeModel(const std::vector<std::string>& pieces, const std::vector<std::pair<int32_t, int32_t>>& merges,
           bool byte_fallback, int32_t unk_id, bool fuse_unk, const std::string& source);

  // Appends the ids of one pre-tokenized word (valid UTF-8).
  void encode_word(std::string_view word, std::vector<int32_t>& out, BpeScratch& scratch) const;

  std::optional<int32_t> piece_id(std::string_view piece) const;
  const PairMap& merges() const { return merges_; }
  const std::vector<std::string>& pieces() const { return *pieces_; }
  int32_t byte_id(uint8_t b) const { return byte_ids_[b]; }
  bool byte_fallback() const { return byte_fallback_; }
  int32_t unk_id() const { return unk_id_; }

 private:
  int32_t char_id(std::string_view ch, char32_t cp) const;

  const std::vector<std::string>* pieces_ = nullptr;
  PieceIndex vocab_;
  std::vector<int32_t> bmp_ids_;         // single-code-point pieces below U+10000, -1 if absent
  std::array<int32_t, 256> byte_ids_{};  // <0xNN> pieces, -1 if absent
  PairMap merges_;
  bool byte_fallback_ = false, fuse_unk_ = false;
  int32_t unk_id_ = -1;
};

}  // namespace scitune::tok
