// GGUF v3 writer. Metadata keys are written in insertion order with their exact types; tensor infos follow in
// insertion order, then the data section (start aligned) with each tensor at the running sum of the sizes
// before it, each padded with zeros to the alignment (general.alignment, else 32) — the layout ggml and
// gguf-py produce, so a canonical file read and written again is byte-identical.
//
// Tensor data may be given as a span (kept by reference until write) or produced on demand, in chunks, by a
// callback called once per write in tensor order; so exporting a large model needs no second copy of it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/gguf_reader.h"
#include "io/gguf_value.h"
#include "quant/ggml_type.h"
#include "util/atomic_file.h"

namespace scitune {

class GgufByteOut;  // where the bytes go (a file or memory); internal to gguf_writer.cc

// Handed to a tensor's producer: append exactly the tensor's byte size, in order, in chunks of any size.
class GgufTensorSink {
 public:
  void write(std::span<const uint8_t> bytes);
  uint64_t remaining() const { return remaining_; }

 private:
  friend class GgufWriter;
  GgufTensorSink(GgufByteOut& out, const std::string& name, uint64_t nbytes)
      : out_(out), name_(name), remaining_(nbytes) {}
  GgufByteOut& out_;
  const std::string& name_;
  uint64_t remaining_;
};

using GgufTensorProducer = std::function<void(GgufTensorSink&)>;

class GgufWriter {
 public:
  GgufWriter() = default;
  // Metadata and tensors of a parsed file, the tensor data as views into it (keep `file` alive until written).
  static GgufWriter copy_of(const GgufFile& file);

  // Appends a key; a duplicate key, an empty key, or a general.alignment that is not a UINT32 power of two
  // is a UserError. Use the GgufValue factories (GgufValue::u32, ::f32, ::array<std::string>, ...) so that
  // each value has the type llama.cpp expects.
  void add(std::string key, GgufValue value);
  // Replaces an existing key's value in place (keeping its position), or appends it.
  void set(std::string key, GgufValue value);
  // Removes a key if present; returns whether it was.
  bool remove(std::string_view key);
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;

  // Adds a tensor with `ne` in GGUF order (ne[0] contiguous). The name must be 1..63 bytes and unique, the
  // shape valid for the type, and data.size() exactly the type's byte size for that shape.
  void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne, std::span<const uint8_t> data);
  // Same, with the bytes produced at write time; writing fails if the producer gives more or fewer bytes.
  void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne, GgufTensorProducer produce);
  size_t tensor_count() const { return tensors_.size(); }

  size_t alignment() const;
  // The tensor infos as they will be written: offsets relative to the data section, sizes, no data views.
  std::vector<GgufTensorInfo> layout() const;

  // Writes the file atomically (temporary file + rename); an existing file is replaced only with kYes.
  void write(const std::filesystem::path& path, Overwrite overwrite = Overwrite::kNo) const;
  // The whole file in memory: for small files, tests and fuzzing.
  std::vector<uint8_t> to_bytes() const;

 private:
  struct Tensor {
    GgufTensorInfo info;
    GgufTensorProducer produce;  // empty when info.data holds the bytes
  };
  void check_key(const std::string& key, const GgufValue& value) const;
  GgufTensorInfo make_info(std::string name, GgmlType type, std::vector<uint64_t> ne) const;
  void emit(GgufByteOut& out, const std::string& target) const;

  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

}  // namespace scitune
