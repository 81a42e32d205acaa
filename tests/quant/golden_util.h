// Helpers for the quantisation golden tests: SHA-256 (util/sha256.h; the oracle script hashes with Python's
// hashlib), hex and file loading.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "quant/ggml_type.h"
#include "util/sha256.h"
#include <stdexcept>
#include <string>
#include <vector>

namespace scitune::quant::golden {

using ::scitune::sha256_hex;  // OpenSSL-backed, src/util/sha256.h

inline std::vector<uint8_t> from_hex(const std::string& h) {
  std::vector<uint8_t> out(h.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(std::stoul(h.substr(2 * i, 2), nullptr, 16));
  return out;
}

// The ggml type named as the fixtures name it ("q4_K").
inline GgmlType type_named(const std::string& name) {
  for (const auto& t : kGgmlTypes)
    if (t.name == name) return t.type;
  throw std::runtime_error("unknown type " + name);
}

inline std::string golden_dir() { return std::string(SCITUNE_SOURCE_DIR) + "/tests/golden/quant/"; }

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline nlohmann::json read_json(const std::string& name) {
  const auto bytes = read_file(golden_dir() + name);
  return nlohmann::json::parse(bytes.begin(), bytes.end());
}

// Bitwise float equality that also accepts two NaNs (their payloads depend on operand order).
inline bool same_float(float a, float b) {
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub || (a != a && b != b);
}

}  // namespace scitune::quant::golden
