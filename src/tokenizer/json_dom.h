// Strict JSON reading for the tokenizer files with simdjson's DOM: RFC 8259 (no comments, trailing commas or
// NaN), strings valid UTF-8 with paired surrogate escapes, at most kJsonMaxDepth nested levels. simdjson does
// not check duplicate keys: check_unique_keys() and to_nlohmann() do, for the objects the loaders read.
// Every error names the source (and the key path, or for invalid UTF-8 the line and column).
#pragma once
#include <simdjson.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace scitune::tok {

inline constexpr size_t kJsonMaxDepth = 64;

// Parses one JSON document (nothing but whitespace may follow it). The result views `parser`'s buffers and
// stays valid until the parser parses again or is destroyed.
simdjson::dom::element parse_json(simdjson::dom::parser& parser, std::string_view text, const std::string& source);

// Fails with "<where>: duplicate key "k"" when a key appears twice.
void check_unique_keys(simdjson::dom::object obj, const std::string& where);

// Any value as an nlohmann DOM; duplicate keys at any level are errors naming `where` and the key path.
nlohmann::json to_nlohmann(simdjson::dom::element v, const std::string& where);

}  // namespace scitune::tok
