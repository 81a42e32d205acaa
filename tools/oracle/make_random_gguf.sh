#!/usr/bin/env bash
# Random GGUFs at real Gemma 3 shapes, made the way users make theirs: `scitune init --preset P --seed 1`
# (bf16 HF folder) given the real Gemma 3 vocabulary (random_gguf_vocab.py), converted by llama.cpp's
# convert_hf_to_gguf.py (f32, f16, bf16, q8_0), other types by llama-quantize from the f16 file. Run from the
# repo root on the host:
#
#   tools/oracle/make_random_gguf.sh BUILD_DIR PRESET TYPE...     e.g.  build gemma3-1b f16 q8_0 q4_0
#
# Writes BUILD_DIR/llama/PRESET-TYPE.gguf (kept if present); the HF folder and a temporary f16 are removed.
# Needs BUILD_DIR/scitune, the real model ($MODEL, default ~/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf)
# for its vocabulary, and the oracle (through flock /tmp/oracle.lock).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=$(cd "$1" && pwd)
PRESET=$2
shift 2
case "$BUILD/" in "$ROOT"/*) ;; *) echo "BUILD_DIR must be inside $ROOT (the oracle only sees the checkout)" >&2; exit 1 ;; esac
REL=${BUILD#"$ROOT"/}/llama
mkdir -p "$ROOT/$REL"
ORACLE=${ORACLE_RUN:-$ROOT/../shared/oracle/run.sh}
oracle() { flock /tmp/oracle.lock "$ORACLE" "$@"; }
SRC=${MODEL:-$HOME/.cache/scitune/models/gemma-3-270m-q4_k_m.gguf}
[ -s "$ROOT/$REL/real.gguf" ] || ln -f "$SRC" "$ROOT/$REL/real.gguf" 2>/dev/null || cp -f "$SRC" "$ROOT/$REL/real.gguf"
HF=$REL/$PRESET-hf
CONVERT=/usr/share/doc/llama.cpp-tools/scripts/convert_hf_to_gguf.py

hf_folder() {
  [ -f "$ROOT/$HF/tokenizer.model" ] && return
  rm -rf "${ROOT:?}/$HF"
  "$BUILD/scitune" -q init --preset "$PRESET" --seed 1 --dtype bf16 --out "$ROOT/$HF" >/dev/null
  cp "$ROOT/../shared/tokenizers/gemma3/tokenizer_config.json" "$ROOT/../shared/tokenizers/gemma3/tokenizer.json" "$ROOT/$HF/"
  oracle python3 tools/oracle/random_gguf_vocab.py --gguf "$REL/real.gguf" --model "$HF" >/dev/null
}
convert() {  # TYPE OUT
  hf_folder
  oracle python3 "$CONVERT" "$HF" --outtype "$1" --outfile "$2" >"$ROOT/${2%.gguf}.convert.log" 2>&1
}

tmp_f16=""
for t in "$@"; do
  out=$REL/$PRESET-$t.gguf
  [ -s "$ROOT/$out" ] && continue
  case $t in
    f32 | f16 | bf16 | q8_0) convert "$t" "$out" ;;
    *)
      if [ ! -s "$ROOT/$REL/$PRESET-f16.gguf" ]; then
        convert f16 "$REL/$PRESET-f16.gguf"
        tmp_f16=$REL/$PRESET-f16.gguf
      fi
      oracle llama-quantize "$REL/$PRESET-f16.gguf" "$out" "${t^^}" 2 >"$ROOT/${out%.gguf}.quantize.log" 2>&1
      ;;
  esac
  echo "$out: $(du -h "$ROOT/$out" | cut -f1)"
done
# Keep an f16 only when it was asked for.
case " $* " in *" f16 "*) ;; *) [ -n "$tmp_f16" ] && rm -f "$ROOT/$tmp_f16" ;; esac
rm -rf "${ROOT:?}/$HF"
