// GGUF reader (versions 2 and 3): parses a byte span or an mmapped file, validating every count, length,
// offset and size before trusting it, and exposes metadata in file order plus zero-copy tensor data views.
//
// Accepted: what ggml's reader accepts, with these differences, all stricter except the last:
// - n_dims must be 1..4 and every ne >= 1 (ggml also allows 0); BOOL bytes must be 0 or 1;
// - keys and tensor names must be non-empty;
// - tensor data must be aligned, inside the file and non-overlapping, but need not be packed back to back in
//   info order (ggml requires that; GgufWriter always writes it so).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/gguf_value.h"
#include "quant/ggml_type.h"
#include "util/mapped_file.h"

namespace scitune {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kGgufVersion = 3;         // the version GgufWriter writes
inline constexpr uint32_t kGgufDefaultAlignment = 32;
// Largest general.alignment accepted. The format only asks for a power of two; writers use 32 (ggml) to 4096
// (page-aligned), so anything above 64 KiB is treated as hostile: it would make a re-write pad by gigabytes.
inline constexpr uint32_t kGgufMaxAlignment = 1u << 16;
inline constexpr size_t kGgufMaxDims = 4;         // GGML_MAX_DIMS
inline constexpr size_t kGgufMaxNameLength = 63;  // ggml rejects names of GGML_MAX_NAME (64) bytes or more
inline constexpr std::string_view kGgufAlignmentKey = "general.alignment";

struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> ne;  // ne[0] is the contiguous dimension (reverse of a PyTorch shape)
  uint64_t offset = 0;       // relative to the start of the data section
  uint64_t nbytes = 0;
  std::span<const uint8_t> data;  // view into the file; valid while the GgufFile (or parsed span) lives

  uint64_t n_elements() const;
};

// Checks a tensor shape against its type as ggml would (1..4 dims, each ne >= 1, element count fits int64,
// ne[0] a multiple of the block size) and returns its byte size; on failure nullopt, with the reason in *why.
std::optional<uint64_t> gguf_tensor_nbytes(GgmlType type, std::span<const uint64_t> ne, std::string* why);

class GgufFile {
 public:
  // Maps and parses a file; errors name the path.
  static GgufFile open(const std::filesystem::path& path);
  // Parses bytes that must outlive the result (tensor data are views into them); errors name source_name.
  static GgufFile parse(std::span<const uint8_t> bytes, std::string source_name);

  const std::string& source_name() const { return source_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // file offset of the tensor data section

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // Like find_tensor but a missing tensor is a UserError naming the file and tensor.
  const GgufTensorInfo& tensor(std::string_view name) const;

  // Strict typed getters, as llama.cpp reads hyper-parameters: the key must exist and have exactly the type.
  // Errors name the file, the key, and the type found vs expected.
  uint8_t get_u8(std::string_view key) const { return get<uint8_t>(key); }
  uint32_t get_u32(std::string_view key) const { return get<uint32_t>(key); }
  int32_t get_i32(std::string_view key) const { return get<int32_t>(key); }
  uint64_t get_u64(std::string_view key) const { return get<uint64_t>(key); }
  float get_f32(std::string_view key) const { return get<float>(key); }
  bool get_bool(std::string_view key) const { return get<bool>(key); }
  const std::string& get_string(std::string_view key) const { return get<std::string>(key); }
  template <class T>
  const T& get(std::string_view key) const;
  // The key's value if present (with exactly type T, else UserError), nullopt if absent.
  template <class T>
  std::optional<T> get_optional(std::string_view key) const;
  template <class T>
  const std::vector<T>& get_array(std::string_view key) const;

  // Lenient getters for files from other writers: any integer type (in range), or any integer/float type.
  uint64_t get_uint_lenient(std::string_view key) const;
  double get_float_lenient(std::string_view key) const;

  // See MappedFile::drop_resident_pages (nothing happens for a file parsed from a caller's span).
  void drop_resident_pages(std::span<const uint8_t> bytes) const { file_.drop_resident_pages(bytes); }

 private:
  GgufFile() = default;
  const GgufValue& require(std::string_view key, const std::string& expected) const;
  [[noreturn]] void type_error(std::string_view key, const GgufValue& v, const std::string& expected) const;
  friend class GgufParser;

  MappedFile file_;  // empty when parsed from a caller's span
  std::string source_;
  uint32_t version_ = 0;
  size_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> key_index_, tensor_index_;
};

template <class T>
const T& GgufFile::get(std::string_view key) const {
  static_assert(kIsGgufElement<T>, "get<T>: T must be a GGUF scalar type");
  const GgufValue& v = require(key, gguf_type_name(gguf_type_of<T>()));
  if (const T* p = v.get_if<T>()) return *p;
  type_error(key, v, gguf_type_name(gguf_type_of<T>()));
}

template <class T>
std::optional<T> GgufFile::get_optional(std::string_view key) const {
  if (!find(key)) return std::nullopt;
  return get<T>(key);
}

template <class T>
const std::vector<T>& GgufFile::get_array(std::string_view key) const {
  static_assert(kIsGgufElement<T>, "get_array<T>: T must be a GGUF scalar type");
  const std::string expected = "ARRAY of " + gguf_type_name(gguf_type_of<T>());
  const GgufValue& v = require(key, expected);
  if (const auto* p = v.array_if<T>()) return *p;
  type_error(key, v, expected);
}

}  // namespace scitune
