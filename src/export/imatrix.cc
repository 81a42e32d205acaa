#include "export/imatrix.h"

#include <cmath>
#include <cstring>

#include "io/gguf.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {

namespace {

constexpr std::string_view kInSum2 = ".in_sum2", kInSum = ".in_sum", kCounts = ".counts";
constexpr uint32_t kMaxLegacyNameLength = 4096;
constexpr double kMaxCount = 9007199254740992.0;  // 2^53: counts are integers carried in floats

bool strip_suffix(std::string& s, std::string_view suffix) {
  if (s.size() <= suffix.size() || s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  s.resize(s.size() - suffix.size());
  return true;
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

void check_finite(const std::string& src, const std::string& name, const std::vector<float>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      fail(src + ": tensor " + in_quotes(name) + ": importance value " + std::to_string(i) + " is not finite (" +
           std::to_string(v[i]) + "); llama-quantize refuses such a file too");
}

std::vector<float> f32_values(const GgufFile& f, const GgufTensorInfo& t) {
  if (t.type != GgmlType::F32)
    fail(f.source_name() + ": tensor " + in_quotes(t.name) + " is " + std::string(ggml_info(t.type).name) +
         "; imatrix sums and counts must be f32");
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(float));
  return v;
}

ImportanceMatrix parse_gguf_imatrix(std::span<const uint8_t> bytes, std::string src) {
  const GgufFile f = GgufFile::parse(bytes, src);
  ImportanceMatrix m;
  m.source = src;
  // llama-quantize exits with "missing imatrix metadata" when any of the three keys is absent.
  for (const char* key : {"imatrix.datasets", "imatrix.chunk_count", "imatrix.chunk_size"})
    if (!f.find(key))
      fail(src + ": no " + std::string(key) +
           " key; not an imatrix written by llama-imatrix (llama-quantize "
           "refuses it as missing imatrix metadata)");
  m.datasets = f.get_array<std::string>("imatrix.datasets");
  m.chunk_count = f.get_u32("imatrix.chunk_count");
  m.chunk_size = f.get_u32("imatrix.chunk_size");

  struct Parts {
    const GgufTensorInfo *in_sum2 = nullptr, *in_sum = nullptr, *counts = nullptr;
  };
  std::map<std::string, Parts> parts;
  for (const GgufTensorInfo& t : f.tensors()) {
    std::string name = t.name;
    if (strip_suffix(name, kInSum))
      parts[name].in_sum = &t;
    else if (strip_suffix(name, kInSum2))
      parts[name].in_sum2 = &t;
    else if (strip_suffix(name, kCounts))
      parts[name].counts = &t;
  }
  for (const auto& [name, p] : parts) {
    if (!p.in_sum2 || !p.counts)
      fail(src + ": tensor " + in_quotes(name) + " has " + (p.in_sum2 ? "in_sum2 but no counts" : "no in_sum2") +
           "; each imatrix entry needs both <name>.in_sum2 and <name>.counts");
    const std::vector<float> sums = f32_values(f, *p.in_sum2);
    const std::vector<float> counts = f32_values(f, *p.counts);
    if (p.in_sum) {
      f32_values(f, *p.in_sum);  // type check only: activations do not enter the quantisation
      if (p.in_sum->n_elements() != p.in_sum2->n_elements())
        fail(src + ": tensor " + in_quotes(name) + ": in_sum has " + std::to_string(p.in_sum->n_elements()) +
             " values but in_sum2 has " + std::to_string(sums.size()));
    }
    if (sums.size() % counts.size() != 0)
      fail(src + ": tensor " + in_quotes(name) + ": " + std::to_string(sums.size()) +
           " in_sum2 values do not split into " + std::to_string(counts.size()) +
           " equal per-expert slices (one per count)");
    const size_t ne0 = sums.size() / counts.size();
    std::vector<float> imp(sums.size());
    for (size_t j = 0; j < counts.size(); ++j) {
      if (!(counts[j] >= 0.0f && counts[j] <= kMaxCount))
        fail(src + ": tensor " + in_quotes(name) + ": count " + std::to_string(j) + " is " + std::to_string(counts[j]) +
             "; expected a non-negative number of activation rows");
      const auto count = static_cast<float>(std::lround(counts[j]));  // llama.cpp keeps counts as integers
      for (size_t i = 0; i < ne0; ++i) imp[j * ne0 + i] = count > 0.0f ? sums[j * ne0 + i] / count : 1.0f;
    }
    check_finite(src, name, imp);
    m.entries.emplace(name, std::move(imp));
  }
  return m;
}

// Little-endian cursor over the legacy format; every read checks the remaining length.
class LegacyReader {
 public:
  LegacyReader(std::span<const uint8_t> b, const std::string& src) : b_(b), src_(src) {}
  size_t left() const { return b_.size() - pos_; }
  int32_t i32(const std::string& what) {
    need(4, what);
    int32_t v;
    std::memcpy(&v, b_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  std::span<const uint8_t> take(size_t n, const std::string& what) {
    need(n, what);
    const auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  void need(size_t n, const std::string& what) const {
    if (left() < n)
      fail(src_ + ": legacy imatrix ends inside " + what + " (byte " + std::to_string(pos_) + " of " +
           std::to_string(b_.size()) + ")");
  }
  std::span<const uint8_t> b_;
  const std::string& src_;
  size_t pos_ = 0;
};

ImportanceMatrix parse_legacy_imatrix(std::span<const uint8_t> bytes, std::string src) {
  ImportanceMatrix m;
  m.source = src;
  m.legacy = true;
  LegacyReader r(bytes, src);
  const int32_t n_entries = r.i32("the entry count");
  if (n_entries < 1)
    fail(src + ": legacy imatrix with " + std::to_string(n_entries) +
         " entries; expected at least one (or a GGUF "
         "imatrix, which starts with \"GGUF\")");
  constexpr size_t kMinEntryBytes = 17;  // name length, 1 name byte, ncall, nval, 1 value
  if (static_cast<uint64_t>(n_entries) > bytes.size() / kMinEntryBytes)
    fail(src + ": not an imatrix file: it is not GGUF, and read as the legacy .dat format it claims " +
         std::to_string(n_entries) + " entries in " + std::to_string(bytes.size()) + " bytes");
  for (int32_t e = 0; e < n_entries; ++e) {
    const std::string entry = "entry " + std::to_string(e + 1) + " of " + std::to_string(n_entries);
    const int32_t len = r.i32(entry + "'s name length");
    if (len < 1 || static_cast<uint32_t>(len) > kMaxLegacyNameLength)
      fail(src + ": " + entry + ": name length " + std::to_string(len) + "; expected 1.." +
           std::to_string(kMaxLegacyNameLength));
    const auto nb = r.take(static_cast<size_t>(len), entry + "'s name");
    std::string name(reinterpret_cast<const char*>(nb.data()), nb.size());
    if (name.find('\0') != std::string::npos) fail(src + ": " + entry + ": the tensor name contains a NUL byte");
    const int32_t ncall = r.i32("tensor " + in_quotes(name) + "'s call count");
    const int32_t nval = r.i32("tensor " + in_quotes(name) + "'s value count");
    if (nval < 1)
      fail(src + ": tensor " + in_quotes(name) + ": " + std::to_string(nval) + " values; expected at least 1");
    const auto vb = r.take(static_cast<size_t>(nval) * sizeof(float), "tensor " + in_quotes(name) + "'s values");
    std::vector<float> imp(static_cast<size_t>(nval));
    std::memcpy(imp.data(), vb.data(), vb.size());
    if (ncall > 0)
      for (float& v : imp) v = v / static_cast<float>(static_cast<int64_t>(ncall));
    check_finite(src, name, imp);
    if (!m.entries.emplace(name, std::move(imp)).second) fail(src + ": tensor " + in_quotes(name) + " appears twice");
  }
  if (r.left() > 0) {  // optional trailer: chunk count, then dataset name
    const int32_t chunks = r.i32("the chunk count");
    m.chunk_count = chunks > 0 ? static_cast<uint32_t>(chunks) : 0;
    if (r.left() > 0) {
      const int32_t len = r.i32("the dataset name length");
      if (len < 0 || static_cast<uint32_t>(len) > kMaxLegacyNameLength)
        fail(src + ": dataset name length " + std::to_string(len) + "; expected 0.." +
             std::to_string(kMaxLegacyNameLength));
      const auto db = r.take(static_cast<size_t>(len), "the dataset name");
      if (len > 0) m.datasets.emplace_back(reinterpret_cast<const char*>(db.data()), db.size());
    }
    if (r.left() > 0) fail(src + ": " + std::to_string(r.left()) + " unexpected bytes after the dataset name");
  }
  return m;
}

}  // namespace

ImportanceMatrix parse_imatrix(std::span<const uint8_t> bytes, std::string source_name) {
  uint32_t magic = 0;
  if (bytes.size() >= 4) std::memcpy(&magic, bytes.data(), 4);
  ImportanceMatrix m =
      magic == kGgufMagic ? parse_gguf_imatrix(bytes, source_name) : parse_legacy_imatrix(bytes, source_name);
  if (m.entries.empty())
    fail(source_name + ": no importance entries (<name>.in_sum2 + <name>.counts tensors); is it an imatrix file?");
  return m;
}

ImportanceMatrix read_imatrix(const std::filesystem::path& path) {
  const MappedFile f(path);
  return parse_imatrix(f.bytes(), path.string());
}

}  // namespace scitune
