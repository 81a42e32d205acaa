// safetensors: read (memory-mapped, zero copy: tensor data are spans into the map) and write (atomic).
// Layout: u64 LE header length N, N bytes of JSON header, then the data section. The header maps each tensor
// name to {dtype, shape, data_offsets [begin, end)} (offsets relative to the data section) plus an optional
// "__metadata__" string->string map. Validation follows the reference (huggingface/safetensors, Rust):
// header <= 100 MB and starts with '{'; offsets, shapes and dtypes agree; tensors sorted by offset tile the
// data section exactly (no overlap, no hole, no trailing bytes). We also reject duplicate names (duplicate JSON
// keys), which the reference's JSON layer would silently collapse.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/atomic_file.h"
#include "util/mapped_file.h"

namespace scitune {

// Element types, spelled as in the file. F8 and complex types are not supported (rejected on read).
enum class DType : uint8_t { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);                      // "F32", "BF16", ...
std::optional<DType> dtype_from_name(std::string_view s);  // exact, case-sensitive, as in the file

inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;  // as the reference library

// Product of dims with overflow check; nullopt when it does not fit in uint64.
std::optional<uint64_t> checked_numel(std::span<const int64_t> shape);
// "[2, 3]"
std::string shape_to_string(std::span<const int64_t> shape);

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;   // empty = 0-dim scalar
  uint64_t begin = 0, end = 0;  // byte offsets in the data section
  uint64_t numel() const;
  uint64_t nbytes() const { return end - begin; }
};

// A tensor's bytes inside a mapped file (or any buffer that outlives the view).
struct TensorView {
  const TensorInfo* info = nullptr;
  std::span<const uint8_t> data;
  std::string_view source;  // file name, for messages

  const std::string& name() const { return info->name; }
  DType dtype() const { return info->dtype; }
  std::span<const int64_t> shape() const { return info->shape; }
  uint64_t numel() const { return info->numel(); }
  // Typed access without copying; throws UserError if T does not match the dtype's size or the data is not
  // aligned for T (files written by other tools may not align tensors).
  template <class T>
  std::span<const T> as() const {
    check_typed_access(sizeof(T), alignof(T));
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }
  // Converts F32 / F16 / BF16 / F64 values to fp32 into `out` (size must be numel()); throws for other dtypes.
  void to_f32(std::span<float> out) const;
  std::vector<float> to_f32() const;

 private:
  void check_typed_access(size_t size, size_t align) const;
};

// A validated header over a byte buffer; owns no bytes. Fuzz targets and tests use it on memory buffers.
class SafetensorsHeader {
 public:
  // Parses and validates the whole file image `bytes`; `source` names it in errors.
  static SafetensorsHeader parse(std::span<const uint8_t> bytes, const std::string& source);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // sorted by offset
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorInfo* find(std::string_view name) const;
  uint64_t header_size() const { return header_size_; }  // N
  uint64_t data_offset() const { return 8 + header_size_; }

 private:
  std::vector<TensorInfo> tensors_;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> index_;
  std::map<std::string, std::string> metadata_;
  uint64_t header_size_ = 0;
};

// A safetensors file mapped into memory. Views stay valid while the object lives (the object is movable;
// views point into the map, not into the object).
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);
  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;

  const std::filesystem::path& path() const { return map_.path(); }
  const SafetensorsHeader& header() const { return header_; }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors(); }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata(); }
  bool contains(std::string_view name) const { return header_.find(name) != nullptr; }
  std::optional<TensorView> find(std::string_view name) const;
  TensorView tensor(std::string_view name) const;  // throws UserError naming the file if absent
  TensorView view(const TensorInfo& info) const;   // info must come from this file
  // See MappedFile::drop_resident_pages (bytes of another file are left alone).
  void drop_resident_pages(std::span<const uint8_t> bytes) const { map_.drop_resident_pages(bytes); }

 private:
  MappedFile map_;
  std::string source_;
  SafetensorsHeader header_;
};

// --- writing ---

struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t nbytes() const;  // numel * dtype size; throws UserError on overflow
};

// Receives one tensor's bytes, possibly in pieces; the writer checks the total.
class TensorSink {
 public:
  virtual ~TensorSink() = default;
  virtual void write(std::span<const uint8_t> bytes) = 0;
};

using TensorFiller = std::function<void(const TensorSpec& spec, TensorSink& sink)>;

// Streams a safetensors file: the header is built from `specs`, then `fill` is called once per tensor in
// file order (larger dtypes first, then by name, like the reference, so every tensor is aligned to its
// element size) and must write exactly spec.nbytes(). Header padded with spaces to a multiple of 8.
// Refuses to replace an existing file unless overwrite is kYes. Names must be unique, non-empty, valid UTF-8
// and not "__metadata__".
void write_safetensors_streaming(const std::filesystem::path& path, std::vector<TensorSpec> specs,
                                 const std::map<std::string, std::string>& metadata, const TensorFiller& fill,
                                 Overwrite overwrite = Overwrite::kNo);

// In-memory convenience: each tensor's bytes given directly.
struct TensorData {
  TensorSpec spec;
  std::span<const uint8_t> bytes;
};
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {}, Overwrite overwrite = Overwrite::kNo);

// Sorts `specs` into file order and returns the header bytes the writer produces for them (JSON padded with
// spaces to a multiple of 8, without the 8-byte length). Validates names and sizes (UserError).
std::string safetensors_header_json(std::vector<TensorSpec>& specs, const std::map<std::string, std::string>& metadata,
                                    const std::string& source = "safetensors");

}  // namespace scitune
