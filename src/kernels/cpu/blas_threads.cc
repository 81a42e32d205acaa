#include "kernels/cpu/blas_threads.h"

#include <cblas.h>

#include <unistd.h>

#include <cstdlib>
#include <mutex>

// Exported by OpenBLAS's threaded builds (blas_server.c); weak, so a BLAS without it still links and loads.
extern "C" int blas_thread_shutdown_(void) __attribute__((weak));

namespace scitune {

void stop_idle_blas_threads() {
  if (blas_thread_shutdown_) blas_thread_shutdown_();
}

void single_threaded_blas(bool on) {
  static std::mutex mu;
  static int saved = 0;  // thread count before going single-threaded; 0 while not
  std::lock_guard<std::mutex> lock(mu);
  if (on && saved == 0) {
    saved = openblas_get_num_threads();
    openblas_set_num_threads(1);
  } else if (!on && saved != 0) {
    openblas_set_num_threads(saved);
    saved = 0;
  }
}

void ensure_passive_openmp_threads(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with spinning threads
}

bool blas_single_threaded() { return openblas_get_num_threads() <= 1; }

}  // namespace scitune
