#include "data/example_cache.h"

#include <bit>
#include <cstring>
#include <optional>

#include "io/json_limits.h"
#include "util/error.h"
#include "util/sha256.h"

namespace scitune {

static_assert(std::endian::native == std::endian::little, "the example cache is little-endian");

namespace {

constexpr char kMagic[8] = {'S', 'C', 'I', 'D', 'A', 'T', 'A', '\0'};
constexpr size_t kHeaderSize = 48;
constexpr size_t kDigestSize = 32;

uint64_t pad8(uint64_t n) { return (8 - n % 8) % 8; }

std::optional<uint64_t> add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
std::optional<uint64_t> mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

template <class T>
void put(uint8_t* at, T v) {
  std::memcpy(at, &v, sizeof v);
}
template <class T>
T get(const uint8_t* at) {
  T v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

}  // namespace

void write_example_cache(const std::filesystem::path& path, std::span<const TokenizedExample> examples,
                         uint32_t vocab_size, const nlohmann::json& meta, Overwrite overwrite) {
  const std::string name = path.string();
  if (vocab_size == 0 || vocab_size > kTrainedBit)
    fail(name + ": vocabulary size " + std::to_string(vocab_size) + " cannot be stored");
  uint64_t n_tokens = 0, source_bytes = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    const TokenizedExample& ex = examples[i];
    const std::string at = name + ": example " + std::to_string(i) + " (" + ex.source + ")";
    if (ex.input_ids.empty()) fail(at + ": no tokens");
    if (ex.labels.size() != ex.input_ids.size())
      fail(at + ": " + std::to_string(ex.labels.size()) + " labels for " + std::to_string(ex.input_ids.size()) +
           " tokens");
    for (size_t t = 0; t < ex.input_ids.size(); ++t) {
      const int32_t id = ex.input_ids[t];
      if (id < 0 || uint32_t(id) >= vocab_size)
        fail(at + ": token " + std::to_string(t) + " id " + std::to_string(id) + " outside the vocabulary of " +
             std::to_string(vocab_size));
      if (ex.labels[t] != kIgnoreLabel && ex.labels[t] != id)
        fail(at + ": label " + std::to_string(t) + " = " + std::to_string(ex.labels[t]) +
             " is neither -100 nor the token's id");
    }
    n_tokens += ex.input_ids.size();
    source_bytes += ex.source.size();
  }
  const std::string meta_text = meta.dump();
  const uint64_t n = examples.size();

  AtomicFile file(path, overwrite);
  Sha256 sha;
  auto emit = [&](const void* p, size_t len) {
    sha.update({static_cast<const uint8_t*>(p), len});
    file.write(p, len);
  };
  const uint64_t zero = 0;
  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, 8);
  put<uint32_t>(header + 8, kExampleCacheVersion);
  put<uint32_t>(header + 12, vocab_size);
  put<uint64_t>(header + 16, n);
  put<uint64_t>(header + 24, n_tokens);
  put<uint64_t>(header + 32, source_bytes);
  put<uint64_t>(header + 40, meta_text.size());
  emit(header, kHeaderSize);
  uint64_t off = 0;
  emit(&off, 8);
  for (const TokenizedExample& ex : examples) {
    off += ex.input_ids.size();
    emit(&off, 8);
  }
  std::vector<uint32_t> packed;
  for (const TokenizedExample& ex : examples) {
    packed.resize(ex.input_ids.size());
    for (size_t t = 0; t < packed.size(); ++t)
      packed[t] = uint32_t(ex.input_ids[t]) | (ex.labels[t] == kIgnoreLabel ? 0u : kTrainedBit);
    emit(packed.data(), 4 * packed.size());
  }
  emit(&zero, pad8(4 * n_tokens));
  off = 0;
  emit(&off, 8);
  for (const TokenizedExample& ex : examples) {
    off += ex.source.size();
    emit(&off, 8);
  }
  for (const TokenizedExample& ex : examples) emit(ex.source.data(), ex.source.size());
  emit(&zero, pad8(source_bytes));
  emit(meta_text.data(), meta_text.size());
  const auto digest = sha.digest();
  file.write(digest.data(), digest.size());
  file.commit();
}

ExampleCache::ExampleCache(const std::filesystem::path& path) : file_(path) {
  const std::string name = path.string();
  auto bad = [&](const std::string& what) { fail(name + ": not a valid scitune example cache: " + what); };
  const uint8_t* d = file_.data();
  const uint64_t size = file_.size();
  if (size < kHeaderSize + kDigestSize)
    bad("file is " + std::to_string(size) + " bytes, shorter than the header and checksum");
  if (std::memcmp(d, kMagic, 8) != 0) bad("wrong magic (expected \"SCIDATA\")");
  const uint32_t version = get<uint32_t>(d + 8);
  if (version != kExampleCacheVersion)
    bad("version " + std::to_string(version) + ", this scitune reads version " + std::to_string(kExampleCacheVersion) +
        " (prepare the data again)");
  vocab_size_ = get<uint32_t>(d + 12);
  if (vocab_size_ == 0 || vocab_size_ > kTrainedBit) bad("vocabulary size " + std::to_string(vocab_size_));
  const uint64_t n = get<uint64_t>(d + 16);
  n_tokens_ = get<uint64_t>(d + 24);
  const uint64_t source_bytes = get<uint64_t>(d + 32);
  const uint64_t meta_bytes = get<uint64_t>(d + 40);

  // Expected size, every step checked for overflow.
  const std::optional<uint64_t> n1 = add(n, 1);
  const std::optional<uint64_t> offsets_bytes = n1 ? mul(*n1, 8) : std::nullopt;
  const std::optional<uint64_t> token_bytes = mul(n_tokens_, 4);
  std::optional<uint64_t> expected = kHeaderSize + kDigestSize;
  auto plus = [&](std::optional<uint64_t> x) { expected = expected && x ? add(*expected, *x) : std::nullopt; };
  plus(offsets_bytes);
  plus(token_bytes);
  plus(token_bytes ? std::optional<uint64_t>(pad8(*token_bytes)) : std::nullopt);
  plus(offsets_bytes);
  plus(source_bytes);
  plus(pad8(source_bytes));
  plus(meta_bytes);
  if (!expected || *expected != size)
    bad("header says " + std::to_string(n) + " examples, " + std::to_string(n_tokens_) + " tokens, " +
        std::to_string(source_bytes) + " source bytes and " + std::to_string(meta_bytes) +
        " meta bytes, which does not match the file size " + std::to_string(size) + " (truncated or corrupt)");

  Sha256 sha;
  sha.update(file_.bytes().first(size - kDigestSize));
  const auto digest = sha.digest();
  if (std::memcmp(digest.data(), d + size - kDigestSize, kDigestSize) != 0)
    bad("checksum mismatch (the file is corrupt; prepare the data again)");

  n_ = size_t(n);
  const uint8_t* p = d + kHeaderSize;
  token_off_ = reinterpret_cast<const uint64_t*>(p);
  p += *offsets_bytes;
  tokens_ = reinterpret_cast<const uint32_t*>(p);
  p += *token_bytes + pad8(*token_bytes);
  source_off_ = reinterpret_cast<const uint64_t*>(p);
  p += *offsets_bytes;
  sources_ = reinterpret_cast<const char*>(p);
  p += source_bytes + pad8(source_bytes);

  if (token_off_[0] != 0 || token_off_[n_] != n_tokens_) bad("token offsets do not span the tokens");
  if (source_off_[0] != 0 || source_off_[n_] != source_bytes) bad("source offsets do not span the sources");
  for (size_t i = 0; i < n_; ++i) {
    if (token_off_[i + 1] <= token_off_[i]) bad("example " + std::to_string(i) + " has no tokens");
    if (source_off_[i + 1] < source_off_[i]) bad("source offsets decrease at example " + std::to_string(i));
  }
  for (uint64_t t = 0; t < n_tokens_; ++t)
    if ((tokens_[t] & ~kTrainedBit) >= vocab_size_)
      bad("token " + std::to_string(t) + " id " + std::to_string(tokens_[t] & ~kTrainedBit) +
          " is outside the vocabulary of " + std::to_string(vocab_size_));
  meta_ = parse_json_strict(std::string_view(reinterpret_cast<const char*>(p), meta_bytes), name + ": meta");
  if (!meta_.is_object()) bad("meta is not a JSON object");
}

std::span<const uint32_t> ExampleCache::packed(size_t i) const {
  SCITUNE_CHECK(i < n_, "example index out of range");
  return {tokens_ + token_off_[i], size_t(token_off_[i + 1] - token_off_[i])};
}

std::string_view ExampleCache::source(size_t i) const {
  SCITUNE_CHECK(i < n_, "example index out of range");
  return {sources_ + source_off_[i], size_t(source_off_[i + 1] - source_off_[i])};
}

TokenizedExample ExampleCache::example(size_t i) const {
  TokenizedExample ex;
  const auto toks = packed(i);
  ex.input_ids.resize(toks.size());
  ex.labels.resize(toks.size());
  for (size_t t = 0; t < toks.size(); ++t) {
    const int32_t id = int32_t(toks[t] & ~kTrainedBit);
    ex.input_ids[t] = id;
    ex.labels[t] = (toks[t] & kTrainedBit) ? id : kIgnoreLabel;
  }
  ex.source = std::string(source(i));
  return ex;
}

std::vector<TokenizedExample> ExampleCache::examples() const {
  std::vector<TokenizedExample> out;
  out.reserve(n_);
  for (size_t i = 0; i < n_; ++i) out.push_back(example(i));
  return out;
}

}  // namespace scitune
