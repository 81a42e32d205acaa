// Anonymous memory in 2 MiB-aligned huge pages where the kernel allows them (transparent huge pages in "madvise"
// mode, the Debian default, need the request). For weights streamed whole on every decoded token: with 4 KiB
// pages a 1B model's ~700 MB are ~175k TLB entries per token, and the page walks cost ~10% of a decoding step.
// Falls back to ordinary pages silently (the request is advice).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace scitune {

class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  explicit HugePageBuffer(size_t bytes);  // uninitialised; throws std::bad_alloc when the mapping fails
  ~HugePageBuffer();
  HugePageBuffer(HugePageBuffer&& other) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& other) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release();
  void* map_ = nullptr;  // the whole mapping (data_ is its first 2 MiB boundary)
  size_t map_bytes_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read.
uint64_t available_memory_bytes();
// Whether `bytes` of copies in anonymous memory (which, without swap, the kernel cannot page out as it can a mapped
// file's pages) leave room: at most 3/4 of `available`; true when available is unknown (0).
bool anonymous_copies_fit(uint64_t bytes, uint64_t available);

// Many allocations out of shared huge-page chunks: a huge page is resident whole once touched, so a buffer of its
// own per 166 KB matrix would waste most of 2 MiB each (~300 MB for a 1B model). Requests over half a chunk get
// a buffer of their own. Memory lives as long as the arena; nothing is freed one by one.
class HugePageArena {
 public:
  static constexpr size_t kChunkBytes = size_t{32} << 20;
  // `bytes` of uninitialised memory aligned to 64 bytes.
  uint8_t* allocate(size_t bytes);

 private:
  std::vector<HugePageBuffer> buffers_;
  size_t used_ = 0;                 // bytes taken from the current shared chunk
  size_t chunk_ = SIZE_MAX;         // its index in buffers_ (none yet)
};

}  // namespace scitune
