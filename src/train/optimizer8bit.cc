#include "train/optimizer8bit.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/thread_pool.h"
#include "util/error.h"

namespace scitune {

namespace {

// torch.linspace(start, end, steps) in fp32 on CPU (RangeFactoriesKernel.cpp): step = (end - start) / (steps - 1)
// in fp32, the first half start + step * i, the rest end - step * (steps - 1 - i); torch's build contracts both
// into one FMA (checked against the oracle's maps: without FMA 31-42 of 256 codes differ).
std::vector<float> torch_linspace(float start, float end, int64_t steps) {
  const float step = (end - start) / static_cast<float>(steps - 1);
  std::vector<float> v(static_cast<size_t>(steps));
  for (int64_t i = 0; i < steps; ++i)
    v[static_cast<size_t>(i)] = i < steps / 2 ? std::fma(step, static_cast<float>(i), start)
                                              : std::fma(-step, static_cast<float>(steps - 1 - i), end);
  return v;
}

int64_t blocks_of(int64_t n) { return (n + kBnbBlock - 1) / kBnbBlock; }

// x86-64 without -march has no FMA instruction, so std::fma is a libm call; the hot loops are compiled a second
// time for FMA CPUs (chosen at load time), where it is one instruction. Both round identically.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SCITUNE_FMA_CLONES __attribute__((target_clones("fma", "default")))
#else
#define SCITUNE_FMA_CLONES
#endif

[[gnu::always_inline]] inline int bin_index(float normalized) {
  const float v = std::clamp(normalized, -1.0f, 1.0f);
  if (std::isnan(v)) return 0;  // what x86's truncating conversion gives bitsandbytes (0x80000000 -> 0)
  return static_cast<int>(std::fma((v + 1.0f) * 0.5f, 65535.0f, 0.5f));
}

// codes [len] and *absmax of one block x [len] through the bin table lut [65536].
[[gnu::always_inline]] inline void quantize_block(const float* x, int64_t len, const uint8_t* lut, uint8_t* codes,
                                                  float* absmax) {
  float amax = 0.0f;  // std::max keeps amax when |x| is NaN, as bitsandbytes' loop does
  for (int64_t i = 0; i < len; ++i) amax = std::max(amax, std::fabs(x[i]));
  *absmax = amax;
  if (amax == 0.0f) {
    for (int64_t i = 0; i < len; ++i) codes[i] = 0;
    return;
  }
  const float inv = 1.0f / amax;
  for (int64_t i = 0; i < len; ++i) codes[i] = lut[bin_index(x[i] * inv)];
}

SCITUNE_FMA_CLONES void quantize_blocks(const float* x, int64_t n, const uint8_t* lut, uint8_t* codes, float* absmax) {
  for (int64_t b = 0, s = 0; s < n; ++b, s += kBnbBlock)
    quantize_block(x + s, std::min(kBnbBlock, n - s), lut, codes + s, absmax + b);
}

}  // namespace

std::array<float, 256> create_dynamic_map(bool is_signed) {
  constexpr int kMaxExponentBits = 7, kNonSignBits = 7;  // total_bits 8
  // Python's 10 ** (i - 6), a double (correctly rounded literals); torch rounds the scalar to fp32.
  constexpr double kPow10[kMaxExponentBits] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
  std::vector<float> data;
  for (int i = 0; i < kMaxExponentBits; ++i) {
    const int64_t fraction_items = (int64_t{1} << (i + kNonSignBits - kMaxExponentBits + (is_signed ? 0 : 1))) + 1;
    const std::vector<float> b = torch_linspace(0.1f, 1.0f, fraction_items);
    const float scale = static_cast<float>(kPow10[i]);
    for (size_t j = 0; j + 1 < b.size(); ++j) {
      const float mean = (b[j] + b[j + 1]) / 2.0f;
      data.push_back(scale * mean);
      if (is_signed) data.push_back(-(scale * mean));
    }
  }
  // additional_items = 2^(non_sign_bits - max_exponent_bits) - 1 = 0 for 8 bits.
  data.push_back(0.0f);
  data.push_back(1.0f);
  SCITUNE_CHECK(data.size() == 256, "create_dynamic_map makes 256 codes");
  std::sort(data.begin(), data.end());
  std::array<float, 256> out;
  std::copy(data.begin(), data.end(), out.begin());
  return out;
}

CpuQuantizer::CpuQuantizer(const std::array<float, 256>& code) : code_(code), lut_(65536) {
  float mid[255];
  for (int i = 0; i < 255; ++i) mid[i] = 0.5f * (code[i] + code[i + 1]);
  int c = 0;
  for (int i = 0; i < 65536; ++i) {
    const float val = -1.0f + (2.0f * static_cast<float>(i)) / 65535.0f;
    while (c < 255 && mid[c] < val) ++c;
    lut_[static_cast<size_t>(i)] = static_cast<uint8_t>(c);
  }
}

int CpuQuantizer::bin_of(float normalized) { return bin_index(normalized); }

void CpuQuantizer::quantize(std::span<const float> x, std::span<uint8_t> codes, std::span<float> absmax) const {
  const int64_t n = static_cast<int64_t>(x.size());
  SCITUNE_CHECK(codes.size() == x.size() && static_cast<int64_t>(absmax.size()) == blocks_of(n),
                "quantize: sizes match");
  quantize_blocks(x.data(), n, lut_.data(), codes.data(), absmax.data());
}

const CpuQuantizer& CpuQuantizer::signed_map() {
  static const CpuQuantizer q(create_dynamic_map(true));
  return q;
}

const CpuQuantizer& CpuQuantizer::unsigned_map() {
  static const CpuQuantizer q(create_dynamic_map(false));
  return q;
}

Adam8bitScalars Adam8bitScalars::make(const AdamWConfig& cfg, int64_t step, double lr) {
  // bitsandbytes computes these in Python floats; torch rounds each scalar operand to fp32.
  const double c1 = 1.0 - std::pow(cfg.beta1, static_cast<double>(step));
  const double c2 = std::sqrt(1.0 - std::pow(cfg.beta2, static_cast<double>(step)));
  Adam8bitScalars k;
  k.beta1 = static_cast<float>(cfg.beta1);
  k.one_minus_beta1 = static_cast<float>(1.0 - cfg.beta1);
  k.beta2 = static_cast<float>(cfg.beta2);
  k.one_minus_beta2 = static_cast<float>(1.0 - cfg.beta2);
  k.decay = cfg.weight_decay > 0.0;
  k.decay_factor = static_cast<float>(1.0 - lr * cfg.weight_decay);
  k.correction2 = static_cast<float>(c2);
  k.eps = static_cast<float>(cfg.eps);
  k.neg_lr_over_c1 = static_cast<float>(-lr / c1);
  k.eps_c2 = static_cast<float>(cfg.eps * c2);
  k.step_size = static_cast<float>(-lr * c2 / c1);
  return k;
}

namespace {

// m and v of one element, updated from g as torch does it: mul_(b) then add_(g, alpha) / addcmul_(g, g, value),
// each add one FMA.
[[gnu::always_inline]] inline void update_moments(float& m, float& v, float g, const Adam8bitScalars& k) {
  m = std::fma(g, k.one_minus_beta1, m * k.beta1);
  v = std::fma(k.one_minus_beta2 * g, g, v * k.beta2);
}

// p after the 8-bit path's mul_(1 - lr wd) and addcdiv_(m, sqrt(v) / c2 + eps, value=-lr / c1).
[[gnu::always_inline]] inline float update_param_8bit(float p, float m, float v, const Adam8bitScalars& k) {
  if (k.decay) p *= k.decay_factor;
  const float denom = std::sqrt(v) / k.correction2 + k.eps;
  return p + (k.neg_lr_over_c1 * m) / denom;
}

void check_sizes(size_t n, size_t c1, size_t c2, size_t a1, size_t a2) {
  const size_t blocks = static_cast<size_t>(blocks_of(static_cast<int64_t>(n)));
  SCITUNE_CHECK(c1 == n && c2 == n && a1 == blocks && a2 == blocks, "8-bit optimizer state matches the tensor");
}

// Blocks [b0, b1) of the 8-bit update: dequantise, update m, v and p, quantise against the new absmax.
SCITUNE_FMA_CLONES void update_blocks(int64_t b0, int64_t b1, int64_t n, float* p, const float* g, uint8_t* code1,
                                      uint8_t* code2, float* absmax1, float* absmax2, const Adam8bitScalars& k) {
  const CpuQuantizer& q1 = CpuQuantizer::signed_map();
  const CpuQuantizer& q2 = CpuQuantizer::unsigned_map();
  const float* map1 = q1.code().data();
  const float* map2 = q2.code().data();
  float m[kBnbBlock], v[kBnbBlock];  // one block's new moments, quantised once the block's absmax is known
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t s = b * kBnbBlock, len = std::min(kBnbBlock, n - s);
    const float a1 = absmax1[b], a2 = absmax2[b];
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = s + j;
      if (!std::isfinite(g[i])) {
        m[j] = v[j] = 0.0f;
        continue;
      }
      m[j] = map1[code1[i]] * a1;
      v[j] = map2[code2[i]] * a2;
      update_moments(m[j], v[j], g[i], k);
      p[i] = update_param_8bit(p[i], m[j], v[j], k);
    }
    quantize_block(m, len, q1.table(), code1 + s, absmax1 + b);
    quantize_block(v, len, q2.table(), code2 + s, absmax2 + b);
  }
}

}  // namespace

void adamw8bit_update(std::span<float> p, std::span<const float> g, std::span<uint8_t> code1, std::span<uint8_t> code2,
                      std::span<float> absmax1, std::span<float> absmax2, const Adam8bitScalars& k) {
  SCITUNE_CHECK(g.size() == p.size(), "gradient matches the parameter");
  check_sizes(p.size(), code1.size(), code2.size(), absmax1.size(), absmax2.size());
  const int64_t n = static_cast<int64_t>(p.size());
  ThreadPool::global().parallel_for(blocks_of(n), [&](int64_t b0, int64_t b1) {
    update_blocks(b0, b1, n, p.data(), g.data(), code1.data(), code2.data(), absmax1.data(), absmax2.data(), k);
  });
}

void adamw32bit_update(std::span<float> p, std::span<const float> g, std::span<float> m, std::span<float> v,
                       const Adam8bitScalars& k) {
  SCITUNE_CHECK(g.size() == p.size() && m.size() == p.size() && v.size() == p.size(),
                "32-bit optimizer state matches the tensor");
  for (size_t i = 0; i < p.size(); ++i) {
    if (!std::isfinite(g[i])) {
      m[i] = v[i] = 0.0f;
      continue;
    }
    update_moments(m[i], v[i], g[i], k);
    float pi = p[i];
    if (k.decay) pi *= k.decay_factor;
    // update = m / (sqrt(v) + eps c2);  p.add_(update, alpha=step_size): one FMA
    p[i] = std::fma(m[i] / (std::sqrt(v[i]) + k.eps_c2), k.step_size, pi);
  }
}

void ref::adamw8bit_update(std::span<float> p, std::span<const float> g, std::span<uint8_t> code1,
                           std::span<uint8_t> code2, std::span<float> absmax1, std::span<float> absmax2,
                           const Adam8bitScalars& k) {
  check_sizes(p.size(), code1.size(), code2.size(), absmax1.size(), absmax2.size());
  const std::array<float, 256>& map1 = CpuQuantizer::signed_map().code();
  const std::array<float, 256>& map2 = CpuQuantizer::unsigned_map().code();
  const size_t n = p.size();
  std::vector<float> m(n), v(n);
  for (size_t i = 0; i < n; ++i) {
    m[i] = map1[code1[i]] * absmax1[i / kBnbBlock];
    v[i] = map2[code2[i]] * absmax2[i / kBnbBlock];
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(g[i])) {
      m[i] = v[i] = 0.0f;
      continue;
    }
    m[i] = std::fma(g[i], k.one_minus_beta1, m[i] * k.beta1);
    v[i] = std::fma(k.one_minus_beta2 * g[i], g[i], v[i] * k.beta2);
    if (k.decay) p[i] *= k.decay_factor;
    p[i] += (k.neg_lr_over_c1 * m[i]) / (std::sqrt(v[i]) / k.correction2 + k.eps);
  }
  // Quantise: nearest code to the centre of the value's bin, by a linear scan of the midpoints.
  const auto quantize = [&](const std::vector<float>& x, const std::array<float, 256>& map, std::span<uint8_t> codes,
                            std::span<float> absmax) {
    for (size_t s = 0; s < n; s += kBnbBlock) {
      const size_t e = std::min(n, s + kBnbBlock);
      float amax = 0.0f;
      for (size_t i = s; i < e; ++i) amax = std::max(amax, std::fabs(x[i]));
      absmax[s / kBnbBlock] = amax;
      for (size_t i = s; i < e; ++i) {
        if (amax == 0.0f) {
          codes[i] = 0;
          continue;
        }
        const int bin = CpuQuantizer::bin_of(x[i] * (1.0f / amax));
        const float centre = -1.0f + (2.0f * static_cast<float>(bin)) / 65535.0f;
        int c = 0;
        for (int j = 0; j < 255; ++j) c += 0.5f * (map[j] + map[j + 1]) < centre;
        codes[i] = static_cast<uint8_t>(c);
      }
    }
  };
  quantize(m, map1, code1, absmax1);
  quantize(v, map2, code2, absmax2);
}

AdamW8bit::AdamW8bit(const LoraAdapter& adapter, AdamWConfig config) : cfg_(config) {
  for (size_t k = 0; k < lora_tensor_count(adapter); ++k) {
    const size_t n = lora_param(adapter, k).size();
    State s;
    s.quantized = static_cast<int64_t>(n) >= kBnbMin8bitSize;
    if (s.quantized) {
      s.code1.assign(n, 0);
      s.code2.assign(n, 0);
      s.absmax1.assign(static_cast<size_t>(blocks_of(static_cast<int64_t>(n))), 0.0f);
      s.absmax2 = s.absmax1;
    } else {
      s.m.assign(n, 0.0f);
      s.v.assign(n, 0.0f);
    }
    states_.push_back(std::move(s));
  }
}

void AdamW8bit::step(LoraAdapter& adapter, double lr) {
  ++t_;
  const Adam8bitScalars k = Adam8bitScalars::make(cfg_, t_, lr);
  for (size_t i = 0; i < states_.size(); ++i) {
    State& s = states_[i];
    std::vector<float>& p = lora_param(adapter, i);
    const std::vector<float>& g = lora_grad(adapter, i);
    if (s.quantized)
      adamw8bit_update(p, g, s.code1, s.code2, s.absmax1, s.absmax2, k);
    else
      adamw32bit_update(p, g, s.m, s.v, k);
  }
}

uint64_t AdamW8bit::state_bytes() const {
  uint64_t n = 0;
  for (const State& s : states_)
    n += s.code1.size() + s.code2.size() +
         (s.absmax1.size() + s.absmax2.size() + s.m.size() + s.v.size()) * sizeof(float);
  return n;
}

namespace {
template <class T>
TensorData tensor_of(const std::string& name, DType dtype, const std::vector<T>& v) {
  return {{name, dtype, {static_cast<int64_t>(v.size())}},
          {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)}};
}

template <class T>
void read_tensor(const SafetensorsFile& f, const std::string& name, DType dtype, std::vector<T>& dst) {
  const TensorView t = f.tensor(name);
  if (t.dtype() != dtype || t.numel() != dst.size())
    fail(f.path().string() + ": " + name + " is " + std::string(dtype_name(t.dtype())) + " " +
         shape_to_string(t.shape()) + ", expected " + std::string(dtype_name(dtype)) + " [" +
         std::to_string(dst.size()) + "] (a checkpoint of a different adapter or optimizer?)");
  std::memcpy(dst.data(), t.data.data(), dst.size() * sizeof(T));
}
}  // namespace

std::vector<TensorData> AdamW8bit::state_tensors() const {
  std::vector<TensorData> t;
  for (size_t k = 0; k < states_.size(); ++k) {
    const State& s = states_[k];
    const std::string i = std::to_string(k);
    if (s.quantized) {
      t.push_back(tensor_of("state1." + i, DType::U8, s.code1));
      t.push_back(tensor_of("state2." + i, DType::U8, s.code2));
      t.push_back(tensor_of("absmax1." + i, DType::F32, s.absmax1));
      t.push_back(tensor_of("absmax2." + i, DType::F32, s.absmax2));
    } else {
      t.push_back(tensor_of("state1." + i, DType::F32, s.m));
      t.push_back(tensor_of("state2." + i, DType::F32, s.v));
    }
  }
  return t;
}

void AdamW8bit::load_state(const SafetensorsFile& f) {
  for (size_t k = 0; k < states_.size(); ++k) {
    State& s = states_[k];
    const std::string i = std::to_string(k);
    if (s.quantized) {
      read_tensor(f, "state1." + i, DType::U8, s.code1);
      read_tensor(f, "state2." + i, DType::U8, s.code2);
      read_tensor(f, "absmax1." + i, DType::F32, s.absmax1);
      read_tensor(f, "absmax2." + i, DType::F32, s.absmax2);
    } else {
      read_tensor(f, "state1." + i, DType::F32, s.m);
      read_tensor(f, "state2." + i, DType::F32, s.v);
    }
  }
}

}  // namespace scitune
