#include "report/html_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace scitune {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (overlong forms, surrogates and
// code points past U+10FFFF count as invalid, as the WHATWG decoder treats them).
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
      case '\n':
        out += static_cast<char>(c);
        break;
      default:
        if (c >= 0x20 && c != 0x7F) out += static_cast<char>(c);
    }
  }
  return out;
}

std::string truncate_utf8(std::string_view s, size_t max_chars) {
  size_t i = 0, chars = 0;
  while (i < s.size() && chars < max_chars) {
    const size_t n = utf8_length(s, i);
    i += n == 0 ? 1 : n;
    ++chars;
  }
  if (i >= s.size()) return std::string(s);
  return std::string(s.substr(0, i)) + "\xE2\x80\xA6";  // …
}

std::string thousands(int64_t v) {
  const uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  const std::string s = std::to_string(mag);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string fixed(double v, int digits) {
  if (std::isnan(v)) return "\xE2\x80\x93";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string short_number(double v, int significant) {
  if (std::isnan(v)) return "\xE2\x80\x93";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  const double mag = std::fabs(v);
  const int e = static_cast<int>(std::floor(std::log10(mag)));
  char buf[64];
  if (e < -3 || e >= 7) {
    const int decimals = significant > 1 ? significant - 1 : 0;
    const double scale = std::pow(10.0, decimals);
    double mant = std::round(v / std::pow(10.0, e) * scale) / scale;
    int exp10 = e;
    if (std::fabs(mant) >= 10) {  // 9.996e-4 rounds up to 1.00e-3, not 10.00e-4
      mant /= 10;
      ++exp10;
    }
    std::snprintf(buf, sizeof buf, "%.*fe%d", decimals, mant, exp10);
    return buf;
  }
  const int digits = std::max(0, significant - 1 - e);
  if (e >= 4) return thousands(static_cast<int64_t>(std::llround(v)));
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace scitune
