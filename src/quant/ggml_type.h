// ggml tensor types: codes as stored in GGUF, and each type's block geometry (values per block, bytes per block).
// Header-only so that file readers can validate sizes without linking the quant kernels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace scitune {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;   // as ggml prints it ("q4_K", "bf16", ...)
  uint32_t block_size;     // values per block
  uint32_t type_size;      // bytes per block
  bool quantized;
};

inline constexpr GgmlTypeInfo kGgmlTypes[] = {
    {GgmlType::F32, "f32", 1, 4, false},     {GgmlType::F16, "f16", 1, 2, false},
    {GgmlType::Q4_0, "q4_0", 32, 18, true},  {GgmlType::Q4_1, "q4_1", 32, 20, true},
    {GgmlType::Q5_0, "q5_0", 32, 22, true},  {GgmlType::Q5_1, "q5_1", 32, 24, true},
    {GgmlType::Q8_0, "q8_0", 32, 34, true},  {GgmlType::Q8_1, "q8_1", 32, 36, true},
    {GgmlType::Q2_K, "q2_K", 256, 84, true}, {GgmlType::Q3_K, "q3_K", 256, 110, true},
    {GgmlType::Q4_K, "q4_K", 256, 144, true}, {GgmlType::Q5_K, "q5_K", 256, 176, true},
    {GgmlType::Q6_K, "q6_K", 256, 210, true}, {GgmlType::Q8_K, "q8_K", 256, 292, true},
    {GgmlType::I8, "i8", 1, 1, false},       {GgmlType::I16, "i16", 1, 2, false},
    {GgmlType::I32, "i32", 1, 4, false},     {GgmlType::I64, "i64", 1, 8, false},
    {GgmlType::F64, "f64", 1, 8, false},     {GgmlType::BF16, "bf16", 1, 2, false},
};

// Info for a raw type code, or nullopt for codes scitune does not know (readers reject those).
constexpr std::optional<GgmlTypeInfo> ggml_type_info(uint32_t code) {
  for (const auto& t : kGgmlTypes)
    if (static_cast<uint32_t>(t.type) == code) return t;
  return std::nullopt;
}

constexpr const GgmlTypeInfo& ggml_info(GgmlType type) {
  for (const auto& t : kGgmlTypes)
    if (t.type == type) return t;
  return kGgmlTypes[0];  // unreachable for valid enum values
}

// Bytes of a row of n values; n must be a multiple of the block size (callers validate).
constexpr size_t ggml_row_size(GgmlType type, uint64_t n) {
  const auto& t = ggml_info(type);
  return static_cast<size_t>(n / t.block_size) * t.type_size;
}

}  // namespace scitune
