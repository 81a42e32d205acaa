// Recovers BPE merges from a SentencePiece-style vocabulary (pieces + scores), as HF transformers'
// `generate_merges(vocab, vocab_scores)` does when it converts a SentencePiece BPE model (GemmaConverter):
// every split of every piece into two pieces that are both in the vocabulary is a merge; merges are ordered
// by the score of the piece they make (highest first), then by the left part's length, then the right
// part's length (both longest first, lengths in code points), ties keeping vocabulary order (the merged
// piece's id, then the left and right ids). A GGUF or tokenizer.model therefore yields exactly the merge list
// tokenizer.json carries (checked against the real Gemma 3 files in the tests).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace scitune {

std::vector<std::pair<int32_t, int32_t>> merges_from_scores(const std::vector<std::string>& pieces,
                                                            const std::vector<float>& scores);

}  // namespace scitune
