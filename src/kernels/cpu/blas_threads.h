// OpenBLAS (pthreads build) starts its worker threads when the library is loaded, and they spin for ~2^28 cycles
// (~0.1 s of a core) before sleeping: every scitune command paid that, most of them without one BLAS call
// (`papers parse` with 2 jobs lost ~10% to it). Stopping them at start-up is safe: OpenBLAS starts them again on
// its first threaded call (exec_blas -> blas_thread_init).
#pragma once

namespace scitune {

// Stops OpenBLAS's idle worker threads; a no-op with a BLAS that has no such threads (serial / other builds).
void stop_idle_blas_threads();

// bf16 training runs its big GEMMs on oneDNN's OpenMP threads; OpenBLAS's workers, spinning between its own small
// products (attention, LoRA), would take the cores from them (270M step: 155 -> 195 tok/s single-threaded). On:
// OpenBLAS single-threaded; off: back to the thread count it had. Idempotent.
void single_threaded_blas(bool on);

// True when OpenBLAS runs its products in the calling thread (single_threaded_blas(true) or one thread set
// from the environment): then several of scitune's pool threads may each run their own products at once.
bool blas_single_threaded();

// oneDNN (the bf16 GEMMs) runs on libgomp, whose idle threads spin by default and take the cores from scitune's
// pool between GEMMs (270M bf16 step: 185 -> 227 tok/s passive). libgomp reads OMP_WAIT_POLICY only when it
// is loaded, so when the variable is unset this sets it to PASSIVE and re-executes the program (argv as given);
// it returns when the variable was already set or the re-execution failed. Call first thing in main.
void ensure_passive_openmp_threads(char** argv);

// single_threaded_blas(true) for a scope when `on` (and it was not already), undone at its end.
class SingleThreadedBlasScope {
 public:
  explicit SingleThreadedBlasScope(bool on) : changed_(on && !blas_single_threaded()) {
    if (changed_) single_threaded_blas(true);
  }
  ~SingleThreadedBlasScope() {
    if (changed_) single_threaded_blas(false);
  }
  SingleThreadedBlasScope(const SingleThreadedBlasScope&) = delete;
  SingleThreadedBlasScope& operator=(const SingleThreadedBlasScope&) = delete;

 private:
  bool changed_;
};

}  // namespace scitune
