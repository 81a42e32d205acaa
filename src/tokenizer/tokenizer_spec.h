// What a tokenizer is, independent of the file it came from: the loaders for tokenizer.json, SentencePiece
// tokenizer.model and GGUF vocabularies all produce a TokenizerSpec, and Tokenizer compiles one into its
// lookup tables. Only the pipeline pieces that HF `tokenizers` uses for Gemma are expressible; loaders reject
// anything else with an error naming the field, rather than encoding differently from HF.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scitune {

// A token matched in the raw text before normalisation/BPE (HF "added token"). lstrip/rstrip/single_word are
// not supported (loaders reject them), so a match is always exactly `content`.
struct AddedTokenSpec {
  int32_t id = 0;
  std::string content;
  bool special = false;     // skipped by decode(skip_special_tokens)
  bool normalized = false;  // matched in the normalised text instead of the raw text
};

// One normaliser step, applied in order to every piece of text between added tokens.
struct NormalizerStep {
  enum class Kind { kReplace, kPrepend };
  Kind kind = Kind::kReplace;
  std::string pattern;  // kReplace: literal text to replace (non-empty)
  std::string content;  // replacement, or the text to prepend to a non-empty piece
};

// One decoder step (HF decoders.Sequence), applied in order to the list of token strings.
struct DecoderStep {
  enum class Kind { kReplace, kByteFallback, kFuse, kStrip };
  Kind kind = Kind::kReplace;
  std::string pattern, content;  // kReplace; kStrip strips `content` (one char) start/stop times
  int start = 0, stop = 0;
};

struct TokenizerSpec {
  std::string source;               // file name for messages
  std::vector<std::string> pieces;  // BPE vocabulary by id (ids 0..pieces.size()-1)
  // Merges in rank order as (left piece id, right piece id); the result is the piece left+right.
  std::vector<std::pair<int32_t, int32_t>> merges;
  std::vector<AddedTokenSpec> added;  // ids may lie beyond pieces (e.g. Gemma 3's <image_soft_token>)
  std::vector<NormalizerStep> normalizer;
  std::optional<std::string> split_merged_with_previous;  // HF pre_tokenizers.Split(String, MergedWithPrevious)
  std::vector<DecoderStep> decoder;
  bool byte_fallback = false;
  std::optional<int32_t> unk_id;
  bool fuse_unk = false;
  // Added by encode(add_special_tokens = true): HF's TemplateProcessing "single" around the sequence.
  std::vector<int32_t> prefix_ids, suffix_ids;
  // From tokenizer_config.json / special_tokens_map.json / GGUF keys when present.
  std::optional<int32_t> bos_id, eos_id, pad_id;
  std::string chat_template;  // the Jinja source as shipped (used only to recognise the chat format)
};

}  // namespace scitune
