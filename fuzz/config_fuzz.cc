// libFuzzer target: config.json (and generation_config.json) parsing from bytes. Bad input must end in
// UserError. A config that parses must survive write -> parse unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/json_limits.h"
#include "model/config.h"
#include "model/generation_config.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto root = scitune::parse_json_strict(text, "config.json");
    const scitune::ModelConfig c = scitune::parse_hf_config(root, "config.json");
    if (!(scitune::parse_hf_config(scitune::to_hf_config(c), "written") == c)) __builtin_trap();
    (void)scitune::describe(c);
    // The same bytes as a generation_config.json for this model.
    (void)scitune::parse_generation_config(root, "generation_config.json", c);
  } catch (const scitune::UserError&) {
  }
  return 0;
}
