#include "io/gguf_writer.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace scitune {

class GgufByteOut {
 public:
  virtual ~GgufByteOut() = default;
  virtual void write(std::span<const uint8_t> bytes) = 0;
  virtual void write_zeros(size_t n) = 0;
};

namespace {

class FileOut final : public GgufByteOut {
 public:
  explicit FileOut(AtomicFile& f) : f_(f) {}
  void write(std::span<const uint8_t> bytes) override { f_.write(bytes); }
  void write_zeros(size_t n) override { f_.write_zeros(n); }

 private:
  AtomicFile& f_;
};

class MemoryOut final : public GgufByteOut {
 public:
  void write(std::span<const uint8_t> bytes) override { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  void write_zeros(size_t n) override { bytes_.resize(bytes_.size() + n, 0); }
  std::vector<uint8_t> bytes_;
};

template <class T>
void put(T x, std::vector<uint8_t>& out) {
  const auto* p = reinterpret_cast<const uint8_t*>(&x);
  out.insert(out.end(), p, p + sizeof(T));
}

uint64_t padding(uint64_t n, uint64_t align) { return (align - n % align) % align; }

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

void GgufTensorSink::write(std::span<const uint8_t> bytes) {
  if (bytes.size() > remaining_)
    throw InternalError("gguf writer: tensor " + quote(name_) + ": producer wrote " +
                        std::to_string(bytes.size() - remaining_) + " bytes more than its size");
  out_.write(bytes);
  remaining_ -= bytes.size();
}

GgufWriter GgufWriter::copy_of(const GgufFile& file) {
  GgufWriter w;
  for (const auto& [key, value] : file.metadata()) w.add(key, value);
  for (const auto& t : file.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data);
  return w;
}

void GgufWriter::check_key(const std::string& key, const GgufValue& value) const {
  if (key.empty()) fail("gguf writer: metadata key is empty");
  if (const auto* a = value.get_if<GgufArray>(); a && a->elem_type() == GgufValueType::ARRAY)
    fail("gguf writer: key " + quote(key) + ": arrays of arrays are not supported");
  if (key == kGgufAlignmentKey) {
    const uint32_t* x = value.get_if<uint32_t>();
    if (!x) fail("gguf writer: key " + quote(key) + " is " + gguf_type_name(value.type()) + ", expected UINT32");
    if (*x == 0 || (*x & (*x - 1)) != 0)
      fail("gguf writer: key " + quote(key) + ": alignment " + std::to_string(*x) + " is not a power of two");
    if (*x > kGgufMaxAlignment)
      fail("gguf writer: key " + quote(key) + ": alignment " + std::to_string(*x) + " is larger than " +
           std::to_string(kGgufMaxAlignment));
  }
}

void GgufWriter::add(std::string key, GgufValue value) {
  check_key(key, value);
  if (find(key)) fail("gguf writer: duplicate key " + quote(key));
  metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::set(std::string key, GgufValue value) {
  check_key(key, value);
  for (auto& [k, v] : metadata_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  metadata_.emplace_back(std::move(key), std::move(value));
}

bool GgufWriter::remove(std::string_view key) {
  auto it = std::find_if(metadata_.begin(), metadata_.end(), [&](const auto& kv) { return kv.first == key; });
  if (it == metadata_.end()) return false;
  metadata_.erase(it);
  return true;
}

const GgufValue* GgufWriter::find(std::string_view key) const {
  for (const auto& [k, v] : metadata_)
    if (k == key) return &v;
  return nullptr;
}

size_t GgufWriter::alignment() const {
  const GgufValue* v = find(kGgufAlignmentKey);
  return v ? *v->get_if<uint32_t>() : kGgufDefaultAlignment;  // type checked by check_key
}

GgufTensorInfo GgufWriter::make_info(std::string name, GgmlType type, std::vector<uint64_t> ne) const {
  if (name.empty()) fail("gguf writer: tensor name is empty");
  if (name.size() > kGgufMaxNameLength)
    fail("gguf writer: tensor " + quote(name) + ": name is " + std::to_string(name.size()) + " bytes, longer than " +
         std::to_string(kGgufMaxNameLength) + " (ggml's GGML_MAX_NAME limit)");
  for (const auto& t : tensors_)
    if (t.info.name == name) fail("gguf writer: duplicate tensor name " + quote(name));
  std::string why;
  const auto nbytes = gguf_tensor_nbytes(type, ne, &why);
  if (!nbytes) fail("gguf writer: tensor " + quote(name) + ": " + why);
  GgufTensorInfo info;
  info.name = std::move(name);
  info.type = type;
  info.ne = std::move(ne);
  info.nbytes = *nbytes;
  return info;
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne, std::span<const uint8_t> data) {
  GgufTensorInfo info = make_info(std::move(name), type, std::move(ne));
  if (data.size() != info.nbytes) {
    std::string shape;
    for (size_t i = 0; i < info.ne.size(); ++i) shape += (i ? ", " : "") + std::to_string(info.ne[i]);
    fail("gguf writer: tensor " + quote(info.name) + ": " + std::to_string(data.size()) + " bytes given but [" + shape +
         "] x " + std::string(ggml_info(type).name) + " needs " + std::to_string(info.nbytes));
  }
  info.data = data;
  tensors_.push_back({std::move(info), nullptr});
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> ne, GgufTensorProducer produce) {
  SCITUNE_CHECK(produce != nullptr, "gguf writer: empty tensor producer");
  tensors_.push_back({make_info(std::move(name), type, std::move(ne)), std::move(produce)});
}

std::vector<GgufTensorInfo> GgufWriter::layout() const {
  const uint64_t align = alignment();
  std::vector<GgufTensorInfo> out;
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    GgufTensorInfo info = t.info;
    info.data = {};
    info.offset = offset;
    offset += info.nbytes + padding(info.nbytes, align);
    out.push_back(std::move(info));
  }
  return out;
}

void GgufWriter::emit(GgufByteOut& out, const std::string& target) const {
  const uint64_t align = alignment();
  const std::vector<GgufTensorInfo> infos = layout();
  std::vector<uint8_t> head;
  put(kGgufMagic, head);
  put(kGgufVersion, head);
  put(static_cast<uint64_t>(tensors_.size()), head);
  put(static_cast<uint64_t>(metadata_.size()), head);
  for (const auto& [key, value] : metadata_) {
    gguf_encode_string(key, head);
    put(static_cast<uint32_t>(value.type()), head);
    gguf_encode_value(value, head);
  }
  for (const auto& info : infos) {
    gguf_encode_string(info.name, head);
    put(static_cast<uint32_t>(info.ne.size()), head);
    for (uint64_t n : info.ne) put(n, head);
    put(static_cast<uint32_t>(info.type), head);
    put(info.offset, head);
  }
  head.resize(head.size() + padding(head.size(), align), 0);
  out.write(head);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    if (t.produce) {
      GgufTensorSink sink(out, t.info.name, t.info.nbytes);
      t.produce(sink);
      if (sink.remaining() != 0)
        throw InternalError(target + ": tensor " + quote(t.info.name) + ": producer wrote " +
                            std::to_string(t.info.nbytes - sink.remaining()) + " of " + std::to_string(t.info.nbytes) +
                            " bytes");
    } else {
      out.write(t.info.data);
    }
    out.write_zeros(padding(t.info.nbytes, align));
  }
}

void GgufWriter::write(const std::filesystem::path& path, Overwrite overwrite) const {
  AtomicFile file(path, overwrite);
  FileOut out(file);
  emit(out, path.string());
  file.commit();
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  MemoryOut out;
  emit(out, "gguf writer");
  return std::move(out.bytes_);
}

}  // namespace scitune
