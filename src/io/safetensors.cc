#include "io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <set>

#include "io/json_limits.h"
#include "util/error.h"
#include "util/half.h"

namespace scitune {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; so must be the host");

namespace {

struct DTypeEntry {
  DType type;
  std::string_view name;
  size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},   {DType::I8, "I8", 1},     {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},   {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},   {DType::F32, "F32", 4}, {DType::F64, "F64", 8},   {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
};

const DTypeEntry& entry(DType t) {
  for (const auto& e : kDTypes)
    if (e.type == t) return e;
  SCITUNE_CHECK(false, "unknown DType value");
  return kDTypes[0];
}

std::string known_dtypes() {
  std::string s;
  for (const auto& e : kDTypes) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Parses one header entry into `info`; `where` is `<file>: tensor "<name>"`.
TensorInfo parse_entry(const std::string& name, const nlohmann::json& v, uint64_t data_size, const std::string& where) {
  TensorInfo info;
  info.name = name;
  json_object(v, where);
  const auto* dt = json_find(v, "dtype", false);
  if (!dt) fail(where + ": missing \"dtype\"");
  const std::string& dname = json_string(*dt, where + ": \"dtype\"");
  auto dtype = dtype_from_name(dname);
  if (!dtype)
    fail(where + ": dtype " + in_quotes(dname) + " is not supported (expected one of " + known_dtypes() + ")");
  info.dtype = *dtype;

  const auto* shape = json_find(v, "shape", false);
  if (!shape) fail(where + ": missing \"shape\"");
  const auto& dims = json_array(*shape, where + ": \"shape\"");
  for (size_t i = 0; i < dims.size(); ++i) {
    const uint64_t d = json_uint(dims[i], where + ": \"shape\"[" + std::to_string(i) + "]");
    if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(where + ": \"shape\"[" + std::to_string(i) + "] = " + std::to_string(d) + " is too large");
    info.shape.push_back(static_cast<int64_t>(d));
  }

  const auto* offs = json_find(v, "data_offsets", false);
  if (!offs) fail(where + ": missing \"data_offsets\"");
  const auto& pair = json_array(*offs, where + ": \"data_offsets\"");
  if (pair.size() != 2)
    fail(where + ": \"data_offsets\" must be [begin, end], found " + std::to_string(pair.size()) + " values");
  info.begin = json_uint(pair[0], where + ": \"data_offsets\"[0]");
  info.end = json_uint(pair[1], where + ": \"data_offsets\"[1]");
  const std::string offsets_str = "[" + std::to_string(info.begin) + ", " + std::to_string(info.end) + "]";
  if (info.begin > info.end) fail(where + ": \"data_offsets\" " + offsets_str + " has begin > end");
  if (info.end > data_size)
    fail(where + ": \"data_offsets\" " + offsets_str + " reach past the data section of " + std::to_string(data_size) +
         " bytes");

  auto numel = checked_numel(info.shape);
  auto nbytes = numel ? checked_mul(*numel, dtype_size(info.dtype)) : std::nullopt;
  if (!nbytes) fail(where + ": \"shape\" " + shape_to_string(info.shape) + " overflows 64 bits");
  if (*nbytes != info.end - info.begin)
    fail(where + ": \"data_offsets\" " + offsets_str + " span " + std::to_string(info.end - info.begin) +
         " bytes but \"shape\" " + shape_to_string(info.shape) + " x " + std::string(dtype_name(info.dtype)) +
         " needs " + std::to_string(*nbytes) + " bytes");
  return info;
}

}  // namespace

size_t dtype_size(DType t) { return entry(t).size; }
std::string_view dtype_name(DType t) { return entry(t).name; }
std::optional<DType> dtype_from_name(std::string_view s) {
  for (const auto& e : kDTypes)
    if (e.name == s) return e.type;
  return std::nullopt;
}

std::optional<uint64_t> checked_numel(std::span<const int64_t> shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    auto r = checked_mul(n, static_cast<uint64_t>(d));
    if (!r) return std::nullopt;
    n = *r;
  }
  return n;
}

std::string shape_to_string(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

uint64_t TensorInfo::numel() const {
  auto n = checked_numel(shape);
  SCITUNE_CHECK(n.has_value(), "tensor shape validated at parse time");
  return *n;
}

// --- TensorView ---

void TensorView::check_typed_access(size_t size, size_t align) const {
  if (size != dtype_size(dtype()))
    fail(std::string(source) + ": tensor " + in_quotes(name()) + " is " + std::string(dtype_name(dtype())) +
         ", read as a " + std::to_string(size) + "-byte type");
  if (reinterpret_cast<uintptr_t>(data.data()) % align != 0)
    fail(std::string(source) + ": tensor " + in_quotes(name()) + " data is not aligned to " + std::to_string(align) +
         " bytes in the file (copy it with to_f32 instead)");
}

void TensorView::to_f32(std::span<float> out) const {
  SCITUNE_CHECK(out.size() == numel(), "to_f32: output size must equal numel");
  const uint8_t* p = data.data();
  const size_t n = out.size();
  switch (dtype()) {
    case DType::F32:
      if (n) std::memcpy(out.data(), p, n * 4);
      return;
    case DType::F16:
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = dtype() == DType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
      }
      return;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return;
    default:
      fail(std::string(source) + ": tensor " + in_quotes(name()) + " has dtype " + std::string(dtype_name(dtype())) +
           ", expected a floating-point type (F32, F16, BF16, F64)");
  }
}

std::vector<float> TensorView::to_f32() const {
  std::vector<float> out(numel());
  to_f32(out);
  return out;
}

// --- SafetensorsHeader ---

SafetensorsHeader SafetensorsHeader::parse(std::span<const uint8_t> bytes, const std::string& source) {
  if (bytes.size() < 8)
    fail(source + ": file is " + std::to_string(bytes.size()) +
         " bytes, too short for the 8-byte header length of a safetensors file");
  const uint64_t n = read_u64_le(bytes.data());
  if (n > kSafetensorsMaxHeader)
    fail(source + ": header length " + std::to_string(n) + " exceeds the limit of " +
         std::to_string(kSafetensorsMaxHeader) + " bytes (not a safetensors file?)");
  if (n > bytes.size() - 8)
    fail(source + ": header length " + std::to_string(n) + " but only " + std::to_string(bytes.size() - 8) +
         " bytes follow (truncated file?)");
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), n);
  if (text.empty() || text[0] != '{') fail(source + ": header must be a JSON object starting with '{'");
  JsonLimits limits;
  limits.max_depth = 16;
  limits.max_bytes = kSafetensorsMaxHeader;
  const nlohmann::json root = parse_json_strict(text, source + " (header)", limits);
  json_object(root, source + ": header");

  SafetensorsHeader h;
  h.header_size_ = n;
  const uint64_t data_size = bytes.size() - 8 - n;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") {
      const auto& meta = json_object(value, source + ": \"__metadata__\"");
      for (const auto& [mk, mv] : meta.items())
        h.metadata_[mk] = json_string(mv, source + ": \"__metadata__\" " + in_quotes(mk));
      continue;
    }
    h.tensors_.push_back(parse_entry(key, value, data_size, source + ": tensor " + in_quotes(key)));
  }

  // Sorted by offset, the tensors must tile [0, data_size) exactly, as the reference requires.
  std::stable_sort(h.tensors_.begin(), h.tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  const TensorInfo* prev = nullptr;
  for (const auto& t : h.tensors_) {
    const std::string where = source + ": tensor " + in_quotes(t.name) + ": \"data_offsets\" [" +
                              std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    if (t.begin < expected)
      fail(where + " overlap tensor " + in_quotes(prev->name) + " which ends at " + std::to_string(expected));
    if (t.begin > expected)
      fail(where + " leave a hole of " + std::to_string(t.begin - expected) + " bytes after " +
           (prev ? "tensor " + in_quotes(prev->name) : std::string("the header")));
    expected = t.end;
    prev = &t;
  }
  if (expected != data_size)
    fail(source + ": data section is " + std::to_string(data_size) + " bytes but the tensors cover only " +
         std::to_string(expected) + " (trailing bytes or a truncated header)");
  for (size_t i = 0; i < h.tensors_.size(); ++i) h.index_.emplace(h.tensors_[i].name, i);
  return h;
}

const TensorInfo* SafetensorsHeader::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

// --- SafetensorsFile ---

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path)
    : map_(path), source_(path.string()), header_(SafetensorsHeader::parse(map_.bytes(), source_)) {}

TensorView SafetensorsFile::view(const TensorInfo& info) const {
  return TensorView{&info, map_.bytes().subspan(header_.data_offset() + info.begin, info.nbytes()), source_};
}

std::optional<TensorView> SafetensorsFile::find(std::string_view name) const {
  const TensorInfo* info = header_.find(name);
  if (!info) return std::nullopt;
  return view(*info);
}

TensorView SafetensorsFile::tensor(std::string_view name) const {
  auto v = find(name);
  if (!v) fail(source_ + ": no tensor named " + in_quotes(name));
  return *v;
}

// --- writing ---

uint64_t TensorSpec::nbytes() const {
  auto n = checked_numel(shape);
  auto b = n ? checked_mul(*n, dtype_size(dtype)) : std::nullopt;
  if (!b) fail("tensor " + in_quotes(name) + ": shape " + shape_to_string(shape) + " is negative or overflows 64 bits");
  return *b;
}

std::string safetensors_header_json(std::vector<TensorSpec>& specs, const std::map<std::string, std::string>& metadata,
                                    const std::string& source) {
  std::set<std::string_view> seen;
  for (const auto& s : specs) {
    if (s.name.empty()) fail(source + ": tensor name must not be empty");
    if (s.name == "__metadata__") fail(source + ": \"__metadata__\" is reserved and cannot name a tensor");
    if (!seen.insert(s.name).second) fail(source + ": duplicate tensor name " + in_quotes(s.name));
    try {
      (void)s.nbytes();
    } catch (const UserError& e) {
      fail(source + ": " + e.what());
    }
  }
  // Larger element types first, then by name: every tensor starts aligned to its element size.
  std::stable_sort(specs.begin(), specs.end(), [](const TensorSpec& a, const TensorSpec& b) {
    return a.dtype != b.dtype ? a.dtype > b.dtype : a.name < b.name;
  });
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& m = root["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
  }
  uint64_t offset = 0;
  for (const auto& s : specs) {
    const uint64_t end = offset + s.nbytes();
    if (end < offset) fail(source + ": total data size overflows 64 bits at tensor " + in_quotes(s.name));
    root[s.name] = {{"dtype", dtype_name(s.dtype)}, {"shape", s.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text;
  try {
    text = root.dump();
  } catch (const nlohmann::json::type_error& e) {
    fail(source + ": a tensor name or metadata string is not valid UTF-8: " + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  if (text.size() > kSafetensorsMaxHeader)
    fail(source + ": header would be " + std::to_string(text.size()) + " bytes, over the reference limit");
  return text;
}

namespace {
class CountingSink final : public TensorSink {
 public:
  CountingSink(AtomicFile& file, const TensorSpec& spec, uint64_t expected)
      : file_(file), spec_(spec), expected_(expected) {}
  void write(std::span<const uint8_t> bytes) override {
    SCITUNE_CHECK(bytes.size() <= expected_ - written_,
                  "tensor \"" + spec_.name + "\": filler wrote more than " + std::to_string(expected_) + " bytes");
    file_.write(bytes);
    written_ += bytes.size();
  }
  uint64_t written() const { return written_; }

 private:
  AtomicFile& file_;
  const TensorSpec& spec_;
  uint64_t expected_, written_ = 0;
};
}  // namespace

void write_safetensors_streaming(const std::filesystem::path& path, std::vector<TensorSpec> specs,
                                 const std::map<std::string, std::string>& metadata, const TensorFiller& fill,
                                 Overwrite overwrite) {
  const std::string header = safetensors_header_json(specs, metadata, path.string());
  AtomicFile file(path, overwrite);
  uint8_t len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) len[i] = static_cast<uint8_t>(n & 0xff);
  file.write(len, 8);
  file.write(header);
  for (const auto& s : specs) {
    const uint64_t expected = s.nbytes();
    CountingSink sink(file, s, expected);
    fill(s, sink);
    SCITUNE_CHECK(sink.written() == expected, "tensor \"" + s.name + "\": filler wrote " +
                                                  std::to_string(sink.written()) + " of " + std::to_string(expected) +
                                                  " bytes");
  }
  file.commit();
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata, Overwrite overwrite) {
  std::vector<TensorSpec> specs;
  std::map<std::string, std::span<const uint8_t>> bytes;
  for (const auto& t : tensors) {
    auto numel = checked_numel(t.spec.shape);  // bad shapes are reported by the header builder
    auto need = numel ? checked_mul(*numel, dtype_size(t.spec.dtype)) : std::nullopt;
    if (need && t.bytes.size() != *need)
      fail(path.string() + ": tensor " + in_quotes(t.spec.name) + ": " + std::to_string(t.bytes.size()) +
           " bytes given but shape " + shape_to_string(t.spec.shape) + " x " + std::string(dtype_name(t.spec.dtype)) +
           " needs " + std::to_string(*need));
    specs.push_back(t.spec);
    bytes[t.spec.name] = t.bytes;  // duplicates are rejected by the header builder
  }
  write_safetensors_streaming(
      path, std::move(specs), metadata, [&](const TensorSpec& s, TensorSink& sink) { sink.write(bytes.at(s.name)); },
      overwrite);
}

}  // namespace scitune
