#include "util/huge_page_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <utility>

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

}  // namespace
}  // namespace scitune
