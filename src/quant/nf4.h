// NF4 (bitsandbytes QLoRA 4-bit NormalFloat) quantisation, bit-identical to bitsandbytes 0.50
// quantize_4bit / dequantize_4bit on CPU tensors (spec section 5.5), including double quantisation of the
// block absmax values ("compress_statistics").
//
// What "bit-identical" covers, and the CPU-path details it reproduces:
//  - 4-bit codes: bnb's CPU quantize_4bit is the pure-torch default kernel: per block absmax = max|x|,
//    y = clamp(x * (1 / max(absmax, 1e-38)), -1, 1) (the partial last block divides instead), code index =
//    number of code midpoints strictly below y (torch.bucketize, ties go to the lower code), first value of
//    each pair in the high nibble.
//  - nested_offset = torch's fp32 mean of the absmax vector: torch's cascade sum (8-lane kernel) divided by
//    n. It depends on torch's thread count once there are >= 32768 blocks; torch_threads names the
//    count to reproduce (default 1: a single-threaded torch; the oracle's golden data uses 2).
//  - nested 8-bit codes: bnb's native CPU kernel, which looks the code up in a 65536-entry table indexed by
//    the normalised value (not an exact nearest-code search), with the fused multiply-add it was compiled with.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace scitune {

// The QuantState of one NF4 tensor; field comments give the PEFT/bnb serialisation key of each.
struct Nf4Quantized {
  std::vector<int64_t> shape;         // "shape": nf4_quantize sets {n}; callers set the tensor's real shape
  std::string dtype = "float32";      // "dtype": dtype of the original weights (callers set e.g. "bfloat16")
  std::string quant_type = "nf4";     // "quant_type"
  int blocksize = 64;                 // "blocksize"
  std::vector<uint8_t> packed;        // the weight: ceil(n/2) bytes, element 2k in the high nibble (odd n: pad 7)
  std::array<float, 16> quant_map{};  // "quant_map"
  std::vector<float> absmax;          // "absmax" as fp32, one per block (only when !nested)
  bool nested = false;                // double quantisation used
  std::vector<uint8_t> absmax_q;      // "absmax" as uint8 codes into nested_quant_map (only when nested)
  std::vector<float> nested_absmax;   // "nested_absmax": fp32, one per nested block
  std::array<float, 256> nested_quant_map{};              // "nested_quant_map"
  int nested_blocksize = 256;                             // "nested_blocksize"
  float nested_offset = 0.0f;                             // "nested_offset"
  static constexpr const char* kNestedDtype = "float32";  // "nested_dtype"

  int64_t numel() const;
  int64_t num_blocks() const;
};

// Quantises x (finite values; UserError otherwise). blocksize: a power of two in 32..4096.
Nf4Quantized nf4_quantize(std::span<const float> x, int blocksize = 64, bool double_quant = true,
                          int torch_threads = 1);
// Dequantises into out (out.size() == q.numel()); validates the state's sizes (UserError naming the field).
void nf4_dequantize(const Nf4Quantized& q, std::span<float> out);
// Dequantises elements [first, first + n) (first a multiple of the block size, n even): one row of a matrix
// whose rows are whole blocks, with the same arithmetic as nf4_dequantize. No validation (hot path; the state
// was checked when it was made or loaded).
void nf4_dequantize_range(const Nf4Quantized& q, int64_t first, int64_t n, float* out);
// The fp32 absmax per block (recovered from the 8-bit codes when nested), as dequantisation uses it.
std::vector<float> nf4_block_absmax(const Nf4Quantized& q);

// bitsandbytes' NF4 code book (get_4bit_type("nf4")) and its signed 8-bit dynamic map
// (create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)).
const std::array<float, 16>& nf4_code();
const std::array<float, 256>& bnb_dynamic_map();

namespace quant::bnb {
// torch.mean of an fp32 vector on CPU (8-lane cascade sum, `threads` intra-op threads), then / n.
float torch_mean_f32(std::span<const float> x, int threads);
// bnb's native CPU quantize_blockwise (8-bit codes into `code`, one fp32 absmax per block).
void quantize_blockwise_8bit(std::span<const float> x, int blocksize, const std::array<float, 256>& code, uint8_t* out,
                             float* absmax);
}  // namespace quant::bnb

}  // namespace scitune
