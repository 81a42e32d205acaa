// CUDA dequantisation kernels. Same block layouts as src/quant (ggml), checked against the CPU reference.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace scitune::cuda {

// True when a CUDA device can be used (driver present and at least one device). Never throws.
bool device_available(std::string* why_not = nullptr);

// Dequantise n values of Q8_0 blocks (34 bytes per 32 values) or BF16 from host memory to host floats,
// running on the GPU. Throws InternalError (with file:line of the failing CUDA call) on any CUDA error.
void dequantize_q8_0(const void* blocks, float* out, int64_t n);
void dequantize_bf16(const uint16_t* in, float* out, int64_t n);

}  // namespace scitune::cuda
