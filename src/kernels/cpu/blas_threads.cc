#include "kernels/cpu/blas_threads.h"

// Exported by OpenBLAS's threaded builds (blas_server.c); weak, so a BLAS without it still links and loads.
extern "C" int blas_thread_shutdown_(void) __attribute__((weak));

namespace scitune {

void stop_idle_blas_threads() {
  if (blas_thread_shutdown_) blas_thread_shutdown_();
}

}  // namespace scitune
