#!/usr/bin/env bash
# Installs the pinned pyarrow wheel into a venv for its Apache Arrow / Parquet C++ libraries and headers, which
# Debian 12 does not package. CMake finds them there at configure time (cmake/parquet.cmake) and `scitune data
# prepare` then reads .parquet datasets; without them the build still works, with Parquet input disabled.
# Venv: ${SCITUNE_DATA:-$HOME/.cache/scitune}/pyarrow-venv. Does nothing (in well under a second) when the
# pinned version is already there.
set -euo pipefail
DATA=${SCITUNE_DATA:-$HOME/.cache/scitune}
VENV="$DATA/pyarrow-venv"
VERSION=26.0.1  # keep in step with cmake/parquet.cmake's message and bench/README.md

have() { compgen -G "$VENV/lib/python3*/site-packages/pyarrow-$VERSION.dist-info" >/dev/null; }
if have && compgen -G "$VENV/lib/python3*/site-packages/pyarrow/libparquet.so.*" >/dev/null; then
  echo "pyarrow: $VENV (pyarrow $VERSION, cached)"
  exit 0
fi
mkdir -p "$DATA"
# A wheel only: a source build of Arrow would take hours. pyarrow has no other runtime dependency.
install() { "$VENV/bin/pip" install -q --disable-pip-version-check --only-binary=:all: "pyarrow==$VERSION"; }
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  install
elif ! install; then  # a venv left broken (its Python upgraded or removed): once more from scratch
  echo "pyarrow: recreating $VENV" >&2
  python3 -m venv --clear "$VENV"
  install
fi
have || { echo "pyarrow: pyarrow $VERSION is not in $VENV after pip install" >&2; exit 1; }
echo "pyarrow: $VENV (pyarrow $VERSION, installed)"
