// libFuzzer target for the tokenizer.json loader. Any input must either be rejected with a UserError or load
// into a tokenizer that then encodes and decodes without crashing, where encode_batch equals encode and
// streaming decode equals decode.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hf_json_loader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scitune;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<Tokenizer> tok;
  try {
    tok.emplace(Tokenizer::from_spec(parse_tokenizer_json(text, "fuzz.json")));
  } catch (const UserError&) {
    return 0;  // rejected: the expected outcome for most inputs
  }
  std::vector<std::string> inputs = {"", "a b  c\n\t<bos>", "\xC3\xA9\xF0\x9F\x98\x80 \xE2\x96\x81x"};
  const std::string_view tail = text.substr(size > 64 ? size - 64 : 0);
  if (!tok::find_invalid_utf8(tail)) inputs.emplace_back(tail);
  const auto batch = tok->encode_batch(inputs, true, 2);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = tok->encode(inputs[i], true);
    if (ids != batch[i]) __builtin_trap();
    for (bool skip : {false, true}) {
      const std::string whole = tok->decode(ids, skip);
      std::optional<StreamDecoder> stream;
      try {
        stream.emplace(*tok, skip);
      } catch (const UserError&) {
        continue;  // decoder chains with steps after Fuse cannot stream
      }
      std::string parts;
      for (int32_t id : ids) parts += stream->push(id);
      parts += stream->finish();
      if (parts != whole) __builtin_trap();
    }
  }
  try {
    tok->decode(std::vector<int32_t>{int32_t(tok->vocab_size())});
    __builtin_trap();  // an out-of-range id must be rejected
  } catch (const UserError&) {
  }
  return 0;
}
