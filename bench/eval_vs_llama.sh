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
# Whole commands on both sides (model load included): llama-perplexity no longer prints its eval time alone.
t0=$(date +%s.%N); ours=$("$S" perplexity --model "$M" --file "$TEXT" --ctx 512 2>&1 | grep "Final estimate"); t1=$(date +%s.%N)
t2=$(date +%s.%N); theirs=$(oracle llama-perplexity -m "/work/${REL}/real.gguf" -f "$TEXT" -c 512 -t 2 2>&1 | grep "Final estimate"); t3=$(date +%s.%N)
n=$("$S" -q tokenize --tokenizer "$M" --add-bos < "$TEXT" | wc -w)
python3 - "$t0" "$t1" "$t2" "$t3" "$n" "$ours" "$theirs" <<'PY'
import re, sys
t0, t1, t2, t3 = map(float, sys.argv[1:5]); n = int(sys.argv[5])
chunks = n // 512; tokens = chunks * 512
ppl = lambda s: re.search(r"PPL = ([0-9.]+)", s).group(1)
print()
print(f"| perplexity, ctx 512, {chunks} chunks ({tokens} tokens), same GGUF and text | seconds (whole command) | tok/s | PPL |")
print("|---|---|---|---|")
print(f"| llama-perplexity | {t3 - t2:.1f} | {tokens / (t3 - t2):.0f} | {ppl(sys.argv[7])} |")
print(f"| scitune perplexity | {t1 - t0:.1f} | {tokens / (t1 - t0):.0f} | {ppl(sys.argv[6])} |")
print(f"ratio (ours / llama.cpp tok/s): {(t3 - t2) / (t1 - t0):.2f}")
PY
