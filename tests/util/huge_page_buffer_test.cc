#include "util/huge_page_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

namespace scitune {
namespace {

TEST(HugePageBuffer, AlignedWritableAndMovable) {
  const size_t n = (size_t{5} << 20) + 123;  // not a whole number of huge pages
  HugePageBuffer a(n);
  ASSERT_NE(a.data(), nullptr);
  EXPECT_EQ(a.size(), n);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % (size_t{2} << 20), 0u);
  std::memset(a.data(), 0x5A, n);
  uint8_t* p = a.data();
  HugePageBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.data(), p);  // the memory does not move
  EXPECT_EQ(b.data()[n - 1], 0x5A);
  HugePageBuffer c;
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.size(), n);
  EXPECT_EQ(HugePageBuffer(0).data(), nullptr);
}

TEST(HugePageArena, SharesChunksAndKeepsEveryAllocation) {
  HugePageArena arena;
  std::vector<std::pair<uint8_t*, size_t>> got;
  // Small ones share chunks; one over half a chunk gets its own buffer; enough to need a second chunk.
  for (size_t n : {size_t{100}, size_t{166} << 10, HugePageArena::kChunkBytes / 2 + 1, size_t{20} << 20,
                   size_t{20} << 20, size_t{7}}) {
    uint8_t* p = arena.allocate(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    std::memset(p, static_cast<int>(got.size() + 1), n);
    got.emplace_back(p, n);
  }
  EXPECT_EQ(got[1].first, got[0].first + 128);  // the second follows the first in its chunk, 64-byte aligned
  for (size_t i = 0; i < got.size(); ++i) {  // nothing overlaps: every block still holds its own fill
    EXPECT_EQ(got[i].first[0], i + 1);
    EXPECT_EQ(got[i].first[got[i].second - 1], i + 1);
  }
}

TEST(HugePageBuffer, AnonymousCopiesFitInThreeQuartersOfTheAvailableMemory) {
  EXPECT_TRUE(anonymous_copies_fit(750, 1000));
  EXPECT_FALSE(anonymous_copies_fit(751, 1000));
  EXPECT_TRUE(anonymous_copies_fit(uint64_t{1} << 40, 0));  // unknown: copy
  EXPECT_GT(available_memory_bytes(), 0u);                 // Linux has /proc/meminfo
}

}  // namespace
}  // namespace scitune
