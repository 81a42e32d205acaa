#!/usr/bin/env bash
# Fixtures for tests/export/real_export_test.cc: llama-quantize's output, tensor by tensor (type + sha256), when
# it quantises our F32 GGUF of the released Gemma 3 270M to Q8_0, Q4_0 and Q4_K_M. The test exports the same
# model to those types itself and must get the same bytes. Run from the repo root on the host:
#
#   tools/oracle/make_export_fixtures.sh [BUILD_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=$(cd "${1:-build}" && pwd)
REL=${BUILD#"$ROOT"/}/export_fixtures
W=$ROOT/$REL
mkdir -p "$W"
oracle() { flock /tmp/oracle.lock "${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}" "$@"; }
SRC=${MODEL:-$HOME/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf}
[ -s "$W/real.gguf" ] || ln -f "$SRC" "$W/real.gguf" 2>/dev/null || cp -f "$SRC" "$W/real.gguf"
"$BUILD/scitune" -q export --model "$W/real.gguf" --format gguf --quant f32 --name real --out "$W/f32" --force >/dev/null
OUT=tests/golden/export
mkdir -p "$OUT"
for q in q8_0 q4_0 q4_k_m; do
  oracle llama-quantize "$REL/f32/real-F32.gguf" "$REL/lq-$q.gguf" "${q^^}" 2 >/dev/null 2>&1
  oracle python3 tools/oracle/gguf_dump.py "$REL/lq-$q.gguf" --out "$REL/lq-$q.json"
  python3 - "$W/lq-$q.json" "$OUT/real270m_llama_quantize_$q.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
json.dump({"made_by": "llama-quantize (oracle) from `scitune export --format gguf --quant f32` of the released Gemma 3 270M Q4_K_M",
           "tensors": [{"name": t["name"], "type": t["type"], "sha256": t["sha256"]} for t in d["tensors"]]},
          open(sys.argv[2], "w"), indent=0)
PY
  rm -f "$W/lq-$q.gguf"
done
ls -la "$OUT"
