// GGUF metadata values: the 13 value types of the format and a value that keeps its exact type, so that a file
// read and written again is byte-identical and llama.cpp's strict type checks (UINT32 counts, FLOAT32
// hyper-parameters) can be honoured by the exporter.
//
// Arrays of arrays are not supported: gguf-py can write them, but ggml's reader rejects them and no model key
// uses them, so scitune rejects them on read and cannot express them on write.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace scitune {

// Codes as stored in the file.
enum class GgufValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
inline constexpr uint32_t kGgufValueTypeCount = 13;

// "UINT32", "ARRAY", ... (gguf-py's spelling); "type 42" for codes outside the format.
std::string gguf_type_name(GgufValueType type);
std::string gguf_type_name(uint32_t code);

// Element storage of an array. The alternative index equals the element's GgufValueType code; slot 9 (ARRAY)
// is an empty placeholder that never holds data because nested arrays are rejected.
struct GgufNoNestedArrays {
  bool operator==(const GgufNoNestedArrays&) const = default;
};
using GgufArrayItems = std::variant<std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>,
                                    std::vector<int16_t>, std::vector<uint32_t>, std::vector<int32_t>,
                                    std::vector<float>, std::vector<bool>, std::vector<std::string>, GgufNoNestedArrays,
                                    std::vector<uint64_t>, std::vector<int64_t>, std::vector<double>>;

struct GgufArray {
  GgufArrayItems items;
  GgufValueType elem_type() const { return static_cast<GgufValueType>(items.index()); }
  size_t size() const;
  bool operator==(const GgufArray&) const = default;
};

// Scalar storage; again the alternative index equals the GgufValueType code.
using GgufScalarOrArray = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
                                       GgufArray, uint64_t, int64_t, double>;

// True for the C++ types that are GGUF scalar element types (and so may be array elements).
template <class T>
inline constexpr bool kIsGgufElement =
    std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t> || std::is_same_v<T, uint16_t> ||
    std::is_same_v<T, int16_t> || std::is_same_v<T, uint32_t> || std::is_same_v<T, int32_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
    std::is_same_v<T, uint64_t> || std::is_same_v<T, int64_t> || std::is_same_v<T, double>;

// The GGUF type code of a C++ element type (compile time).
template <class T>
constexpr GgufValueType gguf_type_of() {
  static_assert(kIsGgufElement<T>, "not a GGUF element type");
  if constexpr (std::is_same_v<T, uint8_t>)
    return GgufValueType::UINT8;
  else if constexpr (std::is_same_v<T, int8_t>)
    return GgufValueType::INT8;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return GgufValueType::UINT16;
  else if constexpr (std::is_same_v<T, int16_t>)
    return GgufValueType::INT16;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return GgufValueType::UINT32;
  else if constexpr (std::is_same_v<T, int32_t>)
    return GgufValueType::INT32;
  else if constexpr (std::is_same_v<T, float>)
    return GgufValueType::FLOAT32;
  else if constexpr (std::is_same_v<T, bool>)
    return GgufValueType::BOOL;
  else if constexpr (std::is_same_v<T, std::string>)
    return GgufValueType::STRING;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return GgufValueType::UINT64;
  else if constexpr (std::is_same_v<T, int64_t>)
    return GgufValueType::INT64;
  else
    return GgufValueType::FLOAT64;
}

struct GgufValue {
  GgufScalarOrArray v;

  GgufValueType type() const { return static_cast<GgufValueType>(v.index()); }
  bool operator==(const GgufValue&) const = default;

  // The stored value if it has exactly type T (no conversions), else nullptr. T = GgufArray for arrays.
  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&v);
  }
  // The elements if this is an array of exactly T, else nullptr.
  template <class T>
  const std::vector<T>* array_if() const {
    const auto* a = std::get_if<GgufArray>(&v);
    return a ? std::get_if<std::vector<T>>(&a->items) : nullptr;
  }

  // Factories that make the exact GGUF type (no implicit int/float promotion picks the wrong one).
  template <class T>
  static GgufValue of(T x) {
    static_assert(kIsGgufElement<T> || std::is_same_v<T, GgufArray>, "not a GGUF value type");
    return {GgufScalarOrArray(std::in_place_type<T>, std::move(x))};
  }
  static GgufValue u8(uint8_t x) { return of(x); }
  static GgufValue i8(int8_t x) { return of(x); }
  static GgufValue u16(uint16_t x) { return of(x); }
  static GgufValue i16(int16_t x) { return of(x); }
  static GgufValue u32(uint32_t x) { return of(x); }
  static GgufValue i32(int32_t x) { return of(x); }
  static GgufValue f32(float x) { return of(x); }
  static GgufValue boolean(bool x) { return of(x); }
  static GgufValue str(std::string x) { return of(std::move(x)); }
  static GgufValue u64(uint64_t x) { return of(x); }
  static GgufValue i64(int64_t x) { return of(x); }
  static GgufValue f64(double x) { return of(x); }
  template <class T>
  static GgufValue array(std::vector<T> items) {
    static_assert(kIsGgufElement<T>, "not a GGUF array element type");
    return of(GgufArray{GgufArrayItems(std::in_place_type<std::vector<T>>, std::move(items))});
  }
};

// Human-readable value for `scitune inspect`: numbers exactly (floats with round-trip precision), strings
// quoted and escaped, arrays show at most max_elems items then "... (N items)".
std::string to_string(const GgufValue& value, size_t max_elems = 8);

// Appends the value's GGUF encoding, without its leading type code: scalars little-endian, bool as one byte,
// strings as uint64 length + bytes, arrays as uint32 element type + uint64 count + elements.
void gguf_encode_value(const GgufValue& value, std::vector<uint8_t>& out);
void gguf_encode_string(std::string_view s, std::vector<uint8_t>& out);

}  // namespace scitune
