#!/usr/bin/env bash
# Evaluation throughput, in one run on one machine (2 threads):
#   (a) scitune eval on the demo set's 20 held-out questions (real Gemma 3 270M Q4_K_M + an adapter when given),
#       one example at a time (--batch 1) vs batched generation (--batch 7): examples/s and generated tokens/s;
#   (b) perplexity tokens/s: scitune perplexity vs llama-perplexity, same GGUF, same text, ctx 512.
# Run from the repo root on the host:  bench/eval_vs_llama.sh [BUILD_DIR] [ADAPTER_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=$(cd "${1:-build}" && pwd)
ADAPTER=${2:-}
REL=${BUILD#"$ROOT"/}/eval_bench
W=$ROOT/$REL
mkdir -p "$W"
oracle() { flock /tmp/oracle.lock "${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}" "$@"; }
SRC=${MODEL:-$HOME/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf}
[ -s "$W/real.gguf" ] || ln -f "$SRC" "$W/real.gguf" 2>/dev/null || cp -f "$SRC" "$W/real.gguf"
M=$W/real.gguf
export SCITUNE_THREADS=2 OPENBLAS_NUM_THREADS=2
S=$BUILD/scitune
[ -f "$W/data/holdout.bin" ] || "$S" -q data prepare --data data/demo/science_qa.jsonl --tokenizer "$M" --out "$W/data" \
  --val-count 1 --holdout-count 20 --force >/dev/null
ad=()
[ -n "$ADAPTER" ] && ad=(--adapter "$ADAPTER")
echo "# $(date -Is) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| scitune eval, 20 held-out questions, greedy, <= 48 new tokens | wall s | examples/s | generated tok/s |"
echo "|---|---|---|---|"
for b in 1 7; do
  t0=$(date +%s.%N)
  line=$("$S" eval --model "$M" "${ad[@]}" --data "$W/data" --split holdout --max-new-tokens 48 --batch $b \
           --out "$W/out-b$b" --force 2>&1 | grep "tokens generated")
  t1=$(date +%s.%N)
  python3 - "$b" "$t0" "$t1" "$line" <<'PY'
import re, sys
b, t0, t1, line = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
n, toks, secs = re.search(r"(\d+) answers, (\d+) tokens generated in ([0-9.]+) s", line).groups()
print(f"| --batch {b} | {t1 - t0:.1f} | {int(n) / float(secs):.2f} | {int(toks) / float(secs):.1f} |")
PY
done
TEXT=tests/golden/llama/public_domain_en.txt
t0=$(date +%s.%N); "$S" -q perplexity --model "$M" --file "$TEXT" --ctx 512 >/dev/null 2>&1; t1=$(date +%s.%N)
lt=$(oracle llama-perplexity -m "/work/${REL}/real.gguf" -f "$TEXT" -c 512 -t 2 2>&1 |
       sed -n 's/.*prompt eval time = *\([0-9.]*\) ms \/ *\([0-9]*\) tokens.*/\1 \2/p' | tail -1)
python3 - "$t0" "$t1" "$lt" <<'PY'
import sys
ours_s = float(sys.argv[2]) - float(sys.argv[1]); ms, n = sys.argv[3].split(); n = int(n)
scored = n  # llama-perplexity evaluates every token of its chunks; ours runs the same chunks
print()
print("| perplexity, ctx 512, same GGUF and text | tokens | seconds | tok/s |")
print("|---|---|---|---|")
print(f"| llama-perplexity (prompt eval) | {n} | {float(ms)/1000:.1f} | {n / (float(ms)/1000):.0f} |")
print(f"| scitune perplexity (whole command, incl. load) | {n} | {ours_s:.1f} | {n / ours_s:.0f} |")
PY
