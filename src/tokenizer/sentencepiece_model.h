// SentencePiece `tokenizer.model` (a serialized sentencepiece.ModelProto). Debian 12's libsentencepiece-dev
// ships only the processor API, which hides ModelProto and cannot say which pieces are USER_DEFINED (needed to
// know which become added tokens), so the few fields needed are read from the protobuf wire format here,
// with every length and count checked.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_spec.h"

namespace scitune {

struct SentencePieceModel {
  enum PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  struct Piece {
    std::string piece;
    float score = 0;
    int type = kNormal;
  };
  std::vector<Piece> pieces;
  int model_type = 1;  // TrainerSpec.model_type: 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR
  bool byte_fallback = false;
  std::string unk_piece = "<unk>";
};

// Throws UserError naming `source` on malformed protobuf or invalid fields.
SentencePieceModel parse_sentencepiece_model(std::span<const uint8_t> bytes, const std::string& source);

// The tokenizer transformers (v5, GemmaTokenizer) builds from a folder that has only tokenizer.model:
// Gemma's pipeline (' ' -> '▁', Split on ' ', byte fallback, decoder '▁' -> ' ' + bytes + Fuse), the
// pieces as vocabulary, merges from every two-piece split of every piece ordered by the merged piece's id
// (transformers' generate_merges without scores), CONTROL and USER_DEFINED pieces as added tokens (CONTROL
// ones special), and GemmaTokenizer's default special tokens <pad> <eos> <bos> <unk> <mask> added and
// special whatever their type. No BOS is added unless tokenizer_config.json says add_bos_token. Only BPE models.
TokenizerSpec spec_from_sentencepiece(const SentencePieceModel& model, const std::string& source);

// The text rules of Gemma's SentencePiece BPE, shared by tokenizer.model and GGUF vocabularies: ' ' -> '▁'
// before splitting, and on decode '▁' -> ' ', byte-fallback pieces fused into UTF-8, unknowns fused.
void apply_sentencepiece_text_rules(TokenizerSpec& spec);

}  // namespace scitune
