// libFuzzer target for the imatrix reader (GGUF and legacy .dat). Any input must either be rejected with a
// UserError or give entries that export can use as they are: at least one, each non-empty and finite.
#include <cmath>
#include <cstdint>
#include <span>

#include "export/imatrix.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scitune;
  ImportanceMatrix m;
  try {
    m = parse_imatrix(std::span<const uint8_t>(data, size), "fuzz.imatrix");
  } catch (const UserError&) {
    return 0;
  }
  if (m.entries.empty()) __builtin_trap();
  for (const auto& [name, v] : m.entries) {
    if (name.empty() || v.empty()) __builtin_trap();
    for (float x : v)
      if (!std::isfinite(x)) __builtin_trap();
  }
  return 0;
}
