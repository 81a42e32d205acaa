// Reads HF `tokenizers` files: tokenizer.json (the pipeline, vocabulary and merges), and the optional
// tokenizer_config.json / special_tokens_map.json that transformers reads beside it.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include "tokenizer/tokenizer_spec.h"

namespace scitune {

// Parses tokenizer.json text. Supported pipeline (what Gemma 2/3 use): BPE model (optionally byte fallback,
// unk token, fuse_unk, ignore_merges); normalizers Replace(String)/Prepend/Sequence; pre-tokenizer
// Split(String, MergedWithPrevious) or none; post-processor TemplateProcessing or none; decoders
// Replace(String)/ByteFallback/Fuse/Strip/Sequence. `truncation` and `padding` are ignored, as transformers
// overrides them on every call. Anything else is a UserError naming `source` and the field.
TokenizerSpec parse_tokenizer_json(std::string_view text, const std::string& source);

// Applies tokenizer_config.json as transformers does: add_bos_token/add_eos_token (when present) rebuild the
// post-processor from bos_token/eos_token; bos/eos/pad tokens and chat_template are recorded. A second
// config, special_tokens_map.json, may name bos/eos/pad too (tokenizer_config wins). Missing files are
// skipped. For a spec built from tokenizer.model (`from_sentencepiece`), transformers also takes the added
// tokens' flags from added_tokens_decoder and marks the named bos/eos/unk/pad/mask tokens special.
void apply_tokenizer_config(TokenizerSpec& spec, const std::filesystem::path& config_json,
                            const std::filesystem::path& special_tokens_map_json, bool from_sentencepiece);

}  // namespace scitune
