// Gemma 3 in GGUF terms: the ModelConfig a gemma3 GGUF describes (keys of spec §4.2, as llama.cpp reads
// them), and the mapping between our canonical HF tensor names and GGUF tensor names (spec §4.5).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "io/gguf.h"
#include "model/config.h"

namespace scitune {

// Reads general.architecture == "gemma3" and the gemma3.* keys. llama.cpp hard-codes what the file does not
// say (sliding pattern 6, local RoPE base 10000, query scale 1/sqrt(key_length)); we do the same, so a
// GGUF and the HF folder it came from give the same config. vocab_size = token_embd rows.
ModelConfig config_from_gguf(const GgufFile& f);

// "layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; "embed_tokens.weight" -> "token_embd.weight".
// nullopt for names with no GGUF counterpart (lm_head of a tied model).
std::optional<std::string> gguf_tensor_name(std::string_view canonical);

// GGUF gemma3 norms hold the gain (1 + w) already (the converter adds 1).
inline bool gguf_stores_norm_gain() { return true; }

}  // namespace scitune
