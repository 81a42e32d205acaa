#include "model/load.h"

#include "io/gguf.h"
#include "model/hf_folder.h"
#include "util/error.h"

namespace scitune {

LoadedGemma3 load_model(const std::filesystem::path& path, const LoadOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (!std::filesystem::exists(path / "config.json"))
      fail(path.string() + ": folder has no config.json (expected an HF model folder)");
    return load_gemma3(HfModelFolder::open(path), options);
  }
  if (!std::filesystem::exists(path, ec)) fail(path.string() + ": no such file or folder");
  // open() rejects non-GGUF files with a message naming the path.
  return load_gemma3(std::make_shared<const GgufFile>(GgufFile::open(path)), options);
}

}  // namespace scitune
