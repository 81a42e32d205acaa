#include "util/sha256.h"

#include <openssl/evp.h>

#include "util/error.h"

namespace scitune {

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  SCITUNE_CHECK(ctx_->md && EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) == 1, "OpenSSL SHA-256 init");
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_->md); }

void Sha256::update(std::span<const uint8_t> bytes) {
  SCITUNE_CHECK(EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size()) == 1, "OpenSSL SHA-256 update");
}

std::array<uint8_t, 32> Sha256::digest() {
  std::array<uint8_t, 32> out{};
  unsigned int n = 0;
  SCITUNE_CHECK(EVP_DigestFinal_ex(ctx_->md, out.data(), &n) == 1 && n == 32, "OpenSSL SHA-256 final");
  return out;
}

std::string Sha256::hex_digest() {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : digest()) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

std::string sha256_hex(std::span<const uint8_t> bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

}  // namespace scitune
