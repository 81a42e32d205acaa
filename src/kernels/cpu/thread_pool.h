// A fixed pool of worker threads sized to the cores, for data-parallel kernels: parallel_for splits
// [0, n) into contiguous chunks, one per thread (the caller's thread takes a chunk too) and blocks.
// Decoding calls it ~90 times per token (270M), so idle workers spin briefly (kSpin) before sleeping on the
// condition variable: a wake-up through the kernel costs more than most of those jobs.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace scitune {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads = 0);  // 0: hardware_concurrency
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // fn(begin, end) over contiguous ranges covering [0, n). Exceptions from fn are rethrown here.
  // Callers are serialised; fn must not call parallel_for on the same pool (it would deadlock).
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  // The process-wide pool (sized by SCITUNE_THREADS or the cores).
  static ThreadPool& global();

 private:
  void worker_loop(int index);
  std::vector<std::thread> workers_;
  std::mutex call_mu_;  // one parallel_for at a time
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0;
  std::atomic<uint64_t> generation_{0};  // bumped (under mu_) when a job is published
  std::atomic<int> pending_{0};           // workers still running the current job
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace scitune
