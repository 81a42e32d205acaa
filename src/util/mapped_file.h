// Read-only memory map of a whole file: zero-copy access for safetensors / GGUF readers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace scitune {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws UserError naming the path if it cannot be opened or is not a regular file.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the whole pages inside `range` from this process's resident set when the range lies in this mapping
  // (otherwise nothing happens): they stay in the page cache and come back on the next access. For data read
  // once while loading a model, so the file's pages do not add up in RSS next to what was made of them.
  void drop_resident_pages(std::span<const uint8_t> range) const;

 private:
  void release();
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace scitune
