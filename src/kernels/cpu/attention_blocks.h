// What the training attention's forward and backward share (attention_blocks.cc): query rows in blocks of
// kAttentionBlockRows, each block reaching only keys [c0, r1) of the causal triangle (and sliding window), the
// masked softmax of a block's scores, and a runner that spreads (head, block) tasks over the thread pool.
#pragma once
#include <cstdint>
#include <functional>

namespace scitune::ops {

inline constexpr int64_t kAttentionBlockRows = 64;

// One task: a block of query rows of one head, and where its work runs.
struct AttentionBlock {
  int64_t h, g;        // query head and its key/value head
  int64_t r0, r1, c0;  // query rows [r0, r1); the keys they can reach, [c0, r1)
  int slot;            // per-thread scratch index, < attention_task_slots()
  bool threaded_rows;  // row-wise work may use the pool (the tasks run in order in the caller)
  int64_t rows() const { return r1 - r0; }
  int64_t keys() const { return r1 - c0; }
  // fn(i0, i1) over the block's rows [0, rows()): split over the pool when threaded_rows, else inline.
  void for_rows(const std::function<void(int64_t, int64_t)>& fn) const;
};

// Rows r0 + i (i < rows) of scores over keys c0 + j (j < cols), already scaled and not yet capped, row stride ld:
// in place, cap (c·tanh(s/c) when cap > 0), causal/window mask, softmax (masked entries exactly 0). Vectorised.
void attention_softmax_rows(float* p, int64_t ld, int64_t rows, int64_t cols, int64_t r0, int64_t c0, int64_t window,
                            float cap);

// sum a[i]·b[i], vectorised (per-key attention scores when decoding).
float dot_f32(const float* a, const float* b, int64_t n);

// Runs fn for every (head, block of kAttentionBlockRows query rows) of a sequence with n_valid real queries, H query
// heads over G key/value heads and a sliding window (0: none). When OpenBLAS is single-threaded (bf16 training
// steps), blocks are spread over the pool, slot = the pool thread's index and each block's GEMMs run single-threaded
// in that thread; task t goes to slot t % slots, so consecutive causal blocks alternate between threads. Otherwise
// they run in order in the caller (slot 0), whose GEMMs are threaded by OpenBLAS and whose row-wise work may use
// the pool. Returns the number of slots used.
int run_attention_blocks(int64_t H, int64_t G, int64_t n_valid, int64_t window,
                         const std::function<void(const AttentionBlock&)>& fn);

// The number of slots run_attention_blocks would use now (for sizing per-slot scratch before the call).
int attention_task_slots();

}  // namespace scitune::ops
