// The LoRA branch of an adapted projection, forward and backward, and its seeded dropout.
//   forward:  u = drop(x) · Aᵀ            [N, r]   (saved for backward)
//             y += scale · u · Bᵀ          [N, out]
//   backward: dB += scale · dyᵀ · u,  du = scale · dy · B,  dA += duᵀ · drop(x),  dx += drop'(du · A)
// Dropout keeps each input element with probability 1 - p and scales it by 1 / (1 - p), like nn.Dropout; the
// mask is a hash of (seed, element index), so backward regenerates it instead of storing it.
#pragma once
#include <cstdint>
#include <vector>

#include "model/gemma3.h"
#include "train/lora.h"

namespace scitune::lora {

struct Dropout {
  float p = 0;          // 0: off
  uint64_t seed = 0;    // distinct per step, layer and module
  bool keep(uint64_t index) const;
};

// u[N, r] = drop(x)[N, in] · Aᵀ; y[N, out] += scale · u · Bᵀ.
void forward(float* y, float* u, const float* x, const LoraModule& m, int64_t N, const Dropout& drop);
// Accumulates m.dA, m.dB; adds the LoRA path's input gradient to dx[N, in].
void backward(float* dx, const float* dy, const float* x, const float* u, LoraModule& m, int64_t N,
              const Dropout& drop);

// The adapter as a Gemma3 projection hook for inference (no dropout). The adapter must outlive the model.
ProjectionHook inference_hook(const LoraAdapter& adapter);

}  // namespace scitune::lora
