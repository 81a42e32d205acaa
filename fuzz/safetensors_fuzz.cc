// libFuzzer target: the safetensors header parser on an in-memory file image. Bad input must end in
// UserError; anything else (a crash, a sanitizer report, InternalError) is a bug.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "io/safetensors.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  try {
    const auto header = scitune::SafetensorsHeader::parse(bytes, "fuzz.safetensors");
    // Everything the header promises must lie inside the buffer: touch each tensor's bytes.
    for (const auto& t : header.tensors()) {
      scitune::TensorView v{&t, bytes.subspan(header.data_offset() + t.begin, t.nbytes()), "fuzz"};
      if (header.find(t.name) != &t) __builtin_trap();
      if (v.data.size() != t.numel() * scitune::dtype_size(t.dtype)) __builtin_trap();
      const auto d = t.dtype;
      if ((d == scitune::DType::F32 || d == scitune::DType::F16 || d == scitune::DType::BF16) && t.numel() < 4096) {
        std::vector<float> out(t.numel());
        v.to_f32(out);
      }
    }
  } catch (const scitune::UserError&) {
  }
  return 0;
}
