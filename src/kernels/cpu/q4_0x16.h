// Q4_0 weights repacked 16 rows at a time for AVX-512 VNNI, so that one 512-bit multiply-add covers 16 output rows
// (one row per lane) instead of 32 values of one row followed by a horizontal sum and a scalar scale per block.
// The repack is a byte shuffle of the GGUF's own blocks (same bytes, same values, nothing re-quantised):
//
//   per group of 16 rows, per 32-value block b (288 bytes, the same as 16 Q4_0 blocks):
//     32 bytes: the 16 rows' fp16 scales d
//     256 bytes: byte [64 j + 4 i + c] = qs[4 j + c] of row i  (j, c in 0..3; low nibble = value 4j+c,
//                high nibble = value 16+4j+c of that block)
//
// A 64-byte load masked to low nibbles then gives, in lane i, values 4j..4j+3 of row i: one vpdpbusd with the
// activation's dword at 4j broadcast. Activations are Q8_0 (kernels/cpu/matvec_vnni.h ActivationQ8), as
// llama.cpp feeds its Q4_0 products; integer block sums are exact, scales applied in fp32 per block.
#pragma once
#include <cstdint>
#include <vector>

namespace scitune::ops {

struct ActivationQ8;

inline constexpr int64_t kQ4x16Rows = 16;
inline constexpr int64_t kQ4x16BlockBytes = 288;  // 16 rows x (2-byte scale + 16 bytes of nibbles)

bool q4_0x16_available();  // AVX-512 VNNI present
// Whether a [rows, cols] Q4_0 matrix can be repacked: rows % 16 == 0, cols % 32 == 0.
bool q4_0x16_fits(int64_t rows, int64_t cols);
// Repacks row-major Q4_0 rows (the GGUF layout) into `out` (rows * cols / 32 * 18 bytes).
void pack_q4_0x16(uint8_t* out, const uint8_t* q4_0_rows, int64_t rows, int64_t cols);
// Back to row-major Q4_0 blocks (tests; a repack is lossless).
void unpack_q4_0x16(uint8_t* q4_0_rows, const uint8_t* packed, int64_t rows, int64_t cols);

// y[t * ldy + r] (+)= W[r] · a[t] for activation rows t in [t0, t1) and weight rows r of groups [g0, g1)
// (rows 16 g .. 16 g + 15). Activation rows go in tiles of up to 8 per pass over a group's weights.
void q4_0x16_matmul(float* y, int64_t ldy, const ActivationQ8& a, int64_t t0, int64_t t1, const uint8_t* packed,
                    int64_t cols, int64_t g0, int64_t g1, bool accumulate);

}  // namespace scitune::ops
