// The vocabulary inside a GGUF (`tokenizer.ggml.*`), so that a GGUF alone is enough to tokenize.
//
// Gemma 3 GGUFs say tokenizer.ggml.model = "llama" (SentencePiece BPE) and carry pieces, scores and types
// but no merges. The tokenizer.json of the same model was made by HF's GemmaConverter, which derives merges
// from the SentencePiece scores (merge_rules.h). llama.cpp's converter changed two things on the way, undone
// here: it overwrote the score of every added token (CONTROL / USER_DEFINED) with -1000 (SentencePiece has 0
// for them), and wrote '▁' in USER_DEFINED pieces as ' ' ("pre-normalized" whitespace-run tokens). With both
// undone the derived merge list equals tokenizer.json's exactly (all 514,906 merges, checked in the tests),
// so encoding is identical. Differences that remain: special = CONTROL type (tokenizer.json marks only 9 of
// the 6,249 CONTROL tokens special, so decode(skip_special_tokens) also drops <unusedN>/<mask>), and ids the
// GGUF does not have (the 270M's vocabulary stops before <image_soft_token> = 262144).
#pragma once
#include <string>

#include "io/gguf_reader.h"
#include "tokenizer/tokenizer_spec.h"

namespace scitune {

TokenizerSpec spec_from_gguf(const GgufFile& gguf);

}  // namespace scitune
