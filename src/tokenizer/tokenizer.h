// The Gemma tokenizer: encodes and decodes exactly as HF `tokenizers` does with the model's tokenizer.json.
//
// Encode: (1) added tokens (Gemma: <bos>, <start_of_turn>, "\n" and whitespace runs, HTML tags, <unusedN>...)
// are cut out of the raw text first, leftmost-longest; (2) each piece between them is normalised (Gemma:
// ' ' -> '▁') and pre-tokenized; (3) each word is BPE-encoded (tok::BpeModel). add_special_tokens wraps the
// result in the post-processor's tokens (Gemma: a leading <bos>). Input must be valid UTF-8: HF's Python
// strings cannot hold anything else, so there is no reference behaviour to match and it is a UserError.
//
// Speed without changing results: BPE merges never cross a position where no merged piece can span it, so
// words are cut there (before a '▁' whose left neighbour can never end a piece that continues with '▁';
// derived from the merge list at load, not assumed) and the pieces are cached per thread.
//
// Decode: ids -> piece strings (skipping special tokens if asked) -> the decoder chain (Gemma: '▁' -> ' ',
// <0xNN> byte runs fused into text, or one U+FFFD per byte when a run is not valid UTF-8). Ids outside the
// vocabulary are a UserError (HF silently drops them).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_spec.h"

namespace scitune {

class Tokenizer {
 public:
  // `path` is a tokenizer.json, a tokenizer.model (SentencePiece), a .gguf, or a model folder holding
  // tokenizer.json or else tokenizer.model (plus tokenizer_config.json / special_tokens_map.json /
  // chat_template.jinja when present).
  static Tokenizer load(const std::filesystem::path& path);
  static Tokenizer from_spec(TokenizerSpec spec);

  // Token ids of `text`; throws UserError if text is not valid UTF-8.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = false) const;
  // Many texts on `threads` threads (0: one per core); the same result as encode() on each.
  std::vector<std::vector<int32_t>> encode_batch(std::span<const std::string> texts, bool add_special_tokens = false,
                                                 unsigned threads = 0) const;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  size_t vocab_size() const;  // one past the largest id
  std::optional<int32_t> token_to_id(std::string_view token) const;
  const std::string& id_to_token(int32_t id) const;  // UserError if out of range
  bool is_special(int32_t id) const;
  bool is_valid_id(int32_t id) const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> pad_id() const;
  const std::string& chat_template() const;
  const std::string& source() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;  // immutable after load: copies are cheap and thread-safe
};

// Decodes a stream of ids as they are generated. The concatenation of every push() and the final finish()
// equals decode() of all the ids, and nothing returned ever ends in part of a UTF-8 character: a run of
// <0xNN> byte pieces is held back until a non-byte piece (or finish()) ends it, because HF decides whether a
// run is text or U+FFFD only once the whole run is known.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false);
  std::string push(int32_t id);  // UserError if the id is out of range
  std::string finish();

 private:
  Tokenizer tokenizer_;
  bool skip_special_;
  std::vector<int32_t> pending_;  // ids of an unfinished byte run
  bool emitted_ = false;          // tokenizers without a decoder join tokens with spaces
};

}  // namespace scitune
