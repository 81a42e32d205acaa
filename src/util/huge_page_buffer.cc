#include "util/huge_page_buffer.h"

#include <sys/mman.h>

#include <fstream>
#include <new>
#include <string>
#include <utility>

namespace scitune {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

HugePageBuffer::HugePageBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  const size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  map_bytes_ = rounded + kHugePage;  // room to start at a 2 MiB boundary
  map_ = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw std::bad_alloc();
  }
  const auto base = reinterpret_cast<uintptr_t>(map_);
  data_ = reinterpret_cast<uint8_t*>((base + kHugePage - 1) & ~uintptr_t{kHugePage - 1});
  // Before the first touch, so the page faults allocate huge pages directly.
  madvise(data_, rounded, MADV_HUGEPAGE);
}

HugePageBuffer::~HugePageBuffer() { release(); }

HugePageBuffer::HugePageBuffer(HugePageBuffer&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)),
      map_bytes_(std::exchange(other.map_bytes_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& other) noexcept {
  if (this != &other) {
    release();
    map_ = std::exchange(other.map_, nullptr);
    map_bytes_ = std::exchange(other.map_bytes_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void HugePageBuffer::release() {
  if (map_) munmap(map_, map_bytes_);
  map_ = nullptr;
  data_ = nullptr;
  size_ = map_bytes_ = 0;
}

uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

bool anonymous_copies_fit(uint64_t bytes, uint64_t available) { return available == 0 || bytes <= available / 4 * 3; }

uint8_t* HugePageArena::allocate(size_t bytes) {
  if (bytes > kChunkBytes / 2) return buffers_.emplace_back(bytes).data();
  const size_t start = (used_ + 63) & ~size_t{63};
  if (chunk_ == SIZE_MAX || start + bytes > kChunkBytes) {
    // Pointers into earlier chunks stay valid: the vector moves the handles, not the mappings.
    buffers_.emplace_back(kChunkBytes);
    chunk_ = buffers_.size() - 1;
    used_ = bytes;
    return buffers_[chunk_].data();
  }
  used_ = start + bytes;
  return buffers_[chunk_].data() + start;
}

}  // namespace scitune
