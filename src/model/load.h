// Opens a model from whatever the user points at: an HF model folder (config.json + safetensors) or a gemma3
// GGUF file. See model/weights.h for what each option does to the stored weights.
#pragma once
#include <filesystem>

#include "model/weights.h"

namespace scitune {

LoadedGemma3 load_model(const std::filesystem::path& path, const LoadOptions& options = {});
inline LoadedGemma3 load_model_fp32(const std::filesystem::path& path) {
  return load_model(path, {.dequantize = true, .quant = std::nullopt, .nf4 = false});
}

}  // namespace scitune
