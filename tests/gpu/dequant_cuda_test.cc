// CUDA dequantisation vs the CPU definition of the block formats. Skips cleanly without a GPU.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/cuda/dequant.cuh"
#include "util/half.h"

namespace scitune {
namespace {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!cuda::device_available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  }
};

TEST_F(CudaTest, Q8_0MatchesCpuDefinition) {
  const int64_t n = 32 * 1000;
  std::vector<uint8_t> blocks(n / 32 * 34);
  std::mt19937 rng(7);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  for (int64_t b = 0; b < n / 32; ++b) {  // finite scales only
    uint16_t d = fp32_to_fp16(std::ldexp(static_cast<float>(rng() % 1000) / 1000.0f, -(int)(rng() % 12)));
    std::memcpy(&blocks[b * 34], &d, 2);
  }
  std::vector<float> gpu(n);
  cuda::dequantize_q8_0(blocks.data(), gpu.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* blk = &blocks[(i / 32) * 34];
    float want = fp16_to_fp32(static_cast<uint16_t>(blk[0] | (blk[1] << 8))) * static_cast<int8_t>(blk[2 + i % 32]);
    ASSERT_EQ(f32_bits(gpu[i]), f32_bits(want)) << "i=" << i;
  }
}

TEST_F(CudaTest, Bf16IsExact) {
  std::vector<uint16_t> x(70000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint16_t>(i * 7919u);
  std::vector<float> y(x.size());
  cuda::dequantize_bf16(x.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(f32_bits(y[i]), static_cast<uint32_t>(x[i]) << 16);
}

}  // namespace
}  // namespace scitune
