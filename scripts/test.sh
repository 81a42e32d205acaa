#!/usr/bin/env bash
# Builds and runs the whole test suite (ctest). Before it: the parser and kernel tests under ASan+UBSan,
# and the CUDA build (its GPU tests skip without a device). The full Release suite runs last, so its
# summary closes the output.
#   SCITUNE_SKIP_ASAN=1   skip the sanitizer pass      SCITUNE_SKIP_CUDA=1   skip the CUDA build
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --deps
JOBS=${JOBS:-$(nproc)}

if [ "${SCITUNE_SKIP_ASAN:-0}" != 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Asan -DSCITUNE_BENCH=OFF >/dev/null
  # Only the parser/kernel test binaries: the fast subset that ASan/UBSan watches.
  targets=$(cd tests && ls util/*_test.cc io/*_test.cc quant/*_test.cc kernels/*_test.cc tokenizer/*_test.cc data/*_test.cc eval/*_test.cc 2>/dev/null | xargs -n1 basename | sed 's/\.cc$//')
  targets="$targets $(ls fuzz/*_fuzz.cc | xargs -n1 basename | sed 's/\.cc$/_replay/')"
  cmake --build build-asan -j "$JOBS" --target $targets
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 900 -L 'util|io|quant|kernels|tokenizer|data|eval|fuzz'
fi

# The CUDA option must keep compiling where nvcc exists.
if [ "${SCITUNE_SKIP_CUDA:-0}" != 1 ] && { command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; }; then
  export PATH="$PATH:/usr/local/cuda/bin"
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCITUNE_CUDA=ON -DSCITUNE_BENCH=OFF >/dev/null
  gpu_targets=$(cd tests && ls gpu/*_test.cc | xargs -n1 basename | sed 's/\.cc$//')
  cmake --build build-cuda -j "$JOBS" --target $gpu_targets
  ctest --test-dir build-cuda --output-on-failure -L gpu
else
  echo "test.sh: CUDA build skipped (no nvcc, or SCITUNE_SKIP_CUDA=1)"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$JOBS"
ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 600
