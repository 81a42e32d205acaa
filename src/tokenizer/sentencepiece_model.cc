#include "tokenizer/sentencepiece_model.h"

#include <cmath>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace scitune {

namespace {

// Protobuf wire-format reader over one message's bytes.
class WireReader {
 public:
  WireReader(std::span<const uint8_t> b, const std::string& source, std::string msg)
      : p_(b.data()), end_(b.data() + b.size()), source_(source), msg_(std::move(msg)) {}
  bool done() const { return p_ >= end_; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) bad("truncated varint");
      const uint8_t b = *p_++;
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    bad("varint longer than 10 bytes");
  }
  std::span<const uint8_t> bytes() {
    const uint64_t n = varint();
    if (n > uint64_t(end_ - p_)) bad("length " + std::to_string(n) + " runs past the end of the message");
    std::span<const uint8_t> out(p_, size_t(n));
    p_ += n;
    return out;
  }
  float fixed32_float() {
    if (end_ - p_ < 4) bad("truncated float");
    float f;
    std::memcpy(&f, p_, 4);
    p_ += 4;
    return f;
  }
  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case 0:
        varint();
        return;
      case 1:
        if (end_ - p_ < 8) bad("truncated fixed64");
        p_ += 8;
        return;
      case 2:
        bytes();
        return;
      case 5:
        if (end_ - p_ < 4) bad("truncated fixed32");
        p_ += 4;
        return;
      default:
        bad("unsupported wire type " + std::to_string(wire_type));
    }
  }
  [[noreturn]] void bad(const std::string& what) const { fail(source_ + ": " + msg_ + ": " + what); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const std::string& source_;
  std::string msg_;
};

std::string as_string(std::span<const uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

SentencePieceModel::Piece parse_piece(std::span<const uint8_t> b, const std::string& source, size_t index) {
  WireReader r(b, source, "pieces[" + std::to_string(index) + "]");
  SentencePieceModel::Piece piece;
  bool have_piece = false;
  while (!r.done()) {
    const uint64_t key = r.varint();
    const uint32_t field = uint32_t(key >> 3), wt = uint32_t(key & 7);
    if (field == 1 && wt == 2) {
      piece.piece = as_string(r.bytes());
      have_piece = true;
    } else if (field == 2 && wt == 5) {
      piece.score = r.fixed32_float();
    } else if (field == 3 && wt == 0) {
      piece.type = int(r.varint());
    } else {
      r.skip(wt);
    }
  }
  if (!have_piece || piece.piece.empty()) r.bad("empty piece");
  if (tok::find_invalid_utf8(piece.piece)) r.bad("piece is not valid UTF-8");
  if (!std::isfinite(piece.score)) r.bad("score is not finite");
  if (piece.type < 1 || piece.type > 6) r.bad("unknown piece type " + std::to_string(piece.type));
  return piece;
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(std::span<const uint8_t> bytes, const std::string& source) {
  SentencePieceModel m;
  WireReader r(bytes, source, "ModelProto");
  while (!r.done()) {
    const uint64_t key = r.varint();
    const uint32_t field = uint32_t(key >> 3), wt = uint32_t(key & 7);
    if (field == 1 && wt == 2) {
      m.pieces.push_back(parse_piece(r.bytes(), source, m.pieces.size()));
    } else if (field == 2 && wt == 2) {  // TrainerSpec
      WireReader t(r.bytes(), source, "trainer_spec");
      while (!t.done()) {
        const uint64_t k = t.varint();
        const uint32_t f = uint32_t(k >> 3), w = uint32_t(k & 7);
        if (f == 3 && w == 0)
          m.model_type = int(t.varint());
        else if (f == 35 && w == 0)
          m.byte_fallback = t.varint() != 0;
        else if (f == 45 && w == 2)
          m.unk_piece = as_string(t.bytes());
        else
          t.skip(w);
      }
    } else {
      r.skip(wt);
    }
  }
  if (m.pieces.empty()) fail(source + ": no pieces (is this a SentencePiece model?)");
  if (m.pieces.size() > size_t(INT32_MAX)) fail(source + ": too many pieces");
  return m;
}

void apply_sentencepiece_text_rules(TokenizerSpec& spec) {
  spec.normalizer.push_back({NormalizerStep::Kind::kReplace, " ", "\xE2\x96\x81"});
  spec.split_merged_with_previous = " ";
  spec.decoder.push_back({DecoderStep::Kind::kReplace, "\xE2\x96\x81", " "});
  spec.decoder.push_back({DecoderStep::Kind::kByteFallback, "", ""});
  spec.decoder.push_back({DecoderStep::Kind::kFuse, "", ""});
  spec.byte_fallback = true;
  spec.fuse_unk = true;
}

TokenizerSpec spec_from_sentencepiece(const SentencePieceModel& model, const std::string& source) {
  if (model.model_type != 2)
    fail(source + ": trainer_spec.model_type is " + std::to_string(model.model_type) +
         "; only BPE (2) SentencePiece models (Gemma) are supported");
  TokenizerSpec spec;
  spec.source = source;
  std::unordered_map<std::string_view, int32_t> vocab;
  for (size_t i = 0; i < model.pieces.size(); ++i) {
    const auto& p = model.pieces[i];
    if (!vocab.emplace(p.piece, int32_t(i)).second) fail(source + ": piece \"" + p.piece + "\" appears twice");
    spec.pieces.push_back(p.piece);
    if (p.type == SentencePieceModel::kControl || p.type == SentencePieceModel::kUserDefined)
      spec.added.push_back({int32_t(i), p.piece, p.type == SentencePieceModel::kControl, false});
  }
  // GemmaTokenizer's default special tokens are added (special) tokens whatever their piece type.
  for (const char* name : {"<pad>", "<eos>", "<bos>", "<unk>", "<mask>"}) {
    auto it = vocab.find(name);
    if (it == vocab.end()) continue;
    bool found = false;
    for (AddedTokenSpec& a : spec.added)
      if (a.id == it->second) found = a.special = true;
    if (!found) spec.added.push_back({it->second, name, true, false});
  }
  // generate_merges(vocab) with no scores: ordered by the merged piece's id, then left and right lengths
  // (shortest first), ties in (left id, right id) order.
  for (size_t id = 0; id < spec.pieces.size(); ++id) {
    const std::string_view piece = spec.pieces[id];
    std::vector<std::pair<int32_t, int32_t>> local;
    size_t pos = 0;
    while (true) {
      tok::next_code_point(piece, pos);
      if (pos >= piece.size()) break;
      auto l = vocab.find(piece.substr(0, pos));
      auto r = vocab.find(piece.substr(pos));
      if (l != vocab.end() && r != vocab.end()) local.emplace_back(l->second, r->second);
    }
    // Left lengths grow with the split point, so this loop's order is already shortest-left first; the
    // lengths determine the pieces, so (left id, right id) ties cannot occur within one merged piece.
    spec.merges.insert(spec.merges.end(), local.begin(), local.end());
  }
  apply_sentencepiece_text_rules(spec);
  auto unk = vocab.find(model.unk_piece);
  if (unk == vocab.end()) fail(source + ": the unknown piece \"" + model.unk_piece + "\" is not in the vocabulary");
  spec.unk_id = unk->second;
  return spec;
}

}  // namespace scitune
