#!/usr/bin/env bash
# Proves each `scitune export` format in the tool that will run it (issue #8), on the real Gemma 3 270M (Q4_K_M
# base) with a LoRA adapter trained for 12 steps on the bundled science QA set. Run from the repo root on the host:
#
#   tools/oracle/export_check.sh [BUILD_DIR]        (default build; needs BUILD_DIR/scitune and the oracle)
#
# Checks, each printed with its numbers (files under BUILD_DIR/export_check/):
#   1. gguf-py reads every key and tensor of every GGUF we write
#   2. llama-quantize on our F32 GGUF -> Q8_0 / Q4_0 / Q4_K_M: same type per tensor and identical bytes as our own
#      Q8_0 / Q4_0 / Q4_K_M (and, for reference, from our F16: llama-quantize then starts from f16-rounded values)
#   3. llama-perplexity vs scitune perplexity on our F16 / Q8_0 / Q4_K_M GGUFs (ctx 512, tests/golden/llama text),
#      and llama-perplexity on the F32 dequantisation of our Q8_0 / Q4_K_M (the same model without llama.cpp's
#      rounding of activations to 8 bits before each quantised product)
#   4. greedy replies (Gemma chat turn, 32 tokens): llama-simple vs scitune generate on our F16 and Q8_0 GGUFs
#   5. gguf-lora: llama-completion --lora on the base F32 GGUF + our LoRA GGUF vs llama-completion on our merged F32
#   6. merged folder: transformers' AutoModelForCausalLM logits vs scitune score --adapter (unmerged) logits
#   7. convert_hf_to_gguf.py on our merged folder vs our own F32 GGUF: keys and tensors
# STEPS="3 5" runs only those checks (the exports are made either way).
set -euo pipefail
STEPS=${STEPS:-1 2 3 4 5 6 7}
want() { case " $STEPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=$(cd "${1:-build}" && pwd)
case "$BUILD/" in "$ROOT"/*) ;; *) echo "BUILD_DIR must be inside $ROOT (the oracle only sees the checkout)" >&2; exit 1 ;; esac
REL=${BUILD#"$ROOT"/}/export_check
W=$ROOT/$REL
mkdir -p "$W"
ORACLE=${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}
oracle() { flock /tmp/oracle.lock "$ORACLE" "$@"; }
S=$BUILD/scitune
SRC=${MODEL:-$HOME/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf}
[ -s "$W/real.gguf" ] || ln -f "$SRC" "$W/real.gguf" 2>/dev/null || cp -f "$SRC" "$W/real.gguf"
BASE=$REL/real.gguf
TEXT=tests/golden/llama/public_domain_en.txt
PROMPTS=tests/golden/llama/chat_prompts.txt
export SCITUNE_THREADS=2 OPENBLAS_NUM_THREADS=2

if [ ! -f "$W/run/adapter/adapter_config.json" ]; then
  "$S" -q train --model "$BASE" --data data/demo/science_qa.jsonl --max-steps 12 --learning-rate 1e-3 \
    --per-device-train-batch-size 4 --seed 42 --output-dir "$W/run" --force >/dev/null
fi
A=$REL/run/adapter
ex() { "$S" -q export --model "$BASE" --force "$@" >/dev/null; }
for q in f32 f16 q8_0 q4_0 q4_k_m; do ex --adapter "$A" --format gguf --quant $q --out "$W/gguf-$q" --name sci; done
ex --format gguf --quant f32 --out "$W/base-f32" --name base
ex --adapter "$A" --format gguf-lora --out "$W/lora" --name sci
ex --adapter "$A" --format merged --dtype f32 --out "$W/merged"
g() { echo "$REL/gguf-$1/sci-${1^^}.gguf"; }

if want 1; then
echo "== 1. gguf-py reads every GGUF we wrote"
oracle python3 tools/oracle/gguf_compare.py read "$(g f32)" "$(g f16)" "$(g q8_0)" "$(g q4_0)" "$(g q4_k_m)" \
  "$REL/lora/sci-lora-F32.gguf" | python3 -m json.tool
fi

if want 2; then
echo "== 2. llama-quantize on our F32 (and F16) vs our own quantised files (per tensor: type, bytes)"
for q in q8_0 q4_0 q4_k_m; do
  for from in f32 f16; do
    oracle llama-quantize "$(g $from)" "$REL/lq-$from-$q.gguf" "${q^^}" 2 >"$W/lq-$from-$q.log" 2>&1
    printf '%-6s from our %-3s: ' "$q" "$from"
    oracle python3 tools/oracle/gguf_compare.py tensors "$(g $q)" "$REL/lq-$from-$q.gguf"
  done
done
fi

if want 3; then
echo "== 3. perplexity, ctx 512: llama-perplexity vs scitune perplexity (same GGUF)"
for q in f16 q8_0 q4_k_m; do
  lp=$(oracle llama-perplexity -m "$(g $q)" -f "$TEXT" -c 512 -t 2 2>&1 | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
  op=$("$S" perplexity --model "$(g $q)" --file "$TEXT" --ctx 512 2>&1 | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
  python3 -c "import sys; l,o=float('$lp'),float('$op'); print(f'$q: llama {l:.4f}  ours {o:.4f}  diff {100*(o-l)/l:+.3f}%')"
  if [ "$q" != f16 ]; then
    oracle llama-quantize --allow-requantize "$(g $q)" "$REL/deq-$q.gguf" F32 2 >/dev/null 2>&1
    dp=$(oracle llama-perplexity -m "$REL/deq-$q.gguf" -f "$TEXT" -c 512 -t 2 2>&1 | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
    rm -f "$W/deq-$q.gguf"
    python3 -c "l,o=float('$dp'),float('$op'); print(f'$q: llama on its F32 dequantisation {l:.4f}  ours {o:.4f}  diff {100*(o-l)/l:+.3f}%')"
  fi
done
fi

if want 4; then
echo "== 4. greedy chat replies, 32 tokens: llama-simple vs scitune generate"
for q in f16 q8_0; do
  same=0 n=0
  while IFS= read -r p; do
    [ -n "$p" ] || continue
    n=$((n + 1))
    templ=$'<start_of_turn>user\n'"$p"$'<end_of_turn>\n<start_of_turn>model\n'
    oracle llama-simple -m "/work/$(g $q)" -n 32 "$templ" </dev/null >"$W/g$q-$n.llama" 2>/dev/null
    "$S" -q generate --model "$(g $q)" --chat --greedy --max-new-tokens 32 --prompt "$p" </dev/null >"$W/g$q-$n.ours"
    if python3 - "$W/g$q-$n.llama" "$W/g$q-$n.ours" "$templ" <<'PY'
import re, sys
l = open(sys.argv[1], encoding="utf-8", errors="replace").read()
o = open(sys.argv[2], encoding="utf-8", errors="replace").read().rstrip("\n")
l = l[len("<bos>" + sys.argv[3]):].rstrip("\n") if l.startswith("<bos>" + sys.argv[3]) else l
# llama-simple prints <unusedN> pieces; scitune generate decodes them as the tokenizer does (skipped).
l = re.sub(r"<unused[0-9]+>", "", l)
sys.exit(0 if l == o else 1)
PY
    then same=$((same + 1)); fi
  done <"$PROMPTS"
  echo "$q: $same/$n replies identical"
done
fi

if want 5; then
echo "== 5. gguf-lora: llama-completion base F32 + our LoRA GGUF vs our merged F32 (greedy, 32 tokens)"
same=0 n=0 base_same=0
while IFS= read -r p; do
  [ -n "$p" ] || continue
  n=$((n + 1))
  templ=$'<start_of_turn>user\n'"$p"$'<end_of_turn>\n<start_of_turn>model\n'
  run() { oracle llama-completion -no-cnv --no-display-prompt --temp 0 --top-k 1 -s 1 -n 32 -t 2 --no-warmup \
            -p "$templ" "$@" </dev/null 2>/dev/null; }
  run -m "/work/$REL/base-f32/base-F32.gguf" --lora "/work/$REL/lora/sci-lora-F32.gguf" >"$W/lora-$n.a"
  run -m "/work/$(g f32)" >"$W/lora-$n.b"
  run -m "/work/$REL/base-f32/base-F32.gguf" >"$W/lora-$n.base"
  [ -s "$W/lora-$n.a" ] || { echo "llama-completion wrote nothing for prompt $n" >&2; exit 1; }
  cmp -s "$W/lora-$n.a" "$W/lora-$n.b" && same=$((same + 1))
  cmp -s "$W/lora-$n.a" "$W/lora-$n.base" && base_same=$((base_same + 1))
done <"$PROMPTS"
echo "$same/$n greedy replies identical (llama.cpp applying our LoRA GGUF = llama.cpp on our merged GGUF);"
echo "  control: $base_same/$n identical to the base without the LoRA (the adapter does change the replies)"
fi

if want 6; then
echo "== 6. merged folder in transformers vs scitune score --adapter (unmerged), fp32"
oracle python3 tools/oracle/merged_logits_check.py ids "$REL/merged" "$REL/m.in.safetensors"
"$S" -q score --model "$BASE" --adapter "$A" --input "$W/m.in.safetensors" --output "$W/m.out.safetensors" --force
oracle python3 tools/oracle/merged_logits_check.py compare "$REL/merged" "$REL/m.out.safetensors"
fi

if want 7; then
echo "== 7. convert_hf_to_gguf.py on our merged folder vs our F32 GGUF"
cp ../shared/tokenizers/gemma3/tokenizer_config.json ../shared/tokenizers/gemma3/tokenizer.json "$W/merged/"
oracle python3 tools/oracle/random_gguf_vocab.py --gguf "$BASE" --model "$REL/merged" >/dev/null
oracle python3 /usr/share/doc/llama.cpp-tools/scripts/convert_hf_to_gguf.py "$REL/merged" --outtype f32 \
  --outfile "$REL/converted-f32.gguf" >"$W/convert.log" 2>&1
echo "keys:    $(oracle python3 tools/oracle/gguf_compare.py keys "$(g f32)" "$REL/converted-f32.gguf")"
echo "tensors: $(oracle python3 tools/oracle/gguf_compare.py tensors "$(g f32)" "$REL/converted-f32.gguf")"
fi
