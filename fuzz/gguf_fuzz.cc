// libFuzzer target for the GGUF reader. Any input must either be rejected with a UserError or parse into a
// file that the writer accepts and that reads back equal: the reader never crashes, and the writer accepts
// exactly what the reader accepts.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>

#include "io/gguf.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scitune;
  const std::span<const uint8_t> bytes(data, size);
  std::optional<GgufFile> f;
  try {
    f.emplace(GgufFile::parse(bytes, "fuzz.gguf"));
  } catch (const UserError&) {
    return 0;  // rejected input: the expected outcome for almost all fuzz inputs
  }
  for (const auto& [key, value] : f->metadata()) (void)to_string(value, 4);
  // Anything accepted must be writable and read back equal; an exception here escapes and is reported.
  const std::vector<uint8_t> again = GgufWriter::copy_of(*f).to_bytes();
  const GgufFile g = GgufFile::parse(again, "rewritten.gguf");
  // Values compare by encoding, so that NaNs compare equal to themselves.
  if (g.metadata().size() != f->metadata().size() || g.tensors().size() != f->tensors().size()) __builtin_trap();
  for (size_t i = 0; i < g.metadata().size(); ++i) {
    std::vector<uint8_t> ea, eb;
    gguf_encode_value(f->metadata()[i].second, ea);
    gguf_encode_value(g.metadata()[i].second, eb);
    if (f->metadata()[i].first != g.metadata()[i].first || ea != eb) __builtin_trap();
  }
  for (size_t i = 0; i < g.tensors().size(); ++i) {
    const auto &a = f->tensors()[i], &b = g.tensors()[i];
    if (a.name != b.name || a.type != b.type || a.ne != b.ne || !std::ranges::equal(a.data, b.data)) __builtin_trap();
  }
  if (GgufWriter::copy_of(g).to_bytes() != again) __builtin_trap();  // our own output is canonical
  return 0;
}
