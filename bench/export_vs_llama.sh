#!/usr/bin/env bash
# Export throughput, side by side in one run (2 threads each): a random gemma-3-1b-shaped HF folder (bf16, the
# real Gemma 3 vocabulary) to GGUF F16 and Q4_K_M —
#   ours:      scitune export --format gguf --quant f16 | q4_k_m        (straight from the HF folder)
#   llama.cpp: convert_hf_to_gguf.py --outtype f16, then llama-quantize F16 -> Q4_K_M (the usual two steps)
# Run from the repo root on the host:  bench/export_vs_llama.sh [BUILD_DIR] [PRESET]   (default build gemma3-1b)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=$(cd "${1:-build}" && pwd)
PRESET=${2:-gemma3-1b}
REL=${BUILD#"$ROOT"/}/export_bench
W=$ROOT/$REL
mkdir -p "$W"
ORACLE=${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}
oracle() { flock /tmp/oracle.lock "$ORACLE" "$@"; }
SRC=${MODEL:-$HOME/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf}
[ -s "$W/real.gguf" ] || ln -f "$SRC" "$W/real.gguf" 2>/dev/null || cp -f "$SRC" "$W/real.gguf"
HF=$REL/$PRESET-hf
if [ ! -f "$ROOT/$HF/tokenizer.model" ]; then
  rm -rf "${ROOT:?}/$HF"
  "$BUILD/scitune" -q init --preset "$PRESET" --seed 1 --dtype bf16 --out "$ROOT/$HF" >/dev/null
  cp ../shared/tokenizers/gemma3/tokenizer_config.json ../shared/tokenizers/gemma3/tokenizer.json "$ROOT/$HF/"
  oracle python3 tools/oracle/random_gguf_vocab.py --gguf "$REL/real.gguf" --model "$HF" >/dev/null
fi
cat "$ROOT/$HF"/*.safetensors >/dev/null
export SCITUNE_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
CONVERT=/usr/share/doc/llama.cpp-tools/scripts/convert_hf_to_gguf.py
rm -rf "$W/ours-f16" "$W/ours-q4km" "$W/ref-f16.gguf" "$W/ref-q4km.gguf"
o16=$(secs "$BUILD/scitune" -q export --model "$ROOT/$HF" --format gguf --quant f16 --out "$W/ours-f16")
oq4=$(secs "$BUILD/scitune" -q export --model "$ROOT/$HF" --format gguf --quant q4_k_m --out "$W/ours-q4km")
r16=$(secs oracle python3 "$CONVERT" "$HF" --outtype f16 --outfile "$REL/ref-f16.gguf")
rq4=$(secs oracle llama-quantize "$REL/ref-f16.gguf" "$REL/ref-q4km.gguf" Q4_K_M 2)
size() { du -b "$1" | cut -f1; }
python3 - "$o16" "$oq4" "$r16" "$rq4" "$(size "$W"/ours-f16/*.gguf)" "$(size "$W"/ours-q4km/*.gguf)" \
  "$(size "$W/ref-f16.gguf")" "$(size "$W/ref-q4km.gguf")" "$PRESET" <<'PY'
import sys
o16, oq4, r16, rq4 = map(float, sys.argv[1:5]); s = list(map(int, sys.argv[5:9])); p = sys.argv[9]
print(f"# export of a random {p} HF folder (bf16), 2 threads, one run")
print("| output | scitune export | llama.cpp | ratio (llama.cpp time / ours) | sizes ours / llama.cpp |")
print("|---|---|---|---|---|")
print(f"| GGUF F16 | {o16:.1f} s | {r16:.1f} s (convert_hf_to_gguf.py) | {r16/o16:.2f}x | {s[0]} / {s[2]} |")
print(f"| GGUF Q4_K_M | {oq4:.1f} s | {r16+rq4:.1f} s (convert {r16:.1f} + llama-quantize {rq4:.1f}) | {(r16+rq4)/oq4:.2f}x | {s[1]} / {s[3]} |")
PY
