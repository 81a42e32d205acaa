#include "io/gguf_value.h"

#include <bit>
#include <charconv>
#include <cstring>

namespace scitune {

static_assert(std::endian::native == std::endian::little, "GGUF I/O assumes a little-endian host");

namespace {

constexpr const char* kTypeNames[kGgufValueTypeCount] = {"UINT8",  "INT8",    "UINT16", "INT16",  "UINT32",
                                                         "INT32",  "FLOAT32", "BOOL",   "STRING", "ARRAY",
                                                         "UINT64", "INT64",   "FLOAT64"};

template <class F>
std::string float_text(F x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);  // shortest text that reads back to the same value
  return std::string(buf, r.ptr);
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

template <class T>
std::string element_text(const T& x) {
  if constexpr (std::is_same_v<T, std::string>)
    return quoted(x);
  else if constexpr (std::is_same_v<T, bool>)
    return x ? "true" : "false";
  else if constexpr (std::is_floating_point_v<T>)
    return float_text(x);
  else
    return std::to_string(x);
}

template <class T>
void put_le(const T& x, std::vector<uint8_t>& out) {
  const auto* p = reinterpret_cast<const uint8_t*>(&x);
  out.insert(out.end(), p, p + sizeof(T));
}

}  // namespace

std::string gguf_type_name(uint32_t code) {
  if (code < kGgufValueTypeCount) return kTypeNames[code];
  return "type " + std::to_string(code);
}

std::string gguf_type_name(GgufValueType type) { return gguf_type_name(static_cast<uint32_t>(type)); }

size_t GgufArray::size() const {
  return std::visit(
      [](const auto& v) -> size_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, GgufNoNestedArrays>)
          return 0;
        else
          return v.size();
      },
      items);
}

std::string to_string(const GgufValue& value, size_t max_elems) {
  return std::visit(
      [&](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, GgufArray>) {
          return std::visit(
              [&](const auto& items) -> std::string {
                using V = std::decay_t<decltype(items)>;
                if constexpr (std::is_same_v<V, GgufNoNestedArrays>) {
                  return "[]";
                } else {
                  std::string out = "[";
                  const size_t shown = std::min(items.size(), max_elems);
                  for (size_t i = 0; i < shown; ++i) {
                    if (i) out += ", ";
                    out += element_text(static_cast<typename V::value_type>(items[i]));
                  }
                  if (shown < items.size())
                    out += std::string(shown ? ", " : "") + "... (" + std::to_string(items.size()) + " items)";
                  return out + "]";
                }
              },
              x.items);
        } else {
          return element_text(x);
        }
      },
      value.v);
}

void gguf_encode_string(std::string_view s, std::vector<uint8_t>& out) {
  put_le(static_cast<uint64_t>(s.size()), out);
  out.insert(out.end(), s.begin(), s.end());
}

void gguf_encode_value(const GgufValue& value, std::vector<uint8_t>& out) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, GgufArray>) {
          put_le(static_cast<uint32_t>(x.elem_type()), out);
          put_le(static_cast<uint64_t>(x.size()), out);
          std::visit(
              [&](const auto& items) {
                using V = std::decay_t<decltype(items)>;
                if constexpr (std::is_same_v<V, std::vector<std::string>>) {
                  for (const auto& s : items) gguf_encode_string(s, out);
                } else if constexpr (std::is_same_v<V, std::vector<bool>>) {
                  for (bool b : items) out.push_back(b ? 1 : 0);
                } else if constexpr (!std::is_same_v<V, GgufNoNestedArrays>) {
                  const auto* p = reinterpret_cast<const uint8_t*>(items.data());
                  out.insert(out.end(), p, p + items.size() * sizeof(typename V::value_type));
                }
              },
              x.items);
        } else if constexpr (std::is_same_v<T, std::string>) {
          gguf_encode_string(x, out);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.push_back(x ? 1 : 0);
        } else {
          put_le(x, out);
        }
      },
      value.v);
}

}  // namespace scitune
