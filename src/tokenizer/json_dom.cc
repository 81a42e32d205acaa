#include "tokenizer/json_dom.h"

#include <unordered_set>
#include <vector>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace scitune::tok {

namespace {

std::string line_column(std::string_view text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + " column " + std::to_string(col);
}

}  // namespace

simdjson::dom::element parse_json(simdjson::dom::parser& parser, std::string_view text, const std::string& source) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") fail(source + ": line 1 column 1: a UTF-8 byte order mark is not JSON");
  if (parser.max_depth() != kJsonMaxDepth || parser.capacity() < text.size()) {
    if (parser.allocate(std::max(text.size(), parser.capacity()), kJsonMaxDepth) != simdjson::SUCCESS)
      fail(source + ": cannot allocate the JSON parser for " + std::to_string(text.size()) + " bytes");
  }
  simdjson::dom::element root;
  const simdjson::error_code err = parser.parse(text.data(), text.size()).get(root);
  switch (err) {
    case simdjson::SUCCESS:
      return root;
    case simdjson::EMPTY:
      fail(source + ": unexpected end of JSON (no value)");
    case simdjson::DEPTH_ERROR:
      fail(source + ": JSON nested deeper than " + std::to_string(kJsonMaxDepth) + " levels");
    case simdjson::UTF8_ERROR: {
      const auto bad = find_invalid_utf8(text);
      fail(source + ": " + (bad ? line_column(text, *bad) + ": " : std::string()) + "invalid UTF-8");
    }
    default:
      fail(source + ": invalid JSON: " + simdjson::error_message(err));
  }
}

void check_unique_keys(simdjson::dom::object obj, const std::string& where) {
  const size_t n = obj.size();
  if (n < 2) return;
  auto dup = [&](std::string_view k) { fail(where + ": duplicate key \"" + std::string(k) + "\""); };
  if (n <= 16) {  // the usual small configuration object: no hashing
    std::string_view keys[16];
    size_t i = 0;
    for (auto kv : obj) {
      for (size_t j = 0; j < i; ++j)
        if (keys[j] == kv.key) dup(kv.key);
      keys[i++] = kv.key;
    }
    return;
  }
  std::unordered_set<std::string_view> seen;
  seen.reserve(n);
  for (auto kv : obj)
    if (!seen.insert(kv.key).second) dup(kv.key);
}

nlohmann::json to_nlohmann(simdjson::dom::element v, const std::string& where) {
  using simdjson::dom::element_type;
  switch (v.type()) {
    case element_type::OBJECT: {
      const simdjson::dom::object obj = v.get_object().value_unsafe();
      check_unique_keys(obj, where);
      nlohmann::json out = nlohmann::json::object();
      for (auto kv : obj) out[std::string(kv.key)] = to_nlohmann(kv.value, where + "." + std::string(kv.key));
      return out;
    }
    case element_type::ARRAY: {
      nlohmann::json out = nlohmann::json::array();
      size_t i = 0;
      const simdjson::dom::array arr = v.get_array().value_unsafe();
      for (simdjson::dom::element e : arr)
        out.push_back(to_nlohmann(e, where + "[" + std::to_string(i++) + "]"));
      return out;
    }
    case element_type::STRING:
      return std::string(v.get_string().value_unsafe());
    case element_type::INT64:
      return v.get_int64().value_unsafe();
    case element_type::UINT64:
      return v.get_uint64().value_unsafe();
    case element_type::DOUBLE:
      return v.get_double().value_unsafe();
    case element_type::BOOL:
      return v.get_bool().value_unsafe();
    case element_type::NULL_VALUE:
      return nullptr;
  }
  fail(where + ": unknown JSON value type");
}

}  // namespace scitune::tok
