#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/dequant.cuh"
#include "util/error.h"

#define CUDA_CHECK(call)                                                                              \
  do {                                                                                                \
    cudaError_t err_ = (call);                                                                        \
    if (err_ != cudaSuccess)                                                                          \
      throw ::scitune::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " + \
                                     #call + ": " + cudaGetErrorString(err_));                        \
  } while (0)

namespace scitune::cuda {

namespace {

constexpr int kQ8Block = 32, kQ8Bytes = 34;

// One thread per value: block b = i / 32, scale is the fp16 at the block's first two bytes.
__global__ void dequant_q8_0_kernel(const uint8_t* __restrict__ q, float* __restrict__ y, int64_t n) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const uint8_t* blk = q + (i / kQ8Block) * kQ8Bytes;
  __half_raw raw;
  raw.x = static_cast<unsigned short>(blk[0] | (blk[1] << 8));
  y[i] = __half2float(__half(raw)) * static_cast<float>(static_cast<int8_t>(blk[2 + i % kQ8Block]));
}

__global__ void dequant_bf16_kernel(const uint16_t* __restrict__ x, float* __restrict__ y, int64_t n) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = __uint_as_float(static_cast<uint32_t>(x[i]) << 16);
}

// Copies `in_bytes` to the device, runs `launch(d_in, d_out)`, copies n floats back.
template <typename Launch>
void run_on_device(const void* in, size_t in_bytes, float* out, int64_t n, Launch launch) {
  void* d_in = nullptr;
  float* d_out = nullptr;
  CUDA_CHECK(cudaMalloc(&d_in, in_bytes));
  CUDA_CHECK(cudaMalloc(&d_out, n * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(d_in, in, in_bytes, cudaMemcpyHostToDevice));
  launch(d_in, d_out);
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaMemcpy(out, d_out, n * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(d_in));
  CUDA_CHECK(cudaFree(d_out));
}

constexpr int kThreads = 256;
unsigned grid_for(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

}  // namespace

bool device_available(std::string* why_not) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    if (why_not) *why_not = err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device";
    return false;
  }
  return true;
}

void dequantize_q8_0(const void* blocks, float* out, int64_t n) {
  SCITUNE_CHECK(n % kQ8Block == 0, "Q8_0 row length must be a multiple of 32");
  if (n == 0) return;
  run_on_device(blocks, static_cast<size_t>(n / kQ8Block) * kQ8Bytes, out, n, [&](void* d_in, float* d_out) {
    dequant_q8_0_kernel<<<grid_for(n), kThreads>>>(static_cast<const uint8_t*>(d_in), d_out, n);
  });
}

void dequantize_bf16(const uint16_t* in, float* out, int64_t n) {
  if (n == 0) return;
  run_on_device(in, static_cast<size_t>(n) * 2, out, n, [&](void* d_in, float* d_out) {
    dequant_bf16_kernel<<<grid_for(n), kThreads>>>(static_cast<const uint16_t*>(d_in), d_out, n);
  });
}

}  // namespace scitune::cuda
