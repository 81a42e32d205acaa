// The few Python 3 str behaviours the reference metrics depend on, over UTF-8: str.lower() (full case mapping,
// Final_Sigma in context), str.isspace() (what str.split() splits on) and re's \w for str patterns (what \b
// sees). Backed by ICU's character database; tests/golden/eval/unicode.json holds CPython's answer for every
// code point and the tests compare all of them (ICU 72 knows Unicode 15, CPython 3.14 Unicode 16: characters
// new in 16 are the only ones allowed to differ).
#pragma once
#include <string>
#include <string_view>

namespace scitune {

// Code points of UTF-8 text; each ill-formed sequence reads as one U+FFFD (ICU's U8_NEXT_OR_FFFD).
std::u32string utf8_to_code_points(std::string_view text);
void append_utf8(std::string& out, char32_t c);

// str.lower() under the root locale: U+0130 becomes "i\u0307", a final capital sigma "ς".
std::string py_lower(std::string_view text);

// str.isspace(): general category Zs or bidirectional class WS, B or S.
bool py_isspace(char32_t c);

// re's \w for str patterns: str.isalnum() (letters Lu Ll Lt Lm Lo, anything with a numeric value) or '_'.
bool py_is_word(char32_t c);

}  // namespace scitune
