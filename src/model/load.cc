#include "model/load.h"

#include "io/gguf.h"
#include "model/hf_folder.h"
#include "util/error.h"

namespace scitune {

LoadedGemma3 load_model_fp32(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (!std::filesystem::exists(path / "config.json"))
      fail(path.string() + ": folder has no config.json (expected an HF model folder)");
    return load_gemma3_fp32(HfModelFolder::open(path));
  }
  if (!std::filesystem::exists(path, ec)) fail(path.string() + ": no such file or folder");
  GgufFile f = GgufFile::open(path);  // rejects non-GGUF files with a message naming the path
  return load_gemma3_fp32(f);
}

}  // namespace scitune
