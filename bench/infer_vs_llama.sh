#!/usr/bin/env bash
# Inference speed, scitune vs llama.cpp, one run, same machine, 2 threads each, same GGUF files:
#   bench/infer_vs_llama.sh [BUILD_DIR]     (Release, -DSCITUNE_BENCH=ON, targets scitune and infer_bench;
#                                            default: build; env ORACLE_RUN, MODEL as in tools/oracle/*.sh)
# Models: gemma3-1b shapes with random weights (tools/oracle/make_random_gguf.sh: Q8_0 from convert_hf_to_gguf.py,
# Q4_0 from llama-quantize) and the released Gemma 3 270M Q4_K_M.
# Ours: bench/infer_bench MODEL --prompt 512 --decode 128 --reps 3 (best of 3; pp = one 512-token prompt
#       through the KV cache, tg = 128 greedy tokens after a 1-token prompt).
# llama.cpp: llama-bench -m MODEL -p 512 -n 128 -t 2 -r 3 (mean of 3 after a warm-up run).
# Also: infer_bench's copy and read bandwidths (memcpy / plain read over 256 MiB buffers in huge pages, both threads)
# and each side's decode as a share of the bandwidth limit = read bandwidth / weight bytes read per token.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=$(cd "${1:-build}" && pwd)
REL=${BUILD#"$ROOT"/}/llama
ORACLE=${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}
BENCH=$BUILD/bench/infer_bench
[ -x "$BENCH" ] && [ -x "$BUILD/scitune" ] || { echo "build scitune and infer_bench in $BUILD (-DSCITUNE_BENCH=ON)" >&2; exit 1; }
tools/oracle/make_random_gguf.sh "$BUILD" gemma3-1b q8_0 q4_0 >/dev/null
MODELS="$REL/gemma3-1b-q8_0.gguf $REL/gemma3-1b-q4_0.gguf $REL/real.gguf"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(uptime | sed 's/.*load average: //')"
OUT=$ROOT/$REL/infer_vs_llama
mkdir -p "$OUT"
for m in $MODELS; do
  n=$(basename "$m" .gguf)
  SCITUNE_THREADS=2 "$BENCH" "$m" --prompt 512 --decode 128 --reps 3 >"$OUT/$n.ours.txt"
  flock /tmp/oracle.lock "$ORACLE" env -u OPENBLAS_CORETYPE llama-bench -m "/work/$m" -p 512 -n 128 -t 2 -r 3 -o json \
    >"$OUT/$n.llama.json" 2>"$OUT/$n.llama.err"
done
echo "load after: $(uptime | sed 's/.*load average: //')"
python3 - "$OUT" $MODELS <<'EOF'
import json, os, re, sys
out, models = sys.argv[1], sys.argv[2:]
print("| model | file MiB | read/token MiB | pp512 llama.cpp | pp512 scitune | ratio | tg128 llama.cpp | tg128 scitune | ratio "
      "| copy GB/s | read GB/s | decode limit tok/s | tg llama.cpp % of limit | tg scitune % of limit |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for m in models:
    n = os.path.basename(m)[:-5]
    ours = open(f"{out}/{n}.ours.txt").read()
    mib = float(re.search(r"([0-9.]+) MiB of weights read per token", ours).group(1))
    pp = float(re.search(r"pp512 ([0-9.]+) tok/s", ours).group(1))
    tg = float(re.search(r"tg128 ([0-9.]+) tok/s", ours).group(1))
    bw, rbw, lim = (float(x) for x in re.search(
        r"copy bandwidth ([0-9.]+) GB/s, read bandwidth ([0-9.]+) GB/s; decode limit ([0-9.]+) tok/s", ours).groups())
    rows = json.load(open(f"{out}/{n}.llama.json"))
    lpp = next(r["avg_ts"] for r in rows if r["n_prompt"] == 512 and r["n_gen"] == 0)
    ltg = next(r["avg_ts"] for r in rows if r["n_gen"] == 128 and r["n_prompt"] == 0)
    size = os.path.getsize(m) / 2**20
    print(f"| {n} | {size:.0f} | {mib:.0f} | {lpp:.1f} | {pp:.1f} | {pp / lpp:.2f} | {ltg:.1f} | {tg:.1f} | {tg / ltg:.2f} "
          f"| {bw:.1f} | {rbw:.1f} | {lim:.1f} | {100 * ltg / lim:.0f}% | {100 * tg / lim:.0f}% |")
EOF
