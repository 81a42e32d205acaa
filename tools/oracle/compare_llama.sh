#!/usr/bin/env bash
# Inference acceptance checks against llama.cpp (the oracle's llama-perplexity / llama-simple), both sides on
# the same GGUF, same tokens. Run from the repo root on the host:
#
#   tools/oracle/compare_llama.sh [BUILD_DIR] [real|chat|random|all]      (default: build, all)
#
#   BUILD_DIR  a Release build inside the checkout with -DSCITUNE_BENCH=ON, targets scitune and
#              logits_vs_llama_bench; its llama/ subfolder holds every big file (GGUFs, logits files).
#   real       (chat: only (c)) the released Gemma 3 270M Q4_K_M ($MODEL, default ~/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf):
#              (a) top-1 / log-prob agreement per position, prompt and KV-cache paths, on
#                  tests/golden/llama/public_domain_en.txt (2774 tokens, 5 chunks of 512, 1275 scored positions),
#                  against llama.cpp on the Q4_K_M file and on the same weights dequantised to F32 (llama-quantize
#                  --allow-requantize ... F32), plus llama.cpp's own Q4_K_M-vs-F32 statistics;
#              (b) scitune perplexity vs llama-perplexity, --ctx 512, same text;
#              (c) greedy chat replies (Gemma template, 64 tokens) to tests/golden/llama/chat_prompts.txt,
#                  scitune generate --chat --greedy vs llama-simple on the templated prompt (text) and vs
#                  llama-server (tools/oracle/llama_chat_greedy.py: ids and top-5 log-probs), with the first
#                  differing token and both margins there.
#   random     gemma3-1b and gemma3-4b shapes from `scitune init --seed 1` (bf16), converted in the oracle by
#              convert_hf_to_gguf.py (tools/oracle/make_random_gguf.sh) to F16 and Q8_0 ($RANDOM_TYPES, default "f16 q8_0"; $PRESETS, default
#              "gemma3-1b gemma3-4b"): (a) and (b) over the first $RANDOM_CHUNKS (3) chunks of 256 tokens.
#
# Runs the oracle through `flock /tmp/oracle.lock` (other sessions share it). Prints one table per part;
# the JSON lines behind them are kept in BUILD_DIR/llama/*.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${1:-build}
PARTS=${2:-all}
BUILD=$(cd "$BUILD" && pwd)
case "$BUILD/" in "$ROOT"/*) ;; *) echo "BUILD_DIR must be inside $ROOT (the oracle only sees the checkout)" >&2; exit 1 ;; esac
REL=${BUILD#"$ROOT"/}/llama
W=$ROOT/$REL
mkdir -p "$W"
ORACLE=${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}
oracle() { flock /tmp/oracle.lock "$ORACLE" "$@"; }
SCITUNE=$BUILD/scitune
CMP=$BUILD/bench/logits_vs_llama_bench
for b in "$SCITUNE" "$CMP"; do
  [ -x "$b" ] || { echo "missing $b: configure with -DSCITUNE_BENCH=ON and build scitune logits_vs_llama_bench" >&2; exit 1; }
done
TEXT=tests/golden/llama/public_domain_en.txt
PROMPTS=tests/golden/llama/chat_prompts.txt

# llama-perplexity on MODEL (repo-relative path) with -c CTX [--chunks N], saving its logits to OUT.kld;
# prints llama.cpp's final PPL line.
llama_ppl() {
  local model=$1 ctx=$2 out=$3 chunks=${4:-}
  oracle llama-perplexity -m "/work/$model" -f "/work/$TEXT" -c "$ctx" -t 2 ${chunks:+--chunks $chunks} \
    --kl-divergence-base "/work/$out" >"$ROOT/${out%.kld}.log" 2>&1
  sed -n 's/.*Final estimate: PPL = \([0-9.]*\) +\/- \([0-9.]*\).*/\1 \2/p' "$ROOT/${out%.kld}.log"
}
ours_ppl() {  # MODEL CTX [CHUNKS]
  "$SCITUNE" -q perplexity --model "$1" --file "$TEXT" --ctx "$2" ${3:+--chunks $3} |
    sed -n 's/.*Final estimate: PPL = \([0-9.]*\) +\/- \([0-9.]*\).*/\1 \2/p'
}
ppl_row() {  # LABEL "llama err" "ours err"
  python3 - "$@" <<'EOF'
import sys
label, l, o = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
d = 100 * (float(o[0]) / float(l[0]) - 1)
print(f"| {label} | {l[0]} ± {l[1]} | {o[0]} ± {o[1]} | {d:+.4f}% | {'ok' if abs(d) <= 0.1 else 'OVER 0.1%'} |")
EOF
}
agree_row() {  # LABEL JSON
  python3 - "$@" <<'EOF'
import json, sys
label, r = sys.argv[1], json.loads(sys.argv[2])
print(f"| {label} | {r['path']} | {r['top1_agree']}/{r['positions']} ({r['top1_pct']:.2f}%) | {r['top1_agree_within_tie']} "
      f"| {r['mean_abs_dlogp']:.4f} / {r['max_abs_dlogp']:.4f} | {r['mean_kl']:.5f} / {r['max_kl']:.4f} "
      f"| {r['ppl_llama']:.4f} / {r['ppl_ours']:.4f} ({r['ppl_rel_diff_pct']:+.3f}%) |")
for d in r["diffs"]:
    print(f"|   ↳ miss | chunk {d['chunk']} pos {d['pos']}: llama {d['llama_top']} vs ours {d['ours_top']} | llama margin "
          f"{d['llama_margin']:.4f} nats | our margin {d['ours_margin']:.4f} nats | | | |")
EOF
}
AGREE_HEAD="| model | path | top-1 same | same within 16-bit tie | mean / max abs Δ log p (llama's 16-nat window) | mean / max KL(llama‖ours) | PPL llama / ours on these tokens |
|---|---|---|---|---|---|---|"

run_real() {
  local src=${MODEL:-$HOME/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf}
  [ -f "$src" ] || { echo "no real model at $src (run scripts/fetch_model.sh)" >&2; exit 1; }
  ln -f "$src" "$W/real.gguf" 2>/dev/null || cp -f "$src" "$W/real.gguf"
  local M=$REL/real.gguf F=$REL/real-f32.gguf
  # The exact model: the same weights dequantised to F32, which llama.cpp multiplies without quantising
  # activations; it separates our arithmetic from llama.cpp's activation quantisation on the Q4_K_M file.
  [ -s "$ROOT/$F" ] || oracle llama-quantize --allow-requantize "/work/$M" "/work/$F" F32 2 >"$W/real-f32.quantize.log" 2>&1
  echo "== real Gemma 3 270M Q4_K_M, $TEXT =="
  local lp lpf op opf
  lp=$(llama_ppl "$M" 512 "$REL/real.kld")
  lpf=$(llama_ppl "$F" 512 "$REL/real-f32.kld")
  op=$(ours_ppl "$M" 512)
  opf=$(ours_ppl "$F" 512)
  local rows="" r
  for base in real real-f32; do
    for path in prompt cached; do
      r=$("$CMP" "$M" "$W/$base.kld" --path $path --show 5 2>/dev/null)
      echo "$r" >"$W/${base}_$path.json"
      rows+=$(agree_row "ours Q4_K_M vs llama.cpp $( [ $base = real ] && echo Q4_K_M || echo 'F32 (same weights)')" "$r")$'\n'
    done
  done
  r=$("$CMP" "$F" "$W/real-f32.kld" --path prompt 2>/dev/null)
  echo "$r" >"$W/real-f32_on_f32.json"
  rows+=$(agree_row "ours F32 vs llama.cpp F32" "$r")$'\n'
  echo
  echo "(a) per-position agreement, ctx 512, positions 256..510 of each chunk"
  echo "$AGREE_HEAD"
  printf '%s' "$rows"
  # llama.cpp against itself: its Q4_K_M run with its F32 run of the same weights as the base.
  oracle llama-perplexity -m "/work/$M" -t 2 --kl-divergence-base "/work/$REL/real-f32.kld" --kl-divergence \
    >"$W/real_self.log" 2>&1 || true
  # ... and against itself with another micro-batch (-ub 32): how reproducible its own Q4_K_M numbers are.
  oracle llama-perplexity -m "/work/$M" -t 2 -b 512 -ub 32 --kl-divergence-base "/work/$REL/real.kld" --kl-divergence \
    >"$W/real_ub32.log" 2>&1 || true
  echo
  echo "llama.cpp Q4_K_M vs llama.cpp F32 of the same weights (llama-perplexity --kl-divergence):"
  grep -E "^(Mean    KLD|Maximum KLD|Same top p|Mean PPL\(Q\)/PPL\(base\))" "$W/real_self.log" | sed 's/^/    /' || true
  echo "llama.cpp Q4_K_M -b 512 -ub 32 vs llama.cpp Q4_K_M default batches (llama-perplexity --kl-divergence):"
  grep -E "^(Mean    KLD|Maximum KLD|Same top p|Mean PPL\(Q\)/PPL\(base\))" "$W/real_ub32.log" | sed 's/^/    /' || true
  echo
  echo "(b) perplexity, --ctx 512 (target: within 0.1%)"
  echo "| model | llama-perplexity | scitune perplexity | difference | |"
  echo "|---|---|---|---|---|"
  ppl_row "270M Q4_K_M" "$lp" "$op"
  ppl_row "270M F32 (Q4_K_M dequantised)" "$lpf" "$opf"
  ppl_row "ours Q4_K_M vs llama.cpp F32" "$lpf" "$op"
}

run_chat() {
  local src=${MODEL:-$HOME/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf}
  [ -s "$W/real.gguf" ] || ln -f "$src" "$W/real.gguf" 2>/dev/null || cp -f "$src" "$W/real.gguf"
  local M=$REL/real.gguf
  echo
  echo "(c) greedy chat replies, 64 new tokens, Gemma template: scitune generate --chat --greedy vs llama-simple"
  echo "    (text) and llama-server (token ids + top-5 log-probs; llama.cpp's reply ids teacher-forced through our"
  echo "    decode path, so 'first difference' is the first step where our argmax is not llama.cpp's token)"
  oracle python3 tools/oracle/llama_chat_greedy.py --model "$M" --prompts "$PROMPTS" --out "$REL/chat_llama.txt" >/dev/null
  "$CMP" "$M" --chat "$W/chat_llama.txt" >"$W/chat_forced.jsonl" 2>/dev/null
  local i=0
  while IFS= read -r p; do
    [ -n "$p" ] || continue
    i=$((i + 1))
    local templ=$'<start_of_turn>user\n'"$p"$'<end_of_turn>\n<start_of_turn>model\n'
    oracle llama-simple -m "/work/$M" -n 64 "$templ" >"$W/chat$i.llama" 2>"$W/chat$i.llama.err"
    "$SCITUNE" -q generate --model "$M" --chat --greedy --max-new-tokens 64 --prompt "$p" >"$W/chat$i.ours"
  done <"$PROMPTS"
  python3 - "$W" "$PROMPTS" <<'EOF'
import json, sys
w, prompts = sys.argv[1], [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
server = [json.loads(l) for l in open(f"{w}/chat_llama.jsonl", encoding="utf-8")]
forced = [json.loads(l) for l in open(f"{w}/chat_forced.jsonl")]
print("| # | prompt | = llama-simple (text) | = llama-server (text) | llama-simple = llama-server | first token difference vs llama-server |")
print("|---|---|---|---|---|---|")
n_simple = n_server = n_tokens = 0
for i, p in enumerate(prompts, 1):
    templ = f"<start_of_turn>user\n{p}<end_of_turn>\n<start_of_turn>model\n"
    simple = open(f"{w}/chat{i}.llama", encoding="utf-8", errors="replace").read()
    assert simple.startswith("<bos>" + templ), f"llama-simple did not echo the prompt: {simple[:80]!r}"
    simple = simple[len("<bos>" + templ):].rstrip("\n")
    ours = open(f"{w}/chat{i}.ours", encoding="utf-8", errors="replace").read()
    ours = ours[:-1] if ours.endswith("\n") else ours  # generate ends the reply with one newline
    srv = server[i - 1]["text"]
    f = forced[i - 1]
    n_simple += ours == simple
    n_server += ours == srv
    n_tokens += f["same"]
    if f["same"]:
        diff = f"none in {f['steps']} tokens"
    else:
        diff = (f"step {f['step']}: llama {f['llama_token']} vs ours {f['ours_token']}; llama.cpp margin "
                f"{f['llama_margin']:.3f} nats, ours {f['ours_margin']:.3f} nats")
    yn = lambda b: "yes" if b else "NO"
    print(f"| {i} | {p} | {yn(ours == simple)} | {yn(ours == srv)} | {yn(simple == srv)} | {diff} |")
print()
print(f"identical replies: {n_simple}/{len(prompts)} vs llama-simple, {n_server}/{len(prompts)} vs llama-server "
      f"(token-identical under teacher forcing: {n_tokens}/{len(prompts)})")
EOF
}

run_random() {
  local presets=${PRESETS:-gemma3-1b gemma3-4b} types=${RANDOM_TYPES:-f16 q8_0} chunks=${RANDOM_CHUNKS:-3}
  echo "== random models at real shapes (scitune init --seed 1), ctx 256, first $chunks chunks of $TEXT =="
  df -h "$W" | tail -1
  local rows_a="" rows_b=""
  for preset in $presets; do
    tools/oracle/make_random_gguf.sh "$BUILD" "$preset" $types >/dev/null
    for t in $types; do
      local M=$REL/$preset-$t.gguf lp op r
      lp=$(llama_ppl "$M" 256 "$REL/$preset-$t.kld" "$chunks")
      op=$(ours_ppl "$M" 256 "$chunks")
      r=$("$CMP" "$M" "$W/$preset-$t.kld" --path prompt --show 5 2>/dev/null)
      echo "$r" >"$W/$preset-$t.json"
      rm -f "$W/$preset-$t.kld"
      rows_a+=$(agree_row "$preset $t" "$r")$'\n'
      rows_b+=$(ppl_row "$preset $t" "$lp" "$op")$'\n'
    done
  done
  echo
  echo "(a) per-position agreement, ctx 256"
  echo "$AGREE_HEAD"
  printf '%s' "$rows_a"
  echo
  echo "(b) perplexity, --ctx 256 --chunks $chunks (target: within 0.1%)"
  echo "| model | llama-perplexity | scitune perplexity | difference | |"
  echo "|---|---|---|---|---|"
  printf '%s' "$rows_b"
}

case $PARTS in
  real) run_real; run_chat ;;
  chat) run_chat ;;
  random) run_random ;;
  all) run_real; run_chat; echo; run_random ;;
  *) echo "unknown part $PARTS (real, chat, random or all)" >&2; exit 1 ;;
esac
