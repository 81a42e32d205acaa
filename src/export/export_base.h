// The model an export starts from — an HF model folder or a gemma3 GGUF — read one tensor (or a band of
// rows) at a time as fp32, so exporting never holds a second copy of the whole model, with an optional
// LoRA adapter folded in: W + scale·B·A in fp32, the update PEFT's merge_and_unload applies. A quantised base
// is folded into its dequantised values (what training saw), which the model card says.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/gguf_reader.h"
#include "model/config.h"
#include "model/hf_folder.h"
#include "model/tensor_names.h"
#include "train/lora.h"

namespace scitune {

class ExportBase {
 public:
  // Opens an HF folder (config.json + safetensors) or a .gguf file; errors name the path.
  static ExportBase open(const std::filesystem::path& path);
  // Loads a PEFT adapter checked against this base (names and shapes); errors name the adapter folder.
  void attach_adapter(const std::filesystem::path& dir);

  const std::filesystem::path& path() const { return path_; }
  const ModelConfig& config() const { return config_; }
  bool is_gguf() const { return gguf_ != nullptr; }
  const GgufFile* gguf() const { return gguf_.get(); }
  const HfModelFolder* hf() const { return hf_.get(); }
  const LoraAdapter* adapter() const { return adapter_ ? &*adapter_ : nullptr; }
  const std::filesystem::path& adapter_dir() const { return adapter_dir_; }
  // "Q4_K" etc. when the base stores quantised linear weights (merging folds into their dequantised values).
  std::optional<std::string> quantised_base_type() const;

  // Rows [row0, row0 + n) of a text tensor (a 1-D tensor is one row), fp32, with the adapter's update added
  // to adapted projections. Norms come back as HF stores them (w), or as the gain 1 + w when `norm_gain`
  // (what GGUF stores). out.size() must be n * row length.
  void read_rows(const TensorDesc& d, int64_t row0, int64_t n, std::span<float> out, bool norm_gain) const;
  std::vector<float> read(const TensorDesc& d, bool norm_gain) const;

 private:
  void read_base_rows(const TensorDesc& d, int64_t row0, int64_t n, std::span<float> out, bool norm_gain) const;
  std::filesystem::path path_, adapter_dir_;
  ModelConfig config_;
  std::shared_ptr<const GgufFile> gguf_;
  std::shared_ptr<const HfModelFolder> hf_;
  std::optional<LoraAdapter> adapter_;
};

// Row length (last dimension) and row count of a text tensor; a 1-D tensor is one row.
inline int64_t row_length(const TensorDesc& d) { return d.shape.back(); }
inline int64_t row_count(const TensorDesc& d) { return d.shape.size() == 1 ? 1 : d.shape[0]; }

}  // namespace scitune
