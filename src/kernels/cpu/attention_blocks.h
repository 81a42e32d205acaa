// What the training attention's forward and backward share (attention_blocks.cc): query rows in blocks of
// kAttentionBlockRows, each block reaching only keys [c0, r1) of the causal triangle (and sliding window), the
// masked softmax of a block's scores, and a runner that spreads (head, block) tasks over the thread pool.
#pragma once
#include <cstdint>
#include <functional>

namespace scitune::ops {

inline constexpr int64_t kAttentionBlockRows = 64;

// The keys a block of query rows [r0, r1) can reach: [c0, r1).
inline int64_t attention_block_c0(int64_t r0, int64_t window) {
  return window > 0 && r0 - window + 1 > 0 ? r0 - window + 1 : 0;
}

// Rows r0 + i (i < rows) of scores over keys c0 + j (j < cols), already scaled and not yet capped, row stride ld:
// in place, cap (c·tanh(s/c) when cap > 0), causal/window mask, softmax (masked entries exactly 0). Vectorised.
void attention_softmax_rows(float* p, int64_t ld, int64_t rows, int64_t cols, int64_t r0, int64_t c0, int64_t window,
                            float cap);

// sum a[i]·b[i], vectorised (per-key attention scores when decoding).
float dot_f32(const float* a, const float* b, int64_t n);

// Runs fn(task, slot, threaded_rows) for task in [0, n_tasks). When OpenBLAS is single-threaded (bf16 training
// steps), tasks are spread over the pool, slot = the pool thread's index in [0, slots) and each task's GEMMs run
// single-threaded in that thread; task t goes to slot t % slots, so consecutive causal blocks alternate between
// threads. Otherwise the tasks run in order in the caller (slot 0), whose GEMMs are threaded by OpenBLAS and
// whose row-wise work may use the pool (threaded_rows = true). Returns the number of slots used.
int run_attention_tasks(int64_t n_tasks, const std::function<void(int64_t task, int slot, bool threaded_rows)>& fn);

// The number of slots run_attention_tasks would use now (for sizing per-slot scratch before the call).
int attention_task_slots();

}  // namespace scitune::ops
