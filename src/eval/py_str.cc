// Python str behaviours over ICU (see py_str.h); verified per code point against CPython in metrics_test.
#include "eval/py_str.h"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <cstdint>

namespace scitune {

std::u32string utf8_to_code_points(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT_OR_FFFD(s, i, n, c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  uint8_t buf[U8_MAX_LENGTH];
  int32_t len = 0;
  UBool error = false;
  U8_APPEND(buf, len, U8_MAX_LENGTH, static_cast<UChar32>(c), error);
  if (error) {  // a surrogate or out of range: cannot come from utf8_to_code_points
    len = 0;
    U8_APPEND_UNSAFE(buf, len, 0xFFFD);
  }
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(len));
}

std::string py_lower(std::string_view text) {
  // fromUTF8 maps ill-formed bytes to U+FFFD like utf8_to_code_points; the root locale keeps Turkish and
  // Lithuanian tailorings out, as Python does.
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

bool py_isspace(char32_t c) {
  const auto cp = static_cast<UChar32>(c);
  if (u_charType(cp) == U_SPACE_SEPARATOR) return true;
  const UCharDirection d = u_charDirection(cp);
  return d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
}

bool py_is_word(char32_t c) {
  if (c == U'_') return true;
  const auto cp = static_cast<UChar32>(c);
  switch (u_charType(cp)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return true;
    default:
      // str.isdecimal / isdigit / isnumeric: any Numeric_Type (Unihan numerals included).
      return u_getIntPropertyValue(cp, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
  }
}

}  // namespace scitune
