// SHA-256 over OpenSSL's libcrypto, for checking file and tensor contents against digests recorded by the
// oracle (Python's hashlib) and for file checksums.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace scitune {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const uint8_t> bytes);
  void update(std::string_view s) { update({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }
  std::array<uint8_t, 32> digest();  // finishes; the object must not be updated afterwards
  std::string hex_digest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(std::span<const uint8_t> bytes);
inline std::string sha256_hex(const void* data, size_t len) {
  return sha256_hex({static_cast<const uint8_t*>(data), len});
}

}  // namespace scitune
