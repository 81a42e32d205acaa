#include "kernels/cpu/gemm_bf16.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "kernels/cpu/thread_pool.h"
#include "util/half.h"

namespace scitune::ops {

namespace {

struct Dnnl {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  // Primitives are expensive to create (JIT): one per shape, reused.
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool>;  // M N K lda ldb ldc
  std::map<Key, dnnl::matmul> cache;
  std::mutex mu;
};

Dnnl& dnnl_state() {
  static Dnnl d;
  return d;
}

}  // namespace

bool bf16_gemm_available() {
  static const bool ok = __builtin_cpu_supports("avx512bf16");
  return ok;
}

void gemm_bf16(float* C, int64_t ldc, const uint16_t* A, int64_t lda, const uint16_t* B, int64_t ldb, int64_t M,
               int64_t N, int64_t K, bool trans_b, bool accumulate) {
  if (M == 0 || N == 0) return;
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  Dnnl& d = dnnl_state();
  std::lock_guard<std::mutex> lock(d.mu);
  const dnnl::memory::desc a_md({M, K}, dt::bf16, dnnl::memory::dims{lda, 1});
  const dnnl::memory::desc b_md({K, N}, dt::bf16, trans_b ? dnnl::memory::dims{1, ldb} : dnnl::memory::dims{ldb, 1});
  const dnnl::memory::desc c_md({M, N}, dt::f32, dnnl::memory::dims{ldc, 1});
  const Dnnl::Key key{M, N, K, lda, ldb, ldc, trans_b, accumulate};
  auto it = d.cache.find(key);
  if (it == d.cache.end()) {
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.0f);
      attr.set_post_ops(po);
    }
    auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), attr, d.eng);
    if (d.cache.size() > 256) d.cache.clear();  // shapes vary with sequence lengths: bound the cache
    it = d.cache.emplace(key, dnnl::matmul(pd)).first;
  }
  dnnl::memory am(a_md, d.eng, const_cast<uint16_t*>(A)), bm(b_md, d.eng, const_cast<uint16_t*>(B)),
      cm(c_md, d.eng, C);
  it->second.execute(d.strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  d.strm.wait();
}

namespace {

// fp32_to_bf16 (util/half.h) without its branch, so the loop vectorises (it was a fifth of a bf16 training step
// as scalar code): the same bits for every input, NaN included.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void to_bf16_range(
    uint16_t* __restrict out, const float* __restrict x, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, sizeof u);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t quiet_nan = (u >> 16) | 64u;
    out[i] = static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
  }
}

}  // namespace

void to_bf16(uint16_t* out, const float* x, int64_t n) {
  ThreadPool::global().parallel_for((n + 16383) / 16384, [&](int64_t b, int64_t e) {
    to_bf16_range(out, x, b * 16384, std::min(n, e * 16384));
  });
}

}  // namespace scitune::ops
