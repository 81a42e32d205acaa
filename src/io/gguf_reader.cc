#include "io/gguf_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "util/error.h"

namespace scitune {

namespace {

constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Smallest possible encodings, used to reject absurd counts before allocating anything.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // key length, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, one ne, type, offset
constexpr uint64_t kMaxReserve = 1 << 16;

uint64_t min_encoded_size(uint32_t type) {
  switch (static_cast<GgufValueType>(type)) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::BOOL:
      return 1;
    case GgufValueType::UINT16:
    case GgufValueType::INT16:
      return 2;
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::FLOAT32:
      return 4;
    case GgufValueType::UINT64:
    case GgufValueType::INT64:
    case GgufValueType::FLOAT64:
      return 8;
    case GgufValueType::STRING:
      return 8;
    case GgufValueType::ARRAY:
      return 12;
  }
  return 0;
}

// A key or name for an error message: control bytes masked, absurdly long ones cut.
std::string quote(std::string_view s) {
  constexpr size_t kMax = 100;
  std::string out = "\"";
  for (unsigned char c : s.substr(0, kMax)) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out + (s.size() > kMax ? "...\"" : "\"");
}

std::string shape_text(const std::vector<uint64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

std::optional<uint64_t> gguf_tensor_nbytes(GgmlType type, std::span<const uint64_t> ne, std::string* why) {
  const auto& info = ggml_info(type);
  const std::vector<uint64_t> shape(ne.begin(), ne.end());
  if (ne.empty() || ne.size() > kGgufMaxDims) {
    *why = "has " + std::to_string(ne.size()) + " dimensions, expected 1..4";
    return std::nullopt;
  }
  uint64_t n_elements = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] == 0 || ne[d] > kInt64Max) {
      *why = "ne[" + std::to_string(d) + "] is " + std::to_string(ne[d]) + " in shape " + shape_text(shape) +
             ", expected 1..2^63-1";
      return std::nullopt;
    }
    if (__builtin_mul_overflow(n_elements, ne[d], &n_elements) || n_elements > kInt64Max) {
      *why = "element count of shape " + shape_text(shape) + " overflows int64";
      return std::nullopt;
    }
  }
  if (ne[0] % info.block_size != 0) {
    *why = "ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " + std::string(info.name) + " block size " +
           std::to_string(info.block_size);
    return std::nullopt;
  }
  // Exact: the element count is a multiple of the block size because ne[0] is.
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(n_elements / info.block_size, uint64_t{info.type_size}, &nbytes)) {
    *why = "byte size of " + std::string(info.name) + " shape " + shape_text(shape) + " overflows";
    return std::nullopt;
  }
  return nbytes;
}

uint64_t GgufTensorInfo::n_elements() const {
  return std::accumulate(ne.begin(), ne.end(), uint64_t{1}, std::multiplies<>());
}

// Reads one GGUF image front to back. `where_` names the part being read so that every error says which key
// or tensor was wrong.
class GgufParser {
 public:
  GgufParser(std::span<const uint8_t> bytes, GgufFile& out) : b_(bytes), f_(out) {}

  void run() {
    where_ = "header";
    read_header();
    for (uint64_t i = 0; i < n_kv_; ++i) read_kv(i);
    read_alignment();
    for (uint64_t i = 0; i < n_tensors_; ++i) read_tensor_info(i);
    where_ = "data section";
    f_.data_offset_ = align_up(pos_, f_.alignment_);
    locate_tensor_data();
  }

 private:
  [[noreturn]] void error(const std::string& msg) const { fail(f_.source_ + ": " + where_ + ": " + msg); }

  uint64_t remaining() const { return b_.size() - pos_; }

  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      error("file truncated: " + std::string(what) + " needs " + std::to_string(n) + " bytes at offset " +
            std::to_string(pos_) + " but only " + std::to_string(remaining()) + " remain");
  }

  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T x;
    std::memcpy(&x, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return x;
  }

  std::string read_string(const char* what) {
    const uint64_t len = read<uint64_t>(what);
    need(len, what);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), len);
    pos_ += len;
    return s;
  }

  bool read_bool(const char* what) {
    const uint8_t b = read<uint8_t>(what);
    if (b > 1) error(std::string(what) + ": BOOL byte is " + std::to_string(b) + ", expected 0 or 1");
    return b == 1;
  }

  uint64_t align_up(uint64_t x, uint64_t a) const {
    if (x > std::numeric_limits<uint64_t>::max() - (a - 1)) error("offset overflow");
    return (x + a - 1) / a * a;
  }

  void read_header() {
    need(4, "magic");
    if (std::memcmp(b_.data(), "GGUF", 4) != 0) {
      std::string seen;
      for (int i = 0; i < 4; ++i) seen += (b_[i] >= 0x20 && b_[i] < 0x7f) ? static_cast<char>(b_[i]) : '?';
      error("not a GGUF file: magic is '" + seen + "', expected 'GGUF'");
    }
    pos_ = 4;
    const uint32_t v = read<uint32_t>("version");
    if (v != 0 && (v & 0xFFFFu) == 0)
      error("version field is " + std::to_string(v) + ": a byte-swapped (big-endian) GGUF, which is not supported");
    if (v == 1) error("GGUF version 1 is no longer supported, expected version 2 or 3 (re-convert the model)");
    if (v != 2 && v != 3) error("unsupported GGUF version " + std::to_string(v) + ", expected 2 or 3");
    f_.version_ = v;
    n_tensors_ = read<uint64_t>("tensor count");
    n_kv_ = read<uint64_t>("metadata key count");
    if (n_kv_ > remaining() / kMinKvBytes)
      error("claims " + std::to_string(n_kv_) + " metadata keys but only " + std::to_string(remaining()) +
            " bytes follow (each key needs at least " + std::to_string(kMinKvBytes) + ")");
    if (n_tensors_ > (remaining() - n_kv_ * kMinKvBytes) / kMinTensorInfoBytes)
      error("claims " + std::to_string(n_tensors_) + " tensors but only " + std::to_string(remaining()) +
            " bytes follow (each tensor info needs at least " + std::to_string(kMinTensorInfoBytes) + ")");
    // The counts are bounded by the file size, but an entry in memory is larger than its minimal encoding:
    // grow as entries are actually read rather than trusting the header with a big reservation.
    f_.metadata_.reserve(std::min<uint64_t>(n_kv_, kMaxReserve));
    f_.tensors_.reserve(std::min<uint64_t>(n_tensors_, kMaxReserve));
  }

  void read_kv(uint64_t i) {
    where_ = "metadata key #" + std::to_string(i);
    std::string key = read_string("key");
    if (key.empty()) error("key is empty");
    where_ = "key " + quote(key);
    if (f_.key_index_.count(key)) error("duplicate key");
    const uint32_t type = read<uint32_t>("value type");
    GgufValue value = read_value(type);
    f_.key_index_.emplace(key, f_.metadata_.size());
    f_.metadata_.emplace_back(std::move(key), std::move(value));
  }

  GgufValue read_value(uint32_t type) {
    switch (static_cast<GgufValueType>(type)) {
      case GgufValueType::UINT8:
        return GgufValue::u8(read<uint8_t>("UINT8 value"));
      case GgufValueType::INT8:
        return GgufValue::i8(read<int8_t>("INT8 value"));
      case GgufValueType::UINT16:
        return GgufValue::u16(read<uint16_t>("UINT16 value"));
      case GgufValueType::INT16:
        return GgufValue::i16(read<int16_t>("INT16 value"));
      case GgufValueType::UINT32:
        return GgufValue::u32(read<uint32_t>("UINT32 value"));
      case GgufValueType::INT32:
        return GgufValue::i32(read<int32_t>("INT32 value"));
      case GgufValueType::FLOAT32:
        return GgufValue::f32(read<float>("FLOAT32 value"));
      case GgufValueType::BOOL:
        return GgufValue::boolean(read_bool("BOOL value"));
      case GgufValueType::STRING:
        return GgufValue::str(read_string("STRING value"));
      case GgufValueType::UINT64:
        return GgufValue::u64(read<uint64_t>("UINT64 value"));
      case GgufValueType::INT64:
        return GgufValue::i64(read<int64_t>("INT64 value"));
      case GgufValueType::FLOAT64:
        return GgufValue::f64(read<double>("FLOAT64 value"));
      case GgufValueType::ARRAY:
        return read_array();
    }
    error("unknown value type " + std::to_string(type) + ", expected 0..12");
  }

  GgufValue read_array() {
    const uint32_t elem = read<uint32_t>("array element type");
    if (elem == static_cast<uint32_t>(GgufValueType::ARRAY))
      error("arrays of arrays are not supported (llama.cpp's reader rejects them too)");
    if (elem >= kGgufValueTypeCount)
      error("array has unknown element type " + std::to_string(elem) + ", expected 0..12 except 9");
    const uint64_t n = read<uint64_t>("array length");
    const uint64_t min_size = min_encoded_size(elem);
    if (n > remaining() / min_size)
      error("array of " + std::to_string(n) + " " + gguf_type_name(elem) + " needs at least " +
            (n > kInt64Max / min_size ? std::string("2^63") : std::to_string(n * min_size)) + " bytes but only " +
            std::to_string(remaining()) + " remain");
    switch (static_cast<GgufValueType>(elem)) {
      case GgufValueType::UINT8:
        return numeric_array<uint8_t>(n);
      case GgufValueType::INT8:
        return numeric_array<int8_t>(n);
      case GgufValueType::UINT16:
        return numeric_array<uint16_t>(n);
      case GgufValueType::INT16:
        return numeric_array<int16_t>(n);
      case GgufValueType::UINT32:
        return numeric_array<uint32_t>(n);
      case GgufValueType::INT32:
        return numeric_array<int32_t>(n);
      case GgufValueType::FLOAT32:
        return numeric_array<float>(n);
      case GgufValueType::UINT64:
        return numeric_array<uint64_t>(n);
      case GgufValueType::INT64:
        return numeric_array<int64_t>(n);
      case GgufValueType::FLOAT64:
        return numeric_array<double>(n);
      case GgufValueType::BOOL: {
        std::vector<bool> items(n);  // n bits for the n bytes already known to be present
        for (uint64_t i = 0; i < n; ++i) items[i] = read_bool("BOOL array element");
        return GgufValue::array(std::move(items));
      }
      case GgufValueType::STRING: {  // a std::string is 4x its minimal encoding: grow as strings are read
        std::vector<std::string> items;
        items.reserve(std::min<uint64_t>(n, kMaxReserve));
        for (uint64_t i = 0; i < n; ++i) items.push_back(read_string("STRING array element"));
        return GgufValue::array(std::move(items));
      }
      case GgufValueType::ARRAY:
        break;
    }
    SCITUNE_CHECK(false, "unreachable array element type");
  }

  template <class T>
  GgufValue numeric_array(uint64_t n) {
    need(n * sizeof(T), "array elements");  // n * size cannot overflow: n <= remaining / size was checked
    std::vector<T> items(n);
    if (n) std::memcpy(items.data(), b_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return GgufValue::array(std::move(items));
  }

  void read_alignment() {
    const GgufValue* v = f_.find(kGgufAlignmentKey);
    if (!v) return;
    where_ = "key " + quote(kGgufAlignmentKey);
    const uint32_t* a = v->get_if<uint32_t>();
    if (!a) error("is " + gguf_type_name(v->type()) + ", expected UINT32");
    if (*a == 0 || (*a & (*a - 1)) != 0) error("alignment " + std::to_string(*a) + " is not a power of two");
    if (*a > kGgufMaxAlignment)
      error("alignment " + std::to_string(*a) + " is larger than the " + std::to_string(kGgufMaxAlignment) +
            " bytes scitune accepts");
    f_.alignment_ = *a;
  }

  void read_tensor_info(uint64_t i) {
    where_ = "tensor #" + std::to_string(i);
    GgufTensorInfo t;
    t.name = read_string("tensor name");
    if (t.name.empty()) error("tensor name is empty");
    where_ = "tensor " + quote(t.name);
    if (t.name.size() > kGgufMaxNameLength)
      error("name is " + std::to_string(t.name.size()) + " bytes, longer than " + std::to_string(kGgufMaxNameLength) +
            " (ggml's GGML_MAX_NAME limit)");
    if (f_.tensor_index_.count(t.name)) error("duplicate tensor name");
    const uint32_t n_dims = read<uint32_t>("n_dims");
    if (n_dims < 1 || n_dims > kGgufMaxDims) error("n_dims is " + std::to_string(n_dims) + ", expected 1..4");
    for (uint32_t d = 0; d < n_dims; ++d) t.ne.push_back(read<uint64_t>("ne"));
    const uint32_t code = read<uint32_t>("ggml type");
    const auto info = ggml_type_info(code);
    if (!info) error("unknown ggml type code " + std::to_string(code) + " (shape " + shape_text(t.ne) + ")");
    t.type = info->type;
    std::string why;
    const auto nbytes = gguf_tensor_nbytes(t.type, t.ne, &why);
    if (!nbytes) error(why);
    t.nbytes = *nbytes;
    t.offset = read<uint64_t>("tensor data offset");
    if (t.offset % f_.alignment_ != 0)
      error("data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
            std::to_string(f_.alignment_));
    f_.tensor_index_.emplace(t.name, f_.tensors_.size());
    f_.tensors_.push_back(std::move(t));
  }

  void locate_tensor_data() {
    const uint64_t size = b_.size();
    for (auto& t : f_.tensors_) {
      where_ = "tensor " + quote(t.name);
      uint64_t start = 0, end = 0;
      if (__builtin_add_overflow(f_.data_offset_, t.offset, &start) || __builtin_add_overflow(start, t.nbytes, &end) ||
          end > size)
        error("data of " + std::to_string(t.nbytes) + " bytes (" + std::string(ggml_info(t.type).name) + " " +
              shape_text(t.ne) + ") at offset " + std::to_string(t.offset) + " from the data section start " +
              std::to_string(f_.data_offset_) + " extends past the end of the file (" + std::to_string(size) +
              " bytes)");
      t.data = b_.subspan(start, t.nbytes);
    }
    std::vector<const GgufTensorInfo*> by_offset;
    for (const auto& t : f_.tensors_) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const auto *prev = by_offset[i - 1], *cur = by_offset[i];
      if (prev->offset + prev->nbytes > cur->offset) {
        where_ = "tensor " + quote(cur->name);
        error("data [" + std::to_string(cur->offset) + ", " + std::to_string(cur->offset + cur->nbytes) +
              ") overlaps tensor " + quote(prev->name) + " data [" + std::to_string(prev->offset) + ", " +
              std::to_string(prev->offset + prev->nbytes) + ")");
      }
    }
  }

  std::span<const uint8_t> b_;
  GgufFile& f_;
  uint64_t pos_ = 0;
  uint64_t n_kv_ = 0, n_tensors_ = 0;
  std::string where_;
};

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string source_name) {
  GgufFile f;
  f.source_ = std::move(source_name);
  GgufParser(bytes, f).run();
  return f;
}

GgufFile GgufFile::open(const std::filesystem::path& path) {
  MappedFile file(path);
  GgufFile f = parse(file.bytes(), path.string());
  f.file_ = std::move(file);  // moving a mapping keeps its address, so the tensor views stay valid
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor(std::string_view name) const {
  if (const auto* t = find_tensor(name)) return *t;
  fail(source_ + ": missing tensor " + quote(name));
}

const GgufValue& GgufFile::require(std::string_view key, const std::string& expected) const {
  if (const GgufValue* v = find(key)) return *v;
  fail(source_ + ": missing key " + quote(key) + " (expected " + expected + ")");
}

void GgufFile::type_error(std::string_view key, const GgufValue& v, const std::string& expected) const {
  std::string found = gguf_type_name(v.type());
  if (const auto* a = v.get_if<GgufArray>()) found += " of " + gguf_type_name(a->elem_type());
  fail(source_ + ": key " + quote(key) + " is " + found + ", expected " + expected);
}

uint64_t GgufFile::get_uint_lenient(std::string_view key) const {
  const std::string expected = "a non-negative integer";
  const GgufValue& v = require(key, expected);
  return std::visit(
      [&](const auto& x) -> uint64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          if constexpr (std::is_signed_v<T>)
            if (x < 0) fail(source_ + ": key " + quote(key) + " is " + std::to_string(x) + ", expected " + expected);
          return static_cast<uint64_t>(x);
        } else {
          type_error(key, v, expected);
        }
      },
      v.v);
}

double GgufFile::get_float_lenient(std::string_view key) const {
  const std::string expected = "a number";
  const GgufValue& v = require(key, expected);
  return std::visit(
      [&](const auto& x) -> double {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
          return static_cast<double>(x);
        else
          type_error(key, v, expected);
      },
      v.v);
}

}  // namespace scitune
