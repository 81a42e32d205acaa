// Where scitune keeps its cache: ${SCITUNE_DATA:-$HOME/.cache/scitune}; models under models/.
#pragma once
#include <cstdlib>
#include <filesystem>

namespace scitune {

inline std::filesystem::path data_dir() {
  if (const char* d = std::getenv("SCITUNE_DATA"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".cache" / "scitune";
}

// The real Gemma 3 270M (Q4_K_M) that scripts/fetch_model.sh puts in the cache.
inline std::filesystem::path default_model_path() { return data_dir() / "models" / "gemma-3-270m-q4_k_m.gguf"; }

}  // namespace scitune
