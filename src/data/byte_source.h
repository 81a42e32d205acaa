// Bytes of a data file, plain or compressed, as a stream of chunks, and the lines of such a stream.
//
// The compression is read from the file's first bytes (gzip 1f 8b, zstd 28 b5 2f fd), not trusted from the
// name; a ".gz"/".zst" name over other bytes is an error. Plain files are memory-mapped and handed out as one
// chunk (lines are then views into the map, no copy); compressed files are inflated 1 MiB at a time, so a
// file of any size streams in bounded memory. Concatenated gzip members and zstd frames are read as one stream
// (what `cat a.gz b.gz` and `zstd -d` produce); a stream cut short is an error, never a silent end.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace scitune {

enum class Compression { kNone, kGzip, kZstd };
std::string_view to_string(Compression c);

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The next chunk of decompressed bytes, valid until the next call; empty at the end of the stream.
  virtual std::span<const uint8_t> next() = 0;
  virtual Compression compression() const = 0;
};

// Opens `path` (UserError naming it when it cannot be opened, or when its name and contents disagree).
std::unique_ptr<ByteSource> open_byte_source(const std::filesystem::path& path);
// The same over bytes in memory, which must outlive the source; `name` is used in messages and, like a file
// name, for the .gz/.zst check.
std::unique_ptr<ByteSource> memory_byte_source(std::span<const uint8_t> bytes, const std::string& name);

// Lines of a byte stream: '\n'-terminated, a trailing '\r' removed, the last line may lack its '\n'.
class LineReader {
 public:
  // `name` prefixes errors; a line longer than max_line_bytes is a UserError "<name>:<line>: ...".
  LineReader(std::unique_ptr<ByteSource> source, std::string name, size_t max_line_bytes);
  // The next line (without its terminator), valid until the next call; nullopt at the end.
  std::optional<std::string_view> next();
  size_t line() const { return line_; }  // 1-based number of the line last returned

 private:
  bool refill();
  std::unique_ptr<ByteSource> source_;
  std::string name_;
  size_t max_line_;
  std::span<const uint8_t> chunk_;
  size_t pos_ = 0;
  std::string carry_;  // a line split across chunks
  size_t line_ = 0;
  bool eof_ = false;
};

}  // namespace scitune
