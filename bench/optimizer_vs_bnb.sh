#!/usr/bin/env bash
# Optimizer step time and state memory, scitune vs the references HF Trainer uses, side by side: adamw_torch vs
# torch.optim.AdamW and adamw_8bit vs bitsandbytes.optim.AdamW(optim_bits=8) (bitsandbytes 0.50 CPU backend, in
# the oracle), on a gemma-3-1b LoRA r 16 adapter on all seven projections; THREADS threads on both sides (2).
#   bench/optimizer_vs_bnb.sh [build-dir]      (a Release build with -DSCITUNE_BENCH=ON and optimizer_bench)
# ms/step: scitune the mean over Google Benchmark's iterations (best of 3 repetitions), the reference the median
# of STEPS steps after a warm-up step. ratio = reference ms / scitune ms (> 1: scitune faster).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
RUN=${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}
THREADS=${THREADS:-2}
STEPS=${STEPS:-5}
BENCH=$BUILD/bench/optimizer_bench
[ -x "$BENCH" ] || { echo "missing $BENCH: configure with -DSCITUNE_BENCH=ON and build optimizer_bench" >&2; exit 1; }
cd "$ROOT"
ours=$(SCITUNE_THREADS=$THREADS "$BENCH" --benchmark_repetitions=3 --benchmark_format=json 2>/dev/null)
# The oracle mounts the checkout; concurrent oracle calls break each other's mount, hence the lock.
ref=$(OMP_NUM_THREADS=$THREADS flock /tmp/oracle.lock "$RUN" python3 bench/optimizer_ref.py --steps "$STEPS" 2>/dev/null |
  grep '^{')
python3 - "$ours" "$ref" <<'EOF'
import json, sys
ours = {}
for b in json.loads(sys.argv[1])["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue
    name = b["name"].split("/")[1]
    if name not in ours or b["real_time"] < ours[name]["real_time"]:
        ours[name] = b
refs = {r["optim"]: r for r in map(json.loads, sys.argv[2].splitlines())}
print(f"{'optim':<12} {'reference':<22} {'params':>10} {'scitune ms':>11} {'ref ms':>9} {'ratio':>6} "
      f"{'scitune MiB':>12} {'ref MiB':>9}")
for name in ("adamw_torch", "adamw_8bit"):
    o, r = ours[name], refs[name]
    assert int(o["params"]) == r["params"], (o["params"], r["params"])
    print(f"{name:<12} {r['impl']:<22} {r['params']:>10} {o['real_time']:>11.1f} {r['ms_per_step']:>9.1f} "
          f"{r['ms_per_step'] / o['real_time']:>6.2f} {o['state_bytes'] / 2**20:>12.2f} {r['state_bytes'] / 2**20:>9.2f}")
EOF
