// SHA-256 (OpenSSL) on the FIPS 180-4 examples, so every digest comparison against the oracle can be trusted.
#include "util/sha256.h"

#include <gtest/gtest.h>

namespace scitune {
namespace {

TEST(Sha256, KnownVectors) {  // FIPS 180-4 examples, so the dump comparisons above can be trusted
  auto hex = [](std::string_view s) { return sha256_hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); };
  EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;  // a million 'a's fed in odd-sized pieces
  const std::string chunk(997, 'a');
  size_t left = 1000000;
  for (; left >= chunk.size(); left -= chunk.size()) h.update(chunk);
  h.update(std::string_view(chunk).substr(0, left));
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace scitune
