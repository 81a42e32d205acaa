// UTF-8 helpers for the tokenizer: strict validation (HF tokenizers works on Rust strings, which cannot hold
// invalid UTF-8, so invalid input is rejected rather than guessed at), code point iteration and Python's
// notion of whitespace (the chat templates' `trim` is Python's str.strip()).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scitune::tok {

// Offset of the first byte that is not part of well-formed UTF-8 (overlongs, surrogates, code points above
// U+10FFFF and truncated sequences are all ill-formed), or nullopt when the whole string is valid.
std::optional<size_t> find_invalid_utf8(std::string_view s);

// Length in bytes of the UTF-8 sequence that starts with lead byte b (1 for a continuation byte, so that
// iteration over valid text never stalls).
inline size_t utf8_len(uint8_t b) { return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : b < 0xF8 ? 4 : 1; }

// Decodes the code point at s[pos] of valid UTF-8 and advances pos.
char32_t next_code_point(std::string_view s, size_t& pos);

void append_utf8(std::string& out, char32_t cp);

// Number of code points in valid UTF-8 (Python's len()).
size_t count_code_points(std::string_view s);

// Python's str.isspace() for one code point.
bool is_python_space(char32_t cp);

// Python's str.strip() with no argument, on valid UTF-8.
std::string_view python_strip(std::string_view s);

}  // namespace scitune::tok
