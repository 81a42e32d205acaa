// The parts of bitsandbytes' CPU path that NF4 double quantisation depends on, reproduced bit for bit:
// torch's fp32 mean (cascade sum), the signed dynamic 8-bit map, and bnb's native 8-bit blockwise quantizer.
// Compiled with -ffp-contract=off; the one fused multiply-add bnb's binary really performs is written out.
#include <algorithm>
#include <cmath>
#include <vector>

#include "quant/nf4.h"
#include "util/error.h"

namespace scitune {
namespace quant::bnb {
namespace {

// torch/ATen cascade_sum on a contiguous fp32 row (aten/src/ATen/native/cpu/SumKernel.cpp): W-lane vectors,
// 4-way ILP, 4 accumulator levels of 2^level_power rows each. W = 8: torch's CPU sum runs its 8-lane (AVX2)
// kernel even on AVX-512 machines (checked against the oracle's torch 2.14; 16 lanes gives different sums);
// W = 1 for rows shorter than one vector.
template <int W>
struct Vec {
  float v[W] = {};
  void add(const Vec& o) {
    for (int i = 0; i < W; ++i) v[i] += o.v[i];
  }
  static Vec load(const float* p) {
    Vec r;
    for (int i = 0; i < W; ++i) r.v[i] = p[i];
    return r;
  }
};

int64_t ceil_log2(int64_t x) {  // utils::CeilLog2
  if (x <= 2) return 1;
  int64_t last = 63;
  while (((static_cast<uint64_t>(x) - 1) >> last) == 0) --last;
  return last + 1;
}

// multi_row_sum with nrows = 4: `size` rows of 4 vectors each, row i starting at data + 4*W*i.
template <int W>
std::array<Vec<W>, 4> multi_row_sum(const float* data, int64_t size) {
  constexpr int kLevels = 4;
  const int64_t level_power = std::max<int64_t>(4, ceil_log2(size) / kLevels);
  const int64_t level_step = int64_t{1} << level_power;
  const int64_t level_mask = level_step - 1;
  std::array<std::array<Vec<W>, 4>, kLevels> acc{};
  auto add_row = [&](int64_t i) {
    for (int k = 0; k < 4; ++k) acc[0][k].add(Vec<W>::load(data + (4 * i + k) * W));
  };
  int64_t i = 0;
  while (i + level_step <= size) {
    for (int64_t j = 0; j < level_step; ++j, ++i) add_row(i);
    for (int j = 1; j < kLevels; ++j) {
      for (int k = 0; k < 4; ++k) {
        acc[j][k].add(acc[j - 1][k]);
        acc[j - 1][k] = Vec<W>{};
      }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < size; ++i) add_row(i);
  for (int j = 1; j < kLevels; ++j)
    for (int k = 0; k < 4; ++k) acc[0][k].add(acc[j][k]);
  return acc[0];
}

// row_sum: the first nvec vectors of data with ilp factor 4.
template <int W>
Vec<W> row_sum(const float* data, int64_t nvec) {
  const int64_t size_ilp = nvec / 4;
  auto partial = multi_row_sum<W>(data, size_ilp);
  for (int64_t i = size_ilp * 4; i < nvec; ++i) partial[0].add(Vec<W>::load(data + i * W));
  for (int k = 1; k < 4; ++k) partial[0].add(partial[k]);
  return partial[0];
}

// One call of the sum kernel on x[0..n), accumulated into an output that starts at 0.
float cascade_sum(const float* x, int64_t n) {
  constexpr int kW = 8;
  if (n < kW) return 0.0f + row_sum<1>(x, n).v[0];
  const int64_t vec_size = n / kW;
  const Vec<kW> vacc = row_sum<kW>(x, vec_size);
  float acc = 0;
  for (int64_t k = vec_size * kW; k < n; ++k) acc += x[k];
  for (int k = 0; k < kW; ++k) acc += vacc.v[k];
  return 0.0f + acc;
}

// bnb's 65536-entry table: the index of the first code midpoint >= the bin's value.
std::vector<uint8_t> build_lut(const std::array<float, 256>& code) {
  std::array<float, 255> mid;
  for (int i = 0; i < 255; ++i) mid[i] = 0.5f * (code[i] + code[i + 1]);
  std::vector<uint8_t> lut(65536);
  int idx = 0;
  for (int i = 0; i < 65536; ++i) {
    const float val = -1.0f + (2.0f * static_cast<float>(i)) / 65535.0f;
    while (idx < 255 && mid[idx] < val) ++idx;
    lut[i] = static_cast<uint8_t>(idx);
  }
  return lut;
}

// bnb's norm_to_lut_index: (clamp(v) + 1) * 0.5 * 65535 + 0.5, the last multiply-add fused in bnb's binary.
inline uint16_t lut_index(float v) {
  v = std::clamp(v, -1.0f, 1.0f);
  return static_cast<uint16_t>(static_cast<int32_t>(std::fma((v + 1.0f) * 0.5f, 65535.0f, 0.5f)));
}

}  // namespace

float torch_mean_f32(std::span<const float> x, int threads) {
  SCITUNE_CHECK(!x.empty() && threads >= 1, "torch_mean_f32: empty input or no threads");
  const auto n = static_cast<int64_t>(x.size());
  constexpr int64_t kGrain = 32768;  // at::internal::GRAIN_SIZE
  float sum;
  if (n < kGrain || threads == 1) {
    sum = cascade_sum(x.data(), n);
  } else {
    // two_pass_reduction: at::parallel_for chunks, one partial per thread, then a sum over the partials.
    const int64_t nt = std::min<int64_t>(threads, (n + kGrain - 1) / kGrain);
    const int64_t chunk = (n + nt - 1) / nt;
    std::vector<float> partial(static_cast<size_t>(threads), 0.0f);
    for (int64_t t = 0; t < nt && t * chunk < n; ++t)
      partial[t] = 0.0f + cascade_sum(x.data() + t * chunk, std::min(chunk, n - t * chunk));
    sum = cascade_sum(partial.data(), threads);
  }
  return sum / static_cast<float>(n);
}

void quantize_blockwise_8bit(std::span<const float> x, int blocksize, const std::array<float, 256>& code, uint8_t* out,
                             float* absmax) {
  SCITUNE_CHECK(blocksize > 0, "quantize_blockwise_8bit: blocksize must be positive");
  const std::vector<uint8_t> lut = build_lut(code);  // ~0.1 ms; bnb caches it, the result is the same
  const auto n = static_cast<int64_t>(x.size());
  for (int64_t b = 0, start = 0; start < n; ++b, start += blocksize) {
    const int64_t end = std::min<int64_t>(start + blocksize, n);
    float amax = 0.0f;
    for (int64_t i = start; i < end; ++i) amax = std::max(amax, std::fabs(x[i]));
    absmax[b] = amax;
    if (amax == 0.0f) {
      std::fill(out + start, out + end, uint8_t{0});
      continue;
    }
    const float inv = 1.0f / amax;
    for (int64_t i = start; i < end; ++i) out[i] = lut[lut_index(x[i] * inv)];
  }
}

}  // namespace quant::bnb

const std::array<float, 256>& bnb_dynamic_map() {
  static const std::array<float, 256> kMap = [] {
    // create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for i = 0..6 the midpoints of
    // torch.linspace(0.1, 1, 2^i + 1) (fp32; torch's CPU linspace evaluates start + step*idx as one fused
    // multiply-add, from the end for the upper half), scaled by +-10^(i-6) in fp32, plus 0 and 1, sorted.
    static constexpr double kPow10[7] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
    std::vector<float> data;
    for (int i = 0; i < 7; ++i) {
      const int steps = (1 << i) + 1;
      const float start = static_cast<float>(0.1), end = 1.0f;
      const float step = (end - start) / static_cast<float>(steps - 1);
      std::vector<float> b(static_cast<size_t>(steps));
      for (int idx = 0; idx < steps; ++idx)
        b[idx] = idx < steps / 2 ? std::fma(step, static_cast<float>(idx), start)
                                 : std::fma(-step, static_cast<float>(steps - idx - 1), end);
      const auto scale = static_cast<float>(kPow10[i]);
      for (int k = 0; k + 1 < steps; ++k) {
        const float mean = (b[k] + b[k + 1]) / 2.0f;
        data.push_back(scale * mean);
        data.push_back(-scale * mean);
      }
    }
    data.push_back(0.0f);
    data.push_back(1.0f);
    SCITUNE_CHECK(data.size() == 256, "dynamic map must have 256 entries");
    std::sort(data.begin(), data.end());
    std::array<float, 256> m;
    std::copy(data.begin(), data.end(), m.begin());
    return m;
  }();
  return kMap;
}

}  // namespace scitune
