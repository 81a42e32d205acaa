// Tokenised examples on disk, so that a run reloads a prepared dataset in a moment (train.bin,
// validation.bin). Little-endian, written atomically, read memory-mapped and validated before use.
//
//   offset  size            field
//   0       8               magic "SCIDATA\0"
//   8       4   u32         version (1)
//   12      4   u32         vocab_size: every id is below it
//   16      8   u64         n examples
//   24      8   u64         n_tokens (all examples)
//   32      8   u64         source_bytes
//   40      8   u64         meta_bytes
//   48      8 (n+1)   u64   token offsets: example i is tokens [off[i], off[i+1]), off[0] = 0, increasing
//           4 n_tokens u32  token = id | trained << 31 (label = id when trained, else -100); zero-padded to 8
//           8 (n+1)   u64   source offsets into the source bytes, off[0] = 0, non-decreasing
//           source_bytes    the examples' `source` strings ("file.jsonl:12") back to back; zero-padded to 8
//           meta_bytes      a JSON object (split, tokenizer, max_seq_length, seed, ...)
//   end-32  32              SHA-256 of every byte before it (streamed while writing, checked on load)
// The file size must be exactly what the header implies. Labels other than -100 or the token's own id
// cannot be stored (prepare_dataset never makes them: shifted labels are rejected when read).
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/example.h"
#include "util/atomic_file.h"
#include "util/mapped_file.h"

namespace scitune {

inline constexpr uint32_t kExampleCacheVersion = 1;
inline constexpr uint32_t kTrainedBit = 0x80000000u;

// UserError when an example is empty, ids and labels differ in length, an id is outside [0, vocab_size) or a
// label is neither -100 nor its id; or when the target exists and overwrite is kNo.
void write_example_cache(const std::filesystem::path& path, std::span<const TokenizedExample> examples,
                         uint32_t vocab_size, const nlohmann::json& meta, Overwrite overwrite = Overwrite::kNo);

class ExampleCache {
 public:
  // Maps and checks the whole file: magic, version, sizes, offsets, ids, checksum, meta. UserError naming the
  // path and what is wrong.
  explicit ExampleCache(const std::filesystem::path& path);

  size_t size() const { return n_; }
  uint64_t total_tokens() const { return n_tokens_; }
  uint32_t vocab_size() const { return vocab_size_; }
  const nlohmann::json& meta() const { return meta_; }
  // Packed tokens of example i (id | kTrainedBit when trained), a view into the map.
  std::span<const uint32_t> packed(size_t i) const;
  std::string_view source(size_t i) const;
  TokenizedExample example(size_t i) const;
  std::vector<TokenizedExample> examples() const;

 private:
  MappedFile file_;
  size_t n_ = 0;
  uint64_t n_tokens_ = 0;
  uint32_t vocab_size_ = 0;
  const uint64_t* token_off_ = nullptr;
  const uint32_t* tokens_ = nullptr;
  const uint64_t* source_off_ = nullptr;
  const char* sources_ = nullptr;
  nlohmann::json meta_;
};

}  // namespace scitune
