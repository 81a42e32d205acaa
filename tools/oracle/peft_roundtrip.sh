#!/usr/bin/env bash
# PEFT interoperability of adapters written by `scitune train`: each adapter is trained for a few steps (so every
# lora_B is non-zero), loaded in the oracle with PeftModel.from_pretrained on AutoModelForCausalLM (float64, eager),
# checked for PEFT missing/unexpected-key warnings and for tensors PEFT did not take up, and its logits compared with
# `scitune score --adapter` (max|d| / max|ref| <= 1e-4 at valid positions; a right-padded row is included).
#
# Cases:  tiny-all7     tiny preset (bf16, random norms), r 16 alpha 32 on all seven projections
#         tiny-rslora   the same model, rsLoRA r 4 alpha 8 on q/v/down, dropout 0.1
#         tiny-regex    the same model, target_modules as a regex string (YAML), r 8 alpha 4
#         multimodal-*  the Gemma3ForConditionalGeneration golden model (tests/golden/gemma3/multimodal-seed3),
#                       both ways (see below); the two known failures are reported but do not fail the script
#                       unless EXPECT_FAIL_MULTIMODAL= (empty) is set
#         real-vocab    an HF-written model with Gemma 3's 262144-token vocabulary, trained on text with the real
#                       tokenizer
# With --update-fixture, the three tiny cases (model, scitune's adapters, PEFT's logits) are copied into
# tests/golden/peft/tiny for tests/train/peft_interop_test.cc, which repeats the comparison without the oracle.
#
#   tools/oracle/peft_roundtrip.sh [--update-fixture]      (BUILD=build-dir with scitune; default build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
S=$BUILD/scitune
W=$BUILD/peft-roundtrip
TOK=${SCITUNE_SHARED_DIR:-../shared}/tokenizers/gemma3
ORACLE=${ORACLE_RUN:-../shared/oracle/run.sh}
py() { flock /tmp/oracle.lock "$ORACLE" python3 tools/oracle/peft_roundtrip.py "$@" 2> >(grep -v -e kernels-community -e "Unrecognized keys in .rope_parameters" >&2); }
[ -x "$S" ] || { echo "$S missing: build scitune first (BUILD=...)" >&2; exit 1; }
[ -f "$TOK/tokenizer.json" ] || { echo "$TOK/tokenizer.json missing" >&2; exit 1; }
rm -rf "$W" && mkdir -p "$W"

link_tokenizer() { for f in tokenizer.json tokenizer_config.json; do ln -sf "$(realpath "$TOK/$f")" "$1/$f"; done; }

# Token-id data for the 512-token models (the tokens layout needs no matching tokenizer; `train` still loads one).
python3 - "$W/tokens.jsonl" <<'PY'
import json, random, sys
r = random.Random(5)
with open(sys.argv[1], "w") as f:
    for _ in range(16):
        f.write(json.dumps({"input_ids": [2] + [r.randrange(3, 508) for _ in range(r.randrange(12, 24))]}) + "\n")
PY
python3 - "$W/text.jsonl" <<'PY'
import json, random, sys
words = "the cell membrane protein binds a ligand and the signal crosses into the nucleus where genes respond".split()
r = random.Random(6)
with open(sys.argv[1], "w") as f:
    for _ in range(16):
        f.write(json.dumps({"text": " ".join(r.choice(words) for _ in range(r.randrange(8, 20)))}) + "\n")
PY

train() {  # train OUT MODEL DATA FORMAT [flags...]
  local out=$1 model=$2 data=$3 fmt=$4; shift 4
  "$S" --quiet train --model "$model" --data "$data" --data-format "$fmt" --output-dir "$out" --max-steps 3 \
    --learning-rate 2e-2 --warmup-steps 0 --per-device-train-batch-size 4 --max-seq-length 32 \
    --validation-split 0 --save-steps 1000 --seed 1 "$@" > "$out.log"
}

declare -A MODEL IDS ADAPTER
status=0
check() {  # check NAME [expect-fail]
  local name=$1 model=${MODEL[$1]} ids=${IDS[$1]} adapter=${ADAPTER[$1]:-$W/$1/run/adapter} ok=1
  if ! "$S" --quiet score --model "$model" --adapter "$adapter" --input "$ids" --output "$W/$name/ours.safetensors" \
       2> "$W/$name/score.err"; then
    echo "scitune score: $(cat "$W/$name/score.err")" | tee -a "$W/summary.txt"; ok=0
  elif ! py check --model "$model" --adapter "$adapter" --ids "$ids" --ours "$W/$name/ours.safetensors" \
       --out "$W/$name/peft.safetensors" 2> "$W/$name/check.err" | tee -a "$W/summary.jsonl"; then
    grep -e "^FAIL" "$W/$name/check.err" | cut -c1-300; ok=0
  fi
  if [ $ok = 1 ]; then echo "PASS $name"
  elif [ "${2:-}" = expect-fail ]; then echo "FAIL $name (known, see tests/golden/peft/README.md)"
  else echo "FAIL $name"; status=1; fi
}

# tiny: one model, three adapters.
mkdir -p "$W/tiny"
"$S" --quiet init --preset tiny --dtype bf16 --random-norms --seed 11 --out "$W/tiny/model" > /dev/null
link_tokenizer "$W/tiny/model"
py make-ids --out "$W/tiny/ids.safetensors" --vocab 512 --seq 16 --lengths 16,11
for c in tiny-all7 tiny-rslora tiny-regex; do MODEL[$c]=$W/tiny/model; IDS[$c]=$W/tiny/ids.safetensors; mkdir -p "$W/$c"; done
train "$W/tiny-all7/run" "$W/tiny/model" "$W/tokens.jsonl" tokens --r 16 --lora-alpha 32
train "$W/tiny-rslora/run" "$W/tiny/model" "$W/tokens.jsonl" tokens --r 4 --lora-alpha 8 --use-rslora \
  --lora-dropout 0.1 --target-modules q_proj v_proj down_proj
printf 'r: 8\nlora_alpha: 4\ntarget_modules: %s\n' "'.*\\.(q_proj|o_proj|up_proj)'" > "$W/tiny-regex/cfg.yaml"
train "$W/tiny-regex/run" "$W/tiny/model" "$W/tokens.jsonl" tokens --config "$W/tiny-regex/cfg.yaml"

# Multimodal wrapper (HF class Gemma3ForConditionalGeneration; PEFT's modules are model.language_model.layers.*).
#   multimodal-train       scitune -> PEFT: an adapter from `scitune train` on that folder
#   multimodal-peft-regex  PEFT -> scitune: PEFT's own adapter, targets restricted to the language model by a regex
#   multimodal-peft-list   PEFT -> scitune: PEFT's own adapter with the usual name list (PEFT adapts the vision
#                          tower's q/k/v too)
mkdir -p "$W/multimodal"
cp -r tests/golden/gemma3/multimodal-seed3/model "$W/multimodal/model"
link_tokenizer "$W/multimodal/model"
for c in multimodal-train multimodal-peft-regex multimodal-peft-list; do
  MODEL[$c]=$W/multimodal/model; IDS[$c]=$W/tiny/ids.safetensors; mkdir -p "$W/$c"
done
train "$W/multimodal-train/run" "$W/multimodal/model" "$W/tokens.jsonl" tokens --r 8 --lora-alpha 16
ALL7=q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj
py peft-adapter --model "$W/multimodal/model" --out "$W/multimodal-peft-regex/adapter" \
  --targets '.*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)'
py peft-adapter --model "$W/multimodal/model" --out "$W/multimodal-peft-list/adapter" --targets $ALL7
ADAPTER[multimodal-peft-regex]=$W/multimodal-peft-regex/adapter
ADAPTER[multimodal-peft-list]=$W/multimodal-peft-list/adapter

# Real vocabulary, real tokenizer, text data. (Padding stays shorter than the sliding window: with more padding
# than the window, HF's eager attention turns the whole padded row into NaN.)
mkdir -p "$W/real-vocab"
py make-model --out "$W/real-vocab/model" --vocab 262144 --seed 4
link_tokenizer "$W/real-vocab/model"
py make-ids --out "$W/real-vocab/ids.safetensors" --vocab 262144 --seq 24 --lengths 24,21 --seed 1
MODEL[real-vocab]=$W/real-vocab/model; IDS[real-vocab]=$W/real-vocab/ids.safetensors
train "$W/real-vocab/run" "$W/real-vocab/model" "$W/text.jsonl" text --r 16 --lora-alpha 16

for c in tiny-all7 tiny-rslora tiny-regex real-vocab multimodal-peft-regex; do check "$c"; done
for c in multimodal-train multimodal-peft-list; do check "$c" ${EXPECT_FAIL_MULTIMODAL-expect-fail}; done

if [ "${1:-}" = "--update-fixture" ]; then
  F=tests/golden/peft/tiny
  rm -rf "$F" && mkdir -p "$F/model"
  cp "$W/tiny/model/"{config.json,generation_config.json,model.safetensors} "$F/model/"
  for c in all7 rslora regex; do
    mkdir -p "$F/$c"
    cp "$W/tiny-$c/run/adapter/"{adapter_config.json,adapter_model.safetensors} "$F/$c/"
    cp "$W/tiny-$c/peft.safetensors" "$F/$c.peft_logits.safetensors"
  done
  chmod -R a+rX "$F"  # files written in the chroot come back 0600
  du -sh "$F"
fi
exit $status
