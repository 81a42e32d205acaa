// Writes a file so that nothing is lost: bytes go to a temporary file beside the target, which is fsynced
// and renamed over the target only on commit(). An uncommitted writer removes its temporary file.
// An existing target is replaced only when the caller says so (never overwrite a user file silently).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace scitune {

enum class Overwrite { kNo, kYes };

class AtomicFile {
 public:
  // Throws UserError if the target exists and overwrite is kNo, or the temp file cannot be created.
  explicit AtomicFile(const std::filesystem::path& target, Overwrite overwrite = Overwrite::kNo);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::span<const uint8_t> bytes) { write(bytes.data(), bytes.size()); }
  void write(std::string_view s) { write(s.data(), s.size()); }
  void write_zeros(size_t n);
  uint64_t bytes_written() const { return written_; }
  void commit();  // flush, fsync, rename over the target

 private:
  void flush_buffer();
  std::filesystem::path target_, temp_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
  static constexpr size_t kBufSize = 1 << 20;
  uint8_t* buf_ = nullptr;
  size_t buf_used_ = 0;
};

// Convenience: write a whole string/byte buffer atomically.
void write_file_atomic(const std::filesystem::path& target, std::string_view contents,
                       Overwrite overwrite = Overwrite::kNo);

}  // namespace scitune
