// Opens a model for the fp32 forward from whatever the user points at: an HF model folder (config.json +
// safetensors) or a gemma3 GGUF file.
#pragma once
#include <filesystem>
#include <memory>

#include "model/weights.h"

namespace scitune {

LoadedGemma3 load_model_fp32(const std::filesystem::path& path);

}  // namespace scitune
