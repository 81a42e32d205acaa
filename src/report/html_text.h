// Text for the run report: HTML escaping that also repairs what a browser would choke on (invalid UTF-8,
// control characters), and number formats shared by the page and the charts. Every format is plain
// snprintf with fixed precision, so the same run folder always gives the same bytes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace scitune {

// & < > " ' escaped; invalid UTF-8 becomes U+FFFD; control characters other than tab and newline are dropped.
std::string html_escape(std::string_view text);

// At most max_chars code points, with "…" appended when something was cut (for labels and long answers).
std::string truncate_utf8(std::string_view text, size_t max_chars);

// 1234567 -> "1,234,567".
std::string thousands(int64_t v);
// "%.*f"; "–" (en dash) for NaN.
std::string fixed(double v, int digits);
// About `significant` significant digits: 0.000123 -> "1.23e-4", 2.5 -> "2.50", 651.06 -> "651"; "–" for NaN.
std::string short_number(double v, int significant = 3);

}  // namespace scitune
