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

}  // namespace scitune
