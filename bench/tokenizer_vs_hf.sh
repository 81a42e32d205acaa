#!/usr/bin/env bash
# Tokenizer throughput against HF `tokenizers` in one run, same corpus (>= 20 MB of real text from
# tools/tokenizer_corpus.py), same thread count, identical output required. Run from the repo root:
#   bench/tokenizer_vs_hf.sh [WORKDIR]   (env: SCITUNE=build/scitune, BENCH=build/bench/tokenizer_bench,
#                                          THREADS=2, ORACLE=../shared/oracle/run.sh)
# Prints one JSON line per implementation and the speed ratio; exits 1 if the ids differ.
set -euo pipefail
WORK=${1:-build/tokbench}
SCITUNE=${SCITUNE:-build/scitune}
BENCH=${BENCH:-build/bench/tokenizer_bench}
THREADS=${THREADS:-2}
ORACLE=${ORACLE:-../shared/oracle/run.sh}
TOK=../shared/tokenizers/gemma3
mkdir -p "$WORK"
python3 tools/tokenizer_corpus.py --out "$WORK/corpus.jsonl" --strings 90000 --seed 2
"$ORACLE" python3 tools/oracle/tokenizer_encode.py --tokenizer /shared/tokenizers/gemma3/tokenizer.json \
  --corpus "$WORK/corpus.jsonl" --out "$WORK/hf_ids.jsonl" --threads "$THREADS" --time | tee "$WORK/hf.json"
"$SCITUNE" tokenize --tokenizer "$TOK" --threads "$THREADS" --jsonl "$WORK/corpus.jsonl" > "$WORK/scitune_ids.jsonl"
if ! cmp -s "$WORK/hf_ids.jsonl" "$WORK/scitune_ids.jsonl"; then
  echo "ids differ from HF tokenizers: compare $WORK/hf_ids.jsonl and $WORK/scitune_ids.jsonl" >&2
  exit 1
fi
SCITUNE_TOKENIZER="$TOK" SCITUNE_TOKENIZER_CORPUS="$WORK/corpus.jsonl" "$BENCH" \
  --benchmark_filter="BM_LoadTokenizer|BM_EncodeCorpus/$THREADS/" --benchmark_format=json > "$WORK/scitune.json"
python3 - "$WORK/hf.json" "$WORK/scitune.json" "$THREADS" <<'PY'
import json, sys
hf = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
bench = json.load(open(sys.argv[2]))["benchmarks"]
enc = next(b for b in bench if b["name"].startswith("BM_EncodeCorpus"))
load = next(b for b in bench if b["name"].startswith("BM_LoadTokenizer"))
ours = {"impl": "scitune", "threads": int(sys.argv[3]), "load_s": round(load["real_time"] / 1e3, 3),
        "bytes": int(enc["bytes"]), "tokens": int(enc["tokens"]), "seconds": round(enc["real_time"] / 1e3, 3),
        "mb_per_s": round(enc["bytes_per_second"] / 1e6, 2), "tokens_per_s": round(enc["tokens_per_second"])}
print(json.dumps(ours))
print(f"identical ids on {hf['bytes'] / 1e6:.1f} MB; encode {ours['mb_per_s'] / hf['mb_per_s']:.2f}x HF tokenizers "
      f"({ours['mb_per_s']} vs {hf['mb_per_s']} MB/s, {ours['tokens_per_s']} vs {hf['tokens_per_s']} tokens/s, "
      f"{sys.argv[3]} threads); load {ours['load_s']} s vs {hf['load_s']} s")
PY
