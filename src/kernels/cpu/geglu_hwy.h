// Vectorised GeGLU-tanh ranges (geglu_hwy.cc) behind ops::geglu and ops::geglu_backward. Element-wise, so the
// outputs may alias the inputs exactly as those ops allow.
#pragma once
#include <cstdint>

namespace scitune::ops {

void geglu_range_hwy(float* out, const float* gate, const float* up, int64_t b, int64_t e);
void geglu_backward_range_hwy(float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                              int64_t b, int64_t e);

}  // namespace scitune::ops
