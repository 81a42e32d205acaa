// Internal state of a loaded Tokenizer (shared by tokenizer.cc, decode.cc and the tests that inspect it).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/tokenizer.h"

namespace scitune {

namespace tok {

// Per-thread cache of BPE results by word: flat open addressing over byte and id arenas (no allocation per
// entry). Cleared when full, so memory stays bounded.
class WordCache {
 public:
  // The cached ids of `word`, or nullptr.
  const int32_t* find(std::string_view word, uint64_t hash, uint32_t* count) const;
  void insert(std::string_view word, uint64_t hash, const int32_t* ids, uint32_t count);
  void clear();

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t word_offset = 0, word_len = 0, ids_offset = 0, ids_len = 0;
    bool used = false;
  };
  static constexpr size_t kSlots = size_t(1) << 17;  // at most half used
  std::vector<Slot> slots_;
  std::string words_;
  std::vector<int32_t> ids_;
  size_t used_ = 0;
};

}  // namespace tok

struct Tokenizer::Impl {
  explicit Impl(TokenizerSpec spec);

  TokenizerSpec spec;                     // pieces, added tokens, pipeline (pieces must not move: BpeModel views them)
  uint64_t serial = 0;                    // distinguishes instances in per-thread caches
  std::vector<std::string> id_to_string;  // every id: piece or added-token content
  std::vector<uint8_t> valid, special;    // per id
  std::unordered_map<std::string, int32_t> added_ids;
  tok::BpeModel bpe;
  tok::TokenTrie raw_tokens, normalized_tokens;
  // Word cutting for the cache (see tokenizer.h): never cut before '▁' after one of these code points.
  bool cut_words = false;
  std::vector<uint8_t> no_cut_bmp;  // per BMP code point
  std::unordered_set<char32_t> no_cut_astral;
  bool stream_safe = false;  // decoder chain is per token apart from byte runs and Fuse (StreamDecoder)

  struct Scratch {
    const Impl* owner = nullptr;
    uint64_t serial = 0;
    tok::BpeScratch bpe;
    std::string normalized;
    tok::WordCache cache;
  };
  void encode_into(std::string_view text, bool add_special, std::vector<int32_t>& out, Scratch& s) const;
  std::string decode(std::span<const int32_t> ids, bool skip_special) const;
  // The token string after the decoder steps that precede ByteFallback: "<0xNN>" pieces give their byte.
  std::optional<uint8_t> byte_piece_value(int32_t id) const;
  void check_id(int32_t id) const;

 private:
  void normalize(std::string_view in, std::string& out) const;
  void encode_normalized(std::string_view s, std::vector<int32_t>& out, Scratch& scr) const;
  void encode_word(std::string_view word, std::vector<int32_t>& out, Scratch& scr) const;
  void encode_cached(std::string_view piece, std::vector<int32_t>& out, Scratch& scr) const;
  bool may_cut_after(char32_t cp) const;
};

}  // namespace scitune
