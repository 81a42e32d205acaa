#include "tokenizer/json_cursor.h"

#include <charconv>
#include <cmath>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace scitune::tok {

JsonCursor::JsonCursor(std::string_view text, std::string source, size_t max_depth)
    : text_(text), source_(std::move(source)), max_depth_(max_depth) {
  if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") fail_at(0, "a UTF-8 byte order mark is not JSON");
}

void JsonCursor::fail_at(size_t offset, const std::string& what) const {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text_.size(); ++i) {
    if (text_[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  fail(source_ + ": line " + std::to_string(line) + " column " + std::to_string(col) + ": " + what);
}

void JsonCursor::skip_ws() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
    ++pos_;
  }
}

char JsonCursor::next_char() {
  skip_ws();
  if (pos_ >= text_.size()) fail_here("unexpected end of JSON");
  return text_[pos_];
}

void JsonCursor::expect(char c) {
  if (next_char() != c) fail_here(std::string("expected '") + c + "'");
  ++pos_;
}

JsonCursor::Type JsonCursor::peek() {
  switch (next_char()) {
    case '{':
      return Type::kObject;
    case '[':
      return Type::kArray;
    case '"':
      return Type::kString;
    case 't':
    case 'f':
      return Type::kBool;
    case 'n':
      return Type::kNull;
    default: {
      const char c = text_[pos_];
      if (c == '-' || (c >= '0' && c <= '9')) return Type::kNumber;
      fail_here("expected a JSON value");
    }
  }
}

void JsonCursor::push_level() {
  if (first_.size() >= max_depth_) fail_here("JSON nested deeper than " + std::to_string(max_depth_) + " levels");
  first_.push_back(1);
}

void JsonCursor::enter_object() {
  expect('{');
  push_level();
}

void JsonCursor::enter_array() {
  expect('[');
  push_level();
}

bool JsonCursor::next_key(std::string_view* key, std::string* scratch) {
  SCITUNE_CHECK(!first_.empty(), "next_key outside an object");
  char c = next_char();
  if (c == '}') {
    ++pos_;
    first_.pop_back();
    return false;
  }
  if (!first_.back()) {
    if (c != ',') fail_here("expected ',' or '}'");
    ++pos_;
    c = next_char();
  }
  if (c != '"') fail_here("expected a string key");
  first_.back() = 0;
  *key = read_string(scratch);
  expect(':');
  return true;
}

bool JsonCursor::next_item() {
  SCITUNE_CHECK(!first_.empty(), "next_item outside an array");
  const char c = next_char();
  if (c == ']') {
    ++pos_;
    first_.pop_back();
    return false;
  }
  if (!first_.back()) {
    if (c != ',') fail_here("expected ',' or ']'");
    ++pos_;
    if (next_char() == ']') fail_here("trailing ',' before ']'");
  }
  first_.back() = 0;
  return true;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view JsonCursor::read_string(std::string* scratch) {
  if (next_char() != '"') fail_here("expected a string");
  const size_t start = ++pos_;
  // Fast scan: most strings have no escapes and are returned as a view.
  size_t i = start;
  while (i < text_.size()) {
    const auto c = static_cast<unsigned char>(text_[i]);
    if (c == '"' || c == '\\' || c < 0x20) break;
    ++i;
  }
  if (i >= text_.size()) fail_at(start - 1, "unterminated string");
  if (text_[i] == '"') {
    const std::string_view raw = text_.substr(start, i - start);
    if (auto bad = find_invalid_utf8(raw)) fail_at(start + *bad, "invalid UTF-8 in string");
    pos_ = i + 1;
    return raw;
  }
  scratch->assign(text_.data() + start, i - start);
  while (true) {
    if (i >= text_.size()) fail_at(start - 1, "unterminated string");
    const auto c = static_cast<unsigned char>(text_[i]);
    if (c == '"') break;
    if (c < 0x20) fail_at(i, "control character in string (must be escaped)");
    if (c != '\\') {
      scratch->push_back(char(c));
      ++i;
      continue;
    }
    if (i + 1 >= text_.size()) fail_at(i, "unterminated escape");
    const char e = text_[i + 1];
    i += 2;
    switch (e) {
      case '"':
        scratch->push_back('"');
        break;
      case '\\':
        scratch->push_back('\\');
        break;
      case '/':
        scratch->push_back('/');
        break;
      case 'b':
        scratch->push_back('\b');
        break;
      case 'f':
        scratch->push_back('\f');
        break;
      case 'n':
        scratch->push_back('\n');
        break;
      case 'r':
        scratch->push_back('\r');
        break;
      case 't':
        scratch->push_back('\t');
        break;
      case 'u': {
        auto read4 = [&](size_t at) -> int {
          if (at + 4 > text_.size()) fail_at(at, "truncated \\u escape");
          int v = 0;
          for (size_t k = 0; k < 4; ++k) {
            const int h = hex_value(text_[at + k]);
            if (h < 0) fail_at(at, "invalid \\u escape");
            v = v * 16 + h;
          }
          return v;
        };
        char32_t cp = char32_t(read4(i));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (i + 6 > text_.size() || text_[i] != '\\' || text_[i + 1] != 'u')
            fail_at(i, "unpaired UTF-16 surrogate in \\u escape");
          const char32_t lo = char32_t(read4(i + 2));
          if (lo < 0xDC00 || lo > 0xDFFF) fail_at(i, "unpaired UTF-16 surrogate in \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail_at(i - 6, "unpaired UTF-16 surrogate in \\u escape");
        }
        append_utf8(*scratch, cp);
        break;
      }
      default:
        fail_at(i - 2, "invalid escape");
    }
  }
  // Raw (unescaped) bytes were copied as they are: validate the result once.
  if (auto bad = find_invalid_utf8(*scratch))
    fail_at(start, "invalid UTF-8 in string (decoded byte " + std::to_string(*bad) + ")");
  pos_ = i + 1;
  return *scratch;
}

std::string JsonCursor::read_string() {
  std::string scratch;
  return std::string(read_string(&scratch));
}

bool JsonCursor::read_bool() {
  next_char();
  if (text_.substr(pos_, 4) == "true") {
    pos_ += 4;
    return true;
  }
  if (text_.substr(pos_, 5) == "false") {
    pos_ += 5;
    return false;
  }
  fail_here("expected true or false");
}

void JsonCursor::read_null() {
  next_char();
  if (text_.substr(pos_, 4) != "null") fail_here("expected null");
  pos_ += 4;
}

std::string_view JsonCursor::number_text() {
  next_char();
  const size_t start = pos_;
  size_t i = pos_;
  auto digits = [&] {
    const size_t from = i;
    while (i < text_.size() && text_[i] >= '0' && text_[i] <= '9') ++i;
    return i - from;
  };
  if (i < text_.size() && text_[i] == '-') ++i;
  if (i < text_.size() && text_[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    fail_at(start, "expected a number");
  }
  if (i < text_.size() && text_[i] == '.') {
    ++i;
    if (digits() == 0) fail_at(start, "expected digits after '.'");
  }
  if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
    ++i;
    if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
    if (digits() == 0) fail_at(start, "expected digits in exponent");
  }
  pos_ = i;
  return text_.substr(start, i - start);
}

double JsonCursor::read_number() {
  const size_t start = pos_;
  const std::string_view t = number_text();
  double v = 0;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (r.ec != std::errc() || !std::isfinite(v)) fail_at(start, "number out of range");
  return v;
}

int64_t JsonCursor::read_integer() {
  skip_ws();
  const size_t start = pos_;
  const std::string_view t = number_text();
  if (t.find_first_of(".eE") != std::string_view::npos) fail_at(start, "expected an integer");
  int64_t v = 0;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (r.ec != std::errc() || r.ptr != t.data() + t.size()) fail_at(start, "integer out of range");
  return v;
}

void JsonCursor::skip() {
  switch (peek()) {
    case Type::kObject: {
      enter_object();
      std::string_view key;
      std::string scratch;
      while (next_key(&key, &scratch)) skip();
      return;
    }
    case Type::kArray:
      enter_array();
      while (next_item()) skip();
      return;
    case Type::kString: {
      std::string scratch;
      read_string(&scratch);
      return;
    }
    case Type::kNumber:
      number_text();
      return;
    case Type::kBool:
      read_bool();
      return;
    case Type::kNull:
      read_null();
      return;
  }
}

nlohmann::json JsonCursor::read_dom() {
  nlohmann::json out;
  read_dom_into(out);
  return out;
}

void JsonCursor::read_dom_into(nlohmann::json& out) {
  switch (peek()) {
    case Type::kObject: {
      out = nlohmann::json::object();
      enter_object();
      std::string_view key;
      std::string scratch;
      while (true) {
        const size_t key_at = pos_;
        if (!next_key(&key, &scratch)) break;
        std::string k(key);
        if (out.contains(k)) fail_at(key_at, "duplicate key \"" + k + "\"");
        read_dom_into(out[k]);
      }
      return;
    }
    case Type::kArray:
      out = nlohmann::json::array();
      enter_array();
      while (next_item()) {
        out.push_back(nullptr);
        read_dom_into(out.back());
      }
      return;
    case Type::kString:
      out = read_string();
      return;
    case Type::kNumber: {
      skip_ws();
      const size_t start = pos_;
      const std::string_view t = number_text();
      pos_ = start;
      if (t.find_first_of(".eE") == std::string_view::npos && t.size() < 19)
        out = read_integer();
      else
        out = read_number();
      return;
    }
    case Type::kBool:
      out = read_bool();
      return;
    case Type::kNull:
      read_null();
      out = nullptr;
      return;
  }
}

void JsonCursor::finish() {
  skip_ws();
  if (pos_ != text_.size()) fail_here("unexpected data after the JSON value");
}

}  // namespace scitune::tok
