#!/usr/bin/env bash
# Quantisation throughput: scitune's quantize_row vs the oracle's llama-quantize, both with 2 threads.
#
#   bench/quant_vs_llama.sh [build-dir]      (a Release build with -DSCITUNE_BENCH=ON; default: build)
#   ORACLE_RUN=path/to/run.sh to use another oracle runner (default ../shared/oracle/run.sh).
#
# llama-quantize side: an F32 GGUF with Gemma 3 4B layer shapes (2 layers + a 16384-row embedding, 231M
# quantisable values; tools/oracle/make_quant_bench_gguf.py), quantised with --pure to one type at a time;
# its own "quantize time" is the time (it includes reading the page-cached input and writing the output).
# scitune side: bench/quant_bench's Quantize/<type>/real_time/threads:2, i.e. quantize_row over rows of 2560
# values from the same generator and distribution (bell-shaped rows, src/quant/test_data.h), in memory.
# Both are values per second of wall time; ratio > 1 means scitune is faster.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BUILD=$(cd "$BUILD" && pwd)
RUN=${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}
BENCH=$BUILD/bench/quant_bench
[ -x "$BENCH" ] || { echo "missing $BENCH: configure with -DSCITUNE_BENCH=ON and build quant_bench" >&2; exit 1; }
case "$BUILD/" in "$ROOT"/*) ;; *) echo "build dir must be inside $ROOT (the oracle only sees the checkout)" >&2; exit 1 ;; esac
REL=${BUILD#"$ROOT"/}/quant_vs_llama
mkdir -p "$ROOT/$REL"
cd "$ROOT"

TYPES="Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K"
if [ ! -s "$REL/values.txt" ] || [ ! -s "$REL/bench_f32.gguf" ]; then
  "$RUN" python3 tools/oracle/make_quant_bench_gguf.py --out "$REL/bench_f32.gguf" --layers 2 | tail -1 >"$REL/values.txt"
fi
VALUES=$(cat "$REL/values.txt")

llama_ms() {  # best of two runs of llama-quantize's own timer
  local best=""
  for _ in 1 2; do
    local ms
    ms=$("$RUN" llama-quantize --pure "$REL/bench_f32.gguf" "$REL/out.gguf" "$1" 2 2>&1 |
      sed -n 's/.*quantize time = *\([0-9.]*\) ms.*/\1/p')
    [ -n "$ms" ] || { echo "llama-quantize $1 failed" >&2; exit 1; }
    best=$(python3 -c "print(min(float(x) for x in '$best $ms'.split()))")
  done
  rm -f "$REL/out.gguf"
  echo "$best"
}

FILTER="^Quantize/($(echo "$TYPES" | tr 'A-Z ' 'a-z|' | sed 's/q\([0-9]\)_k/q\1_K/g'))/real_time/threads:2\$"
"$BENCH" --benchmark_filter="$FILTER" --benchmark_min_time=1 --benchmark_repetitions=2 \
  --benchmark_report_aggregates_only=false --benchmark_format=json >"$REL/ours.json" 2>/dev/null

echo "values quantised per llama-quantize run: $VALUES (2 threads each side)"
printf '%-6s %16s %16s %8s\n' type "llama values/s" "scitune values/s" ratio
for t in $TYPES; do
  ms=$(llama_ms "$t")
  python3 - "$t" "$ms" "$VALUES" "$REL/ours.json" <<'EOF'
import json, sys
t, ms, values, path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
name = t.lower().replace("_k", "_K")
runs = [b for b in json.load(open(path))["benchmarks"]
        if b["name"].startswith(f"Quantize/{name}/") and b.get("run_type") == "iteration"]
ours = max(b["items_per_second"] for b in runs)
llama = values / (ms / 1000.0)
print(f"{t:<6} {llama:16.4g} {ours:16.4g} {ours / llama:8.2f}")
EOF
done
