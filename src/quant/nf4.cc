#include "quant/nf4.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "util/error.h"

namespace scitune {
namespace {

// bnb's torch.clamp(min=1e-38) floor for the block scale (1e-38 rounded to fp32, a subnormal).
const float kMinAbsmax = static_cast<float>(1e-38);

bool valid_blocksize(int64_t bs) { return bs >= 32 && bs <= 4096 && (bs & (bs - 1)) == 0; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// torch.bucketize(y, midpoints): the number of code midpoints strictly below y (ties go to the lower code).
struct Nf4Bounds {
  std::array<float, 15> mid;
  Nf4Bounds() {
    const auto& c = nf4_code();
    for (int i = 0; i < 15; ++i) mid[i] = (c[i] + c[i + 1]) / 2;
  }
  uint8_t index(float y) const {
    return static_cast<uint8_t>(std::lower_bound(mid.begin(), mid.end(), y) - mid.begin());
  }
};

void check_state(const Nf4Quantized& q) {
  const std::string where = "nf4 quant state: ";
  if (!valid_blocksize(q.blocksize))
    fail(where + "blocksize " + std::to_string(q.blocksize) + " is not a power of two in 32..4096");
  for (int64_t d : q.shape)
    if (d < 0) fail(where + "shape has a negative dimension");
  const int64_t n = q.numel(), nb = q.num_blocks();
  if (static_cast<int64_t>(q.packed.size()) != (n + 1) / 2)
    fail(where + "weight has " + std::to_string(q.packed.size()) + " bytes but shape holds " + std::to_string(n) +
         " values (expected " + std::to_string((n + 1) / 2) + ")");
  if (!q.nested) {
    if (static_cast<int64_t>(q.absmax.size()) != nb)
      fail(where + "absmax has " + std::to_string(q.absmax.size()) + " entries but " + std::to_string(n) +
           " values in blocks of " + std::to_string(q.blocksize) + " need " + std::to_string(nb));
    return;
  }
  if (q.nested_blocksize <= 0) fail(where + "nested_blocksize must be positive");
  if (static_cast<int64_t>(q.absmax_q.size()) != nb)
    fail(where + "absmax (uint8) has " + std::to_string(q.absmax_q.size()) + " entries, expected " +
         std::to_string(nb));
  const int64_t nb2 = ceil_div(nb, q.nested_blocksize);
  if (static_cast<int64_t>(q.nested_absmax.size()) != nb2)
    fail(where + "nested_absmax has " + std::to_string(q.nested_absmax.size()) + " entries, expected " +
         std::to_string(nb2));
}

}  // namespace

int64_t Nf4Quantized::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t Nf4Quantized::num_blocks() const { return blocksize > 0 ? ceil_div(numel(), blocksize) : 0; }

const std::array<float, 16>& nf4_code() {
  // Written as doubles and rounded once to fp32, exactly as torch.tensor() turns bnb's Python list into fp32.
  static const std::array<float, 16> kCode = [] {
    static constexpr double kValues[16] = {-1.0,
                                           -0.6961928009986877,
                                           -0.5250730514526367,
                                           -0.39491748809814453,
                                           -0.28444138169288635,
                                           -0.18477343022823334,
                                           -0.09105003625154495,
                                           0.0,
                                           0.07958029955625534,
                                           0.16093020141124725,
                                           0.24611230194568634,
                                           0.33791524171829224,
                                           0.44070982933044434,
                                           0.5626170039176941,
                                           0.7229568362236023,
                                           1.0};
    std::array<float, 16> c;
    for (int i = 0; i < 16; ++i) c[i] = static_cast<float>(kValues[i]);
    return c;
  }();
  return kCode;
}

Nf4Quantized nf4_quantize(std::span<const float> x, int blocksize, bool double_quant, int torch_threads) {
  if (!valid_blocksize(blocksize))
    fail("nf4: blocksize " + std::to_string(blocksize) + " is not a power of two in 32..4096");
  if (x.empty()) fail("nf4: cannot quantise an empty tensor");
  SCITUNE_CHECK(torch_threads >= 1, "nf4_quantize: torch_threads must be >= 1");
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]))
      fail("nf4: element " + std::to_string(i) + " is " + (std::isnan(x[i]) ? "NaN" : "infinite") +
           "; NF4 needs finite weights");

  static const Nf4Bounds kBounds;
  const auto n = static_cast<int64_t>(x.size());
  Nf4Quantized q;
  q.shape = {n};
  q.blocksize = blocksize;
  q.quant_map = nf4_code();
  q.packed.assign(static_cast<size_t>((n + 1) / 2), 0);
  std::vector<float> absmax(static_cast<size_t>(ceil_div(n, blocksize)));
  const int64_t full = n - n % blocksize;
  for (int64_t b = 0, start = 0; start < n; ++b, start += blocksize) {
    const int64_t end = std::min<int64_t>(start + blocksize, n);
    float amax = 0.0f;
    for (int64_t i = start; i < end; ++i) amax = std::max(amax, std::fabs(x[i]));
    // Full blocks multiply by a reciprocal and keep the raw absmax; the tail block (torch's separate
    // expression) divides and stores the clamped value.
    const bool tail = start >= full;
    const float am = std::max(amax, kMinAbsmax);
    const float inv = 1.0f / am;
    absmax[b] = tail ? am : amax;
    for (int64_t i = start; i < end; ++i) {
      const float y = std::clamp(tail ? x[i] / am : x[i] * inv, -1.0f, 1.0f);
      const uint8_t code = kBounds.index(y);
      q.packed[i / 2] |= static_cast<uint8_t>(i % 2 == 0 ? code << 4 : code);
    }
  }
  if (n % 2) q.packed.back() |= kBounds.index(0.0f);  // torch pads an odd count with 0.0, i.e. code 7
  if (!double_quant) {
    q.absmax = std::move(absmax);
    return q;
  }
  q.nested = true;
  q.nested_quant_map = bnb_dynamic_map();
  q.nested_offset = quant::bnb::torch_mean_f32(absmax, torch_threads);
  if (!std::isfinite(q.nested_offset)) fail("nf4: the mean of the block absmax values overflows fp32");
  for (float& a : absmax) a -= q.nested_offset;
  q.absmax_q.resize(absmax.size());
  q.nested_absmax.resize(static_cast<size_t>(ceil_div(static_cast<int64_t>(absmax.size()), q.nested_blocksize)));
  quant::bnb::quantize_blockwise_8bit(absmax, q.nested_blocksize, q.nested_quant_map, q.absmax_q.data(),
                                      q.nested_absmax.data());
  return q;
}

std::vector<float> nf4_block_absmax(const Nf4Quantized& q) {
  check_state(q);
  if (!q.nested) return q.absmax;
  std::vector<float> a(q.absmax_q.size());
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = q.nested_quant_map[q.absmax_q[i]] * q.nested_absmax[i / static_cast<size_t>(q.nested_blocksize)];
    a[i] += q.nested_offset;  // bnb: dequantize_blockwise, then absmax += offset (two roundings)
  }
  return a;
}

void nf4_dequantize(const Nf4Quantized& q, std::span<float> out) {
  const std::vector<float> absmax = nf4_block_absmax(q);
  const int64_t n = q.numel();
  SCITUNE_CHECK(static_cast<int64_t>(out.size()) == n, "nf4_dequantize: output size does not match the shape");
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t byte = q.packed[static_cast<size_t>(i / 2)];
    const int code = i % 2 == 0 ? byte >> 4 : byte & 0x0F;
    out[static_cast<size_t>(i)] = q.quant_map[code] * absmax[static_cast<size_t>(i / q.blocksize)];
  }
}

void nf4_dequantize_range(const Nf4Quantized& q, int64_t first, int64_t n, float* out) {
  const int64_t bs = q.blocksize;
  for (int64_t b0 = first; b0 < first + n; b0 += bs) {
    const int64_t blk = b0 / bs;
    float absmax;
    if (q.nested) {
      absmax = q.nested_quant_map[q.absmax_q[static_cast<size_t>(blk)]] *
               q.nested_absmax[static_cast<size_t>(blk / q.nested_blocksize)];
      absmax += q.nested_offset;  // two roundings, as nf4_block_absmax
    } else {
      absmax = q.absmax[static_cast<size_t>(blk)];
    }
    const int64_t end = std::min(b0 + bs, first + n);
    const uint8_t* p = q.packed.data() + b0 / 2;
    float* o = out + (b0 - first);
    for (int64_t i = 0; i < end - b0; i += 2) {
      const uint8_t byte = p[i / 2];
      o[i] = q.quant_map[byte >> 4] * absmax;
      o[i + 1] = q.quant_map[byte & 0x0F] * absmax;
    }
  }
}

}  // namespace scitune
