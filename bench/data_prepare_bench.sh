#!/usr/bin/env bash
# `scitune data prepare` throughput on the same synthetic chat records as JSON lines and as Parquet (the
# published schema: dataset, id, messages list<struct<role, content>>, row groups of 10,000 rows). Run from the
# repo root after scripts/fetch_pyarrow.sh and a Release build:
#   bench/data_prepare_bench.sh [WORKDIR]   (env: SCITUNE=build/scitune, ROWS=100000, THREADS=2, REPEAT=3,
#       READ_BENCH=build/bench/data_read_bench, PY=<pyarrow venv>/bin/python,
#       TOK=../shared/tokenizers/gemma3/tokenizer.json)
# Prints one JSON line per format (the fastest of REPEAT runs: wall seconds, records/s, MB/s of the JSONL
# text), checks that both give the same train.bin tokens, and, when READ_BENCH is built, the reading stage
# alone (records read; read + validated into messages) for both formats.
set -euo pipefail
WORK=${1:-build/databench}
SCITUNE=${SCITUNE:-build/scitune}
ROWS=${ROWS:-100000}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-3}
READ_BENCH=${READ_BENCH:-build/bench/data_read_bench}
PY=${PY:-${SCITUNE_DATA:-$HOME/.cache/scitune}/pyarrow-venv/bin/python}
TOK=${TOK:-../shared/tokenizers/gemma3/tokenizer.json}
mkdir -p "$WORK"
[ -x "$PY" ] || { echo "no pyarrow python at $PY: run scripts/fetch_pyarrow.sh" >&2; exit 1; }

# Synthetic Tulu-style chat: a user question of 20-120 words and an answer of 10-80 words, from a fixed
# vocabulary, seeded; some rows with a system turn, some with two exchanges.
"$PY" - "$WORK" "$ROWS" <<'PY'
import json, os, random, sys
import pyarrow as pa, pyarrow.parquet as pq
work, rows = sys.argv[1], int(sys.argv[2])
if os.path.exists(f"{work}/chat.parquet") and pq.ParquetFile(f"{work}/chat.parquet").metadata.num_rows == rows:
    sys.exit(0)
rng = random.Random(1)
words = ("the of protein cell gene we model data results method show that analysis binding structure is in "
         "and to a for with on by as an mutation sequence expression pathway receptor signal significant "
         "increase decrease patients study trial dose effect compared control group observed levels").split()
def text(lo, hi):
    return " ".join(rng.choice(words) for _ in range(rng.randint(lo, hi))).capitalize() + "."
out = []
for i in range(rows):
    msgs = [{"role": "system", "content": text(5, 12)}] if i % 10 == 0 else []
    for _ in range(2 if i % 7 == 0 else 1):
        msgs += [{"role": "user", "content": text(20, 120)}, {"role": "assistant", "content": text(10, 80)}]
    out.append({"dataset": "science.synthetic" if i % 2 else "tulu_synthetic", "id": f"row-{i}", "messages": msgs})
with open(f"{work}/chat.jsonl", "w") as f:
    for r in out:
        f.write(json.dumps(r) + "\n")
schema = pa.schema([("dataset", pa.string()), ("id", pa.string()),
                    ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))])
pq.write_table(pa.Table.from_pylist(out, schema=schema), f"{work}/chat.parquet", row_group_size=10000)
PY

MB=$(python3 -c "import os; print(round(os.path.getsize('$WORK/chat.jsonl') / 1e6, 1))")
for fmt in jsonl parquet; do
  best=""
  for _ in $(seq "$REPEAT"); do
    start=$(date +%s.%N)
    "$SCITUNE" data prepare --data "$WORK/chat.$fmt" --tokenizer "$TOK" --out "$WORK/out_$fmt" --threads "$THREADS" \
      --max-seq-length 0 --force > "$WORK/prepare_$fmt.log"
    end=$(date +%s.%N)
    t=$(python3 -c "print(round($end - $start, 3))")
    best=$(python3 -c "print(min(x for x in [$t, ${best:-1e9}]))")
  done
  python3 -c "import json; print(json.dumps({'format': '$fmt', 'rows': $ROWS, 'threads': $THREADS, 'seconds': $best,
    'records_per_s': round($ROWS / $best), 'jsonl_mb_per_s': round($MB / $best, 1)}))"
done
# The tokens (offsets + ids, bytes 48 .. before the sources) must be the same; only the sources' names differ.
python3 - "$WORK/out_jsonl/train.bin" "$WORK/out_parquet/train.bin" <<'PY'
import struct, sys
def tokens(path):
    b = open(path, "rb").read()
    n, n_tokens = struct.unpack_from("<QQ", b, 16)
    return b[48:48 + 8 * (n + 1) + 4 * n_tokens]
if tokens(sys.argv[1]) != tokens(sys.argv[2]):
    sys.exit("train.bin tokens differ between JSONL and Parquet")
print("same train.bin tokens from both formats")
PY
if [ -x "$READ_BENCH" ]; then
  SCITUNE_BENCH_DATA="$WORK/chat.jsonl,$WORK/chat.parquet" "$READ_BENCH" --benchmark_format=json > "$WORK/read.json"
  python3 - "$WORK/read.json" <<'PY'
import json, re, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    stage, path = re.match(r"BM_(\w+)/(.*?)/iterations:", b["name"]).groups()
    print(json.dumps({"stage": "read" if stage == "Read" else "read+validate", "file": path.rsplit("/", 1)[-1],
                      "records_per_s": round(b["records_per_s"])}))
PY
fi
