// Weights for the Gemma 3 forward, from an HF model folder or a GGUF file.
//  - GGUF: linear weights and the embedding are used in place, in their stored type (the file stays mmapped);
//    norms are read as fp32 gains (GGUF stores the gain 1 + w).
//  - HF folder: bf16/f16 matrices kept in their stored type (widened exactly where used), fp32 ones as fp32;
//    norms turned into fp32 gains (1 + w).
//  - LoadOptions::dequantize: everything fp32 (the exact path the golden tests and training use).
//  - LoadOptions::quant: linear weights and the embedding quantised on load (like llama-quantize, no imatrix).
//  - LoadOptions::nf4: linear weights quantised to NF4 with double quantisation, as bitsandbytes does for
//    QLoRA (Linear4bit, block 64); the embedding and norms stay as loaded, as they do there.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "io/gguf.h"
#include "model/gemma3.h"
#include "model/hf_folder.h"
#include "quant/nf4.h"
#include "util/huge_page_buffer.h"

namespace scitune {

struct LoadOptions {
  bool dequantize = false;            // every weight as fp32
  std::optional<GgmlType> quant;      // quantise linear weights + embedding to this type on load
  bool nf4 = false;                   // quantise linear weights to NF4 (QLoRA base)
  // fp32 matrices of an HF folder rounded to bf16 (round to nearest even), as a bf16 model is loaded for
  // `bf16: true` training: the bf16 GEMMs then read them as they are instead of rounding every panel per call.
  bool bf16 = false;
  // Weights laid out for inference (the model sessions of generate, chat, eval, compare, perplexity): every
  // matrix a GGUF holds in place is copied into huge pages (util/huge_page_buffer.h), Q4_0 ones as their 16-row
  // repack for the integer kernels (kernels/cpu/q4_0x16.h; also Q4_0 quantised on load), and the file's pages
  // dropped. Decoding and generation prompts stream the copies; the exact paths (scoring, perplexity) read the
  // same values.
  bool inference_layout = false;
};

// The types --quant accepts: every weight dimension of a Gemma 3 is a multiple of their 32-value blocks
// (K-quants need 256, which 640-wide models do not have).
std::optional<GgmlType> parse_quant_on_load(std::string_view name);
inline constexpr std::string_view kQuantOnLoadNames = "q8_0, q4_0, nf4";
// "none", "q8_0", "q4_0", "nf4" -> options (UserError naming `what` otherwise).
void apply_quant_on_load(LoadOptions& options, std::string_view name, const std::string& what);

struct LoadedGemma3 {
  ModelConfig config;
  std::vector<std::vector<float>> storage;     // fp32 arrays the views point into
  std::vector<std::vector<uint8_t>> qstorage;  // quantised-on-load arrays
  std::vector<std::unique_ptr<Nf4Quantized>> nf4storage;  // NF4 states the matrices point to
  HugePageArena inference_copies;  // LoadOptions::inference_layout
  std::shared_ptr<const GgufFile> gguf;        // keeps in-place GGUF tensor data mapped
  Gemma3Weights weights;
  // Bytes of weight data the forward reads (linear + embedding + norms), for bandwidth figures.
  uint64_t weight_bytes() const;
};

LoadedGemma3 load_gemma3(const HfModelFolder& folder, const LoadOptions& options = {});
LoadedGemma3 load_gemma3(std::shared_ptr<const GgufFile> file, const LoadOptions& options = {});

// Everything fp32 (compatibility names used by tests and the fp32 paths).
inline LoadedGemma3 load_gemma3_fp32(const HfModelFolder& folder) { return load_gemma3(folder, {.dequantize = true, .quant = std::nullopt, .nf4 = false}); }
LoadedGemma3 load_gemma3_fp32(const GgufFile& file);

}  // namespace scitune
