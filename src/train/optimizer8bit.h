// bitsandbytes' 8-bit AdamW as HF Trainer builds it for optim="adamw_8bit" (bitsandbytes.optim.AdamW with
// optim_bits=8; spec: ../shared/spec/trainer_quant_facts.md §5), bit for bit with the bitsandbytes 0.50 CPU
// backend (backends/cpu/ops.py + csrc/cpu_ops.cpp, torch 2.14 with FMA kernels), which is what our oracle runs:
//  - a tensor with fewer than 4096 elements keeps two fp32 states and takes the 32-bit update
//      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p *= 1 - lr wd;  p += (-lr c2 / c1) * m / (sqrt(v) + eps c2)
//    with c1 = 1 - b1^t, c2 = sqrt(1 - b2^t);
//  - larger tensors keep both moments as uint8 codes in blocks of 256 with one fp32 absmax per block and state:
//    m into create_dynamic_map(signed), v into create_dynamic_map(unsigned). A step dequantises (code * absmax),
//    updates m and v as above, then p *= 1 - lr wd;  p += (-lr / c1) * m / (sqrt(v) / c2 + eps), and quantises
//    m and v again against the new absmax = max |x| over the block;
//  - torch's kernels fuse `x + a * y` (add with alpha, addcmul) into one FMA; we call std::fma there and round
//    every other operation on its own (this file is compiled with -ffp-contract=off).
// Where the CPU backend differs from the CUDA kernel (the one most Trainer runs use): CUDA decays p after the
// Adam step, writes the update as s1 / (sqrt(s2) + eps c2) * (lr c2 / c1), quantises to the exact nearest code
// (binary search, then a sign fix for m), and skips non-finite gradient elements (their states zeroed). The CPU
// backend quantises through a 65536-bin table (CpuQuantizer below), so every |x| / absmax under 1.5e-5 takes the
// code nearest 1.5e-5 (a zero m comes back as 2.1e-5 absmax, a zero v as 1.6e-5 absmax), and it lets a NaN/Inf
// gradient turn the parameter into NaN and spoil the block's absmax. We follow the CPU backend except there: a
// non-finite gradient element zeroes its states and leaves its parameter alone, as CUDA does (the trainer stops on a
// non-finite gradient norm before that anyway).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "train/optimizer.h"

namespace scitune {

inline constexpr int64_t kBnbBlock = 256;         // elements per absmax (bitsandbytes >= 0.44)
inline constexpr int64_t kBnbMin8bitSize = 4096;  // min_8bit_size: smaller tensors keep fp32 states

// bitsandbytes.functional.create_dynamic_map(signed, max_exponent_bits=7, total_bits=8): 256 sorted codes in
// [-1, 1] (signed) or [0, 1], computed as that function does with torch's CPU linspace (FMA build).
std::array<float, 256> create_dynamic_map(bool is_signed);

// bitsandbytes' CPU block quantiser (csrc/cpu_ops.cpp quantize_cpu_impl) for one code map: absmax = max |x| over
// the block (all codes 0 when it is 0); v = clamp(x * (1 / absmax), -1, 1) goes to bin
// i = trunc(fma((v + 1) * 0.5, 65535, 0.5)) of 65536, and bin i to the code nearest -1 + 2 i / 65535 (ties to the
// lower code), precomputed in a table.
class CpuQuantizer {
 public:
  explicit CpuQuantizer(const std::array<float, 256>& code);
  const std::array<float, 256>& code() const { return code_; }
  uint8_t bin_code(int bin) const { return lut_[static_cast<size_t>(bin)]; }
  const uint8_t* table() const { return lut_.data(); }  // [65536]: bin -> code
  static int bin_of(float normalized);                  // the table index of x / absmax
  // codes [n] and absmax [ceil(n / 256)] of x [n].
  void quantize(std::span<const float> x, std::span<uint8_t> codes, std::span<float> absmax) const;

  static const CpuQuantizer& signed_map();    // state1 (first moment)
  static const CpuQuantizer& unsigned_map();  // state2 (second moment)

 private:
  std::array<float, 256> code_;
  std::vector<uint8_t> lut_;  // [65536]
};

// The per-step constants, rounded to fp32 where torch rounds its Python-float scalars.
struct Adam8bitScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  bool decay;                              // weight_decay > 0
  float decay_factor;                      // 1 - lr wd
  float correction2, eps, neg_lr_over_c1;  // 8-bit update
  float eps_c2, step_size;                 // 32-bit update: eps c2, -lr c2 / c1
  static Adam8bitScalars make(const AdamWConfig& cfg, int64_t step, double lr);
};

// One update of n elements: p [n], g [n]; 8-bit: codes [n], absmax [ceil(n / 256)]; 32-bit: m, v [n].
// The 8-bit blocks run on the thread pool; the result does not depend on the thread count.
void adamw8bit_update(std::span<float> p, std::span<const float> g, std::span<uint8_t> code1, std::span<uint8_t> code2,
                      std::span<float> absmax1, std::span<float> absmax2, const Adam8bitScalars& k);
void adamw32bit_update(std::span<float> p, std::span<const float> g, std::span<float> m, std::span<float> v,
                       const Adam8bitScalars& k);

namespace ref {
// The same update written plainly: whole-tensor dequantise, update, quantise with the bin table searched
// linearly instead of looked up. Tests hold the fast path to it.
void adamw8bit_update(std::span<float> p, std::span<const float> g, std::span<uint8_t> code1, std::span<uint8_t> code2,
                      std::span<float> absmax1, std::span<float> absmax2, const Adam8bitScalars& k);
}  // namespace ref

// The optimizer over an adapter. Checkpoint tensors, k in optimizer order: state1.<k> / state2.<k> (U8 codes,
// or F32 moments under min_8bit_size) and absmax1.<k> / absmax2.<k> (F32), bitsandbytes' state names.
class AdamW8bit : public Optimizer {
 public:
  AdamW8bit(const LoraAdapter& adapter, AdamWConfig config);
  void step(LoraAdapter& adapter, double lr) override;
  const char* name() const override { return "adamw_8bit"; }
  uint64_t state_bytes() const override;
  std::vector<TensorData> state_tensors() const override;
  void load_state(const SafetensorsFile& f) override;

  struct State {
    bool quantized = false;
    std::vector<uint8_t> code1, code2;    // [n] when quantized
    std::vector<float> absmax1, absmax2;  // [ceil(n / 256)] when quantized
    std::vector<float> m, v;              // [n] otherwise
  };
  const std::vector<State>& states() const { return states_; }

 private:
  AdamWConfig cfg_;
  std::vector<State> states_;  // per optimizer tensor
};

}  // namespace scitune
