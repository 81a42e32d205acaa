#!/usr/bin/env bash
# Load time of a gemma-3-1b-shaped model, ours vs the Python references (gguf-py GGUFReader, safetensors
# safe_open with numpy) in the oracle, same files, same run, warm page cache. Prints each JSON line and ratios.
#   bench/load_vs_python.sh [WORKDIR]      (needs build/ with load_bench and scitune, and the oracle)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/scitune-loadbench}
mkdir -p "$W"
B=build
[ -f "$W/g1b.gguf" ] || $B/bench/load_bench make-gguf "$W/g1b.gguf" gemma3-1b q8_0
[ -d "$W/g1b-st" ] || $B/scitune --quiet init --preset gemma3-1b --dtype bf16 --seed 1 --out "$W/g1b-st"
# The oracle sees the repo at /work; link the files in under the repo's ignored build dir.
mkdir -p $B/loadbench && ln -f "$W/g1b.gguf" $B/loadbench/g1b.gguf 2>/dev/null || cp -f "$W/g1b.gguf" $B/loadbench/g1b.gguf
rm -rf $B/loadbench/g1b-st && cp -rl "$W/g1b-st" $B/loadbench/g1b-st 2>/dev/null || cp -r "$W/g1b-st" $B/loadbench/g1b-st
cat $B/loadbench/g1b.gguf $B/loadbench/g1b-st/*.safetensors > /dev/null   # warm the page cache
ours_g=$($B/bench/load_bench gguf $B/loadbench/g1b.gguf)
ours_s=$($B/bench/load_bench safetensors $B/loadbench/g1b-st)
ref=$(../shared/oracle/run.sh python3 bench/load_ref.py /work/$B/loadbench/g1b.gguf /work/$B/loadbench/g1b-st)
echo "$ours_g"; echo "$ours_s"; echo "$ref"
python3 - "$ours_g" "$ours_s" "$ref" <<'PY'
import json, sys
rows = [json.loads(l) for a in sys.argv[1:] for l in a.splitlines() if l.startswith("{")]
by = {(r["format"], r["impl"]): r for r in rows}
for fmt in ("gguf", "safetensors"):
    o, r = by[(fmt, "scitune")], [v for (f, i), v in by.items() if f == fmt and i != "scitune"][0]
    print(f"{fmt:12s} open: ours {o['open_ms']:.2f} ms vs {r['impl']} {r['open_ms']:.2f} ms -> {r['open_ms']/o['open_ms']:.1f}x faster; "
          f"read all {o['bytes']/2**30:.2f} GiB: ours {o['read_ms']:.0f} ms vs {r['read_ms']:.0f} ms -> {r['read_ms']/o['read_ms']:.2f}x")
PY
