#!/usr/bin/env bash
# Full tokenizer parity run: assembles the corpus (tools/tokenizer_corpus.py), encodes it with HF `tokenizers`
# in the oracle and with `scitune tokenize` (from tokenizer.json, and from the GGUF when present), and
# compares the ids line by line. Run from the repo root:
#   tools/tokenizer_corpus_check.sh [WORKDIR]       (env: SCITUNE=path/to/scitune, GGUF=path/to/model.gguf)
# WORKDIR must be inside the repo (the oracle sees only the current directory); default build/tokcheck.
# With PYLIB=<folder holding the protobuf wheel unpacked, inside the repo> it also checks the tokenizer.model
# path: the full-size Gemma 3 tokenizer.model rebuilt from the GGUF, as transformers converts it.
set -euo pipefail
WORK=${1:-build/tokcheck}
SCITUNE=${SCITUNE:-build/scitune}
GGUF=${GGUF:-${SCITUNE_DATA:-$HOME/.cache/scitune}/models/gemma-3-270m-q4_k_m.gguf}
TOK=../shared/tokenizers/gemma3
ORACLE=${ORACLE:-../shared/oracle/run.sh}
mkdir -p "$WORK"
python3 tools/tokenizer_corpus.py --out "$WORK/corpus.jsonl"
"$ORACLE" python3 tools/oracle/tokenizer_encode.py --tokenizer /shared/tokenizers/gemma3/tokenizer.json \
  --corpus "$WORK/corpus.jsonl" --out "$WORK/hf_ids.jsonl"
"$SCITUNE" tokenize --tokenizer "$TOK" --jsonl "$WORK/corpus.jsonl" > "$WORK/scitune_ids.jsonl"
compare() {  # line-by-line comparison; names the first differing strings
  python3 - "$WORK/corpus.jsonl" "$WORK/hf_ids.jsonl" "$1" "$2" <<'PY'
import json, sys
corpus, hf, ours, label = sys.argv[1:5]
texts = [json.loads(l)["text"] for l in open(corpus, encoding="utf-8")]
a = open(hf).read().splitlines()
b = open(ours).read().splitlines()
assert len(a) == len(texts) and len(b) == len(texts), (len(a), len(b), len(texts))
skip = lambda t: label == "gguf" and "<image_soft_token>" in t  # id 262144 is not in the 270M vocabulary
bad = [i for i in range(len(texts)) if a[i] != b[i] and not skip(texts[i])]
skipped = sum(1 for t in texts if skip(t))
nbytes = sum(len(t.encode()) for t in texts)
print(f"{label}: {len(texts) - len(bad) - skipped}/{len(texts)} strings identical to HF tokenizers "
      f"({nbytes / 1e6:.1f} MB; {skipped} skipped), {len(bad)} different")
for i in bad[:5]:
    print(f"  line {i + 1}: {texts[i][:80]!r}")
sys.exit(1 if bad else 0)
PY
}
status=0
compare "$WORK/scitune_ids.jsonl" tokenizer.json || status=1
if [ -f "$GGUF" ]; then
  "$SCITUNE" tokenize --tokenizer "$GGUF" --jsonl "$WORK/corpus.jsonl" > "$WORK/scitune_gguf_ids.jsonl"
  compare "$WORK/scitune_gguf_ids.jsonl" gguf || status=1
else
  echo "gguf: $GGUF not found, skipped"
fi
if [ -n "${PYLIB:-}" ] && [ -f "$GGUF" ]; then
  cp "$GGUF" "$WORK/model.gguf"  # the oracle sees only the repo
  "$ORACLE" python3 tools/oracle/tokenizer_sp_golden.py full --pylib "$PYLIB" --gguf "$WORK/model.gguf" \
    --out-dir "$WORK/spfull" --corpus "$WORK/corpus.jsonl" --ids "$WORK/hf_sp_ids.jsonl"
  rm -f "$WORK/model.gguf"
  "$SCITUNE" tokenize --tokenizer "$WORK/spfull" --jsonl "$WORK/corpus.jsonl" > "$WORK/scitune_sp_ids.jsonl"
  cp "$WORK/hf_ids.jsonl" "$WORK/hf_json_ids.jsonl"
  cp "$WORK/hf_sp_ids.jsonl" "$WORK/hf_ids.jsonl"
  compare "$WORK/scitune_sp_ids.jsonl" tokenizer.model || status=1
  cp "$WORK/hf_json_ids.jsonl" "$WORK/hf_ids.jsonl"
fi
exit $status
