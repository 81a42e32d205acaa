// SplitMix64 (Steele, Lea, Flood 2014): a fast 64-bit mixing function, used where randomness must be a pure
// function of its inputs (per-tensor init seeds, dropout masks regenerated in backward).
#pragma once
#include <cstdint>

namespace scitune {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace scitune
