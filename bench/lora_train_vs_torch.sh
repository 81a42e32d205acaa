#!/usr/bin/env bash
# LoRA training step, scitune vs PyTorch CPU: one micro-batch (batch 1, seq 512, labels on every position) forward +
# backward, LoRA r 16 on all seven projections, fp32, with and without gradient checkpointing, on random
# gemma3-270m and gemma3-1b folders from `scitune init` (fp32 on disk, so neither side converts). Each
# configuration runs in its own process (peak RSS = VmHWM / ru_maxrss, loading included); 1 warm-up step, then
# the mean of --steps steps. Threads: 2 for both (OMP/MKL/OpenBLAS/SCITUNE). Prints each JSON line and a table.
#
#   bench/lora_train_vs_torch.sh [WORKDIR]
#     BUILD=build-dir (default build; needs lora_train_bench and scitune, -DSCITUNE_BENCH=ON)
#     TORCH_PY=python with torch+transformers+peft (default ~/.cache/scitune/torch-venv/bin/python: PyPI torch,
#              MKL; the oracle's Debian torch uses generic BLAS and is not a fair speed reference)
#     MODELS="gemma3-270m gemma3-1b"  STEPS=2  SEQ=512  ATTN=sdpa (torch attention: sdpa is transformers' default)
#     REPEAT=1: runs of each configuration (alternating scitune / torch); the table takes the fastest run of each
#              side and the highest peak (the machine is shared: the 1-minute load is recorded before each run)
#     SCITUNE_OMP_WAIT=PASSIVE: OMP_WAIT_POLICY for the scitune process only (see below)
#     BF16=1: also the bf16 step (scitune TrainOptions::bf16 / TRL bf16, torch.autocast bfloat16 on the torch side)
#   QLoRA memory (4b shape, NF4 base, seq 4096, checkpointing; scitune only):  QLORA_4B=1 bench/lora_train_vs_torch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/scitune-lorabench}
BUILD=${BUILD:-build}
TORCH_PY=${TORCH_PY:-$HOME/.cache/scitune/torch-venv/bin/python}
MODELS=${MODELS:-gemma3-270m gemma3-1b}
STEPS=${STEPS:-2}
SEQ=${SEQ:-512}
ATTN=${ATTN:-sdpa}
REPEAT=${REPEAT:-1}
BF16=${BF16:-0}
# oneDNN (the bf16 GEMMs) runs on libgomp, whose threads spin after each call by default and then fight scitune's
# own spinning pool and OpenBLAS's threads for the 2 cores: the bf16 step ran at 83 tok/s with it, 149 passive.
# (The scitune binary sets it itself — blas_threads.h, ensure_passive_openmp_threads; this bench binary does not.)
SCITUNE_OMP_WAIT=${SCITUNE_OMP_WAIT:-PASSIVE}
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 SCITUNE_THREADS=2
mkdir -p "$W"
OUT="$W/results.jsonl"
: > "$OUT"
echo "# $(date -Is) $(uname -n) $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$W/header.txt"
"$TORCH_PY" -c 'import torch, transformers, peft; print("# torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)' | tee -a "$W/header.txt"
"$TORCH_PY" bench/gemm_ceiling.py | sed 's/^/# gemm ceiling /' | tee -a "$W/header.txt"

for m in $MODELS; do
  [ -f "$W/$m/config.json" ] || "$BUILD/scitune" --quiet init --preset "$m" --dtype f32 --seed 1 --out "$W/$m" > /dev/null
  cat "$W/$m"/*.safetensors > /dev/null  # warm the page cache
  modes="0:0 1:0"                          # ckpt:bf16
  [ "$BF16" = 1 ] && modes="$modes 0:1 1:1"
  for mode in $modes; do
    ck=${mode%:*} bf=${mode#*:}
    for rep in $(seq "$REPEAT"); do
      echo "# load $(cut -d' ' -f1 /proc/loadavg)" >> "$OUT"
      OMP_WAIT_POLICY=$SCITUNE_OMP_WAIT \
        "$BUILD/bench/lora_train_bench" "$W/$m" --seq "$SEQ" --ckpt $ck --bf16 $bf --steps "$STEPS" | tee -a "$OUT"
      echo "# load $(cut -d' ' -f1 /proc/loadavg)" >> "$OUT"
      "$TORCH_PY" bench/lora_train_ref.py "$W/$m" --seq "$SEQ" --ckpt $ck --bf16 $bf --steps "$STEPS" --attn "$ATTN" \
        2> "$W/torch-$m-$ck-$bf.err" | tee -a "$OUT"
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$W/header.txt"

if [ "${QLORA_4B:-0}" = 1 ]; then
  [ -f "$W/gemma3-4b/config.json" ] || "$BUILD/scitune" --quiet init --preset gemma3-4b --dtype bf16 --seed 1 --out "$W/gemma3-4b" > /dev/null
  "$BUILD/bench/lora_train_bench" "$W/gemma3-4b" --quant nf4 --seq 4096 --ckpt 1 --steps 0 --warmup 1 | tee -a "$OUT"
fi

python3 - "$OUT" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
key = lambda r: (os.path.basename(r["model"]), r["ckpt"], r.get("bf16", False))
def best(impl):
    out = {}
    for r in rows:
        if r["impl"] != impl or r.get("quant", "none") != "none": continue
        k = key(r)
        if k not in out:
            out[k] = dict(r, runs=[r["tok_s"]])
        else:
            o = out[k]
            o["runs"].append(r["tok_s"])
            for f in ("peak_rss_mib", "train_peak_rss_mib"): o[f] = max(o[f], r[f])
            if r["step_s"] < o["step_s"]:
                for f in ("step_s", "tok_s", "fwd_s"): o[f] = r[f]
    return out
ours, ref = best("scitune"), best("torch")
gib = lambda m: f"{m / 1024:.2f}"
print("\n| model | ckpt | bf16 | scitune tok/s | torch tok/s | speed | scitune peak RSS GiB (after load) | torch peak RSS GiB | RSS ratio (after load) |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for k in sorted(ours):
    o, t = ours[k], ref.get(k)
    if not t: continue
    print(f"| {k[0]} | {'yes' if k[1] else 'no'} | {'yes' if k[2] else 'no'} | {o['tok_s']:.1f} | {t['tok_s']:.1f} | {o['tok_s']/t['tok_s']:.2f}x | "
          f"{gib(o['peak_rss_mib'])} ({gib(o['train_peak_rss_mib'])}) | {gib(t['peak_rss_mib'])} | "
          f"{o['peak_rss_mib']/t['peak_rss_mib']:.2f}x ({o['train_peak_rss_mib']/t['peak_rss_mib']:.2f}x) |")
print("\nper configuration: s/step (forward alone), all runs' tok/s; scitune: RSS after load, activation buffers (GiB)")
for k in sorted(ours):
    o, t = ours[k], ref.get(k, {})
    print(f"  {k[0]} ckpt={k[1]} bf16={k[2]}: scitune {o['step_s']:.2f} ({o['fwd_s']:.2f}) runs {o['runs']} loaded {gib(o['rss_loaded_mib'])}"
          f" act {gib(o['activation_mib'])} | torch {t.get('step_s', 0):.2f} ({t.get('fwd_s', 0):.2f}) runs {t.get('runs')}")
for k in sorted(ours):
    if k[2] and (k[0], k[1], False) in ref:
        print(f"  scitune bf16 vs torch fp32, {k[0]} ckpt={k[1]}: {ours[k]['tok_s'] / ref[(k[0], k[1], False)]['tok_s']:.2f}x")
for r in rows:
    if r.get("quant") == "nf4":
        print(f"\nQLoRA {os.path.basename(r['model'])} nf4 seq {r['seq']} ckpt {r['ckpt']}: step {r['warmup_s']:.0f} s "
              f"({r['seq']/r['warmup_s']:.1f} tok/s), peak RSS {gib(r['peak_rss_mib'])} GiB (loading, incl. mapped file "
              f"pages), {gib(r['train_peak_rss_mib'])} GiB after loading; after load {gib(r['rss_loaded_mib'])} GiB, "
              f"activation buffers {gib(r['activation_mib'])} GiB")
PY
