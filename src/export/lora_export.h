// Adapter exports: the PEFT folder (what transformers/PEFT load) and the llama.cpp LoRA GGUF that
// `llama-cli --lora` / `llama-server --lora` apply (spec data_eval_formats.md §8).
#pragma once
#include <filesystem>
#include <string>

#include "io/gguf_writer.h"
#include "quant/ggml_type.h"
#include "train/lora.h"

namespace scitune {

// The llama.cpp adapter GGUF: general.type "adapter", adapter.type "lora", adapter.lora.alpha, tensors
// "<base GGUF tensor>.lora_a" (ne [in, r]) / ".lora_b" (ne [r, out]). llama.cpp scales by alpha / r with r
// read from the tensor and one alpha per file, so: when every module has the same alpha/r·r product the file
// keeps it; otherwise (rsLoRA with several ranks, alpha_pattern) each B is pre-multiplied by its own scale and
// alpha is written as 0, which llama.cpp reads as "scale 1". Either way y = W x + scale_m · B_m A_m x exactly.
// type: F32, F16 or BF16.
GgufWriter gguf_lora_writer(const LoraAdapter& adapter, GgmlType type, const std::string& name);

}  // namespace scitune
