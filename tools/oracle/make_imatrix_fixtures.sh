#!/usr/bin/env bash
# Fixtures for tests/export/imatrix_export_test.cc: an importance matrix of the released Gemma 3 270M made by
# llama-imatrix, and what llama-quantize --imatrix makes of our F32 export of that model, tensor by tensor (type
# + sha256) and its quantize.imatrix.* keys. The test exports the same model with --imatrix and must get the same
# bytes. Run from the repo root on the host:
#
#   tools/oracle/make_imatrix_fixtures.sh [BUILD_DIR]
#
# Writes tests/golden/export/:
#   real270m_imatrix.gguf          llama-imatrix -c 256 over tests/golden/llama/public_domain_en.txt, stripped to
#                                  the in_sum2/counts tensors llama-quantize reads (imatrix_fixture_tool.py strip)
#   real270m_imatrix_blk0-2.dat    the same matrix converted by llama-imatrix to the legacy format, entries of
#                                  layers 0-2 only (the legacy reader, and tensors without an entry)
#   real270m_llama_quantize_imatrix_<type>.json   per-tensor type + sha256 of llama-quantize --imatrix output
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=$(cd "${1:-build}" && pwd)
REL=${BUILD#"$ROOT"/}/imatrix_fixtures
W=$ROOT/$REL
mkdir -p "$W"
oracle() { flock /tmp/oracle.lock "${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}" "$@"; }
SRC=${MODEL:-$HOME/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf}
[ -s "$W/real.gguf" ] || ln -f "$SRC" "$W/real.gguf" 2>/dev/null || cp -f "$SRC" "$W/real.gguf"
"$BUILD/scitune" -q export --model "$W/real.gguf" --format gguf --quant f32 --name real --out "$W/f32" --force >/dev/null
F32=$REL/f32/real-F32.gguf
OUT=tests/golden/export
mkdir -p "$OUT"

oracle llama-imatrix -m "$F32" -f tests/golden/llama/public_domain_en.txt -c 256 -t 2 -o "$REL/im-full.gguf" \
  >"$W/imatrix.log" 2>&1
oracle llama-imatrix -m "$F32" --in-file "$REL/im-full.gguf" -c 256 --output-format dat -o "$REL/im-full.dat" \
  >>"$W/imatrix.log" 2>&1
oracle python3 tools/oracle/imatrix_fixture_tool.py strip "$REL/im-full.gguf" "$OUT/real270m_imatrix.gguf"
oracle python3 tools/oracle/imatrix_fixture_tool.py subset-dat "$REL/im-full.dat" "$OUT/real270m_imatrix_blk0-2.dat" \
  blk.0. blk.1. blk.2.

# name  imatrix  llama-quantize type
while read -r name im type; do
  oracle llama-quantize --imatrix "$im" "$F32" "$REL/lq-$name.gguf" "$type" 2 >"$W/lq-$name.log" 2>&1
  oracle python3 tools/oracle/gguf_dump.py "$REL/lq-$name.gguf" --out "$REL/lq-$name.json"
  python3 - "$W/lq-$name.json" "$OUT/real270m_llama_quantize_imatrix_$name.json" "$im" "$type" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
json.dump({"made_by": f"llama-quantize --imatrix {sys.argv[3]} (oracle) {sys.argv[4]} from `scitune export --format gguf "
                      "--quant f32` of the released Gemma 3 270M Q4_K_M",
           "imatrix": sys.argv[3].rsplit("/", 1)[-1],
           "metadata": [m for m in d["metadata"] if m["key"].startswith("quantize.")],
           "tensors": [{"name": t["name"], "type": t["type"], "sha256": t["sha256"]} for t in d["tensors"]]},
          open(sys.argv[2], "w"), indent=0)
PY
  rm -f "$W/lq-$name.gguf"
done <<EOF
q4_k_m $OUT/real270m_imatrix.gguf Q4_K_M
q4_0 $OUT/real270m_imatrix.gguf Q4_0
q5_k_m $OUT/real270m_imatrix.gguf Q5_K_M
q4_k_m_legacy $OUT/real270m_imatrix_blk0-2.dat Q4_K_M
EOF
ls -la "$OUT"
