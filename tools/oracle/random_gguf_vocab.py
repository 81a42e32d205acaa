#!/usr/bin/env python3
"""Gives a `scitune init` folder the real Gemma 3 vocabulary, so convert_hf_to_gguf.py can turn it into a GGUF
with the same tokenizer as the released models (run in the oracle from the repo root):

  random_gguf_vocab.py --gguf build-lead/real.gguf --model DIR [--tokenizer-dir DIR2]

Writes DIR/tokenizer.model (rebuilt from the GGUF's pieces, scores and types, as tokenizer_sp_golden.py full
does); --tokenizer-dir copies tokenizer_config.json / tokenizer.json (add_bos_token, special ids) next to it
(make_random_gguf.sh copies them on the host instead, from ../shared/tokenizers/gemma3).
"""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_sp_golden import model_proto  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--gguf", required=True)
ap.add_argument("--tokenizer-dir")
ap.add_argument("--model", required=True)
a = ap.parse_args()

import gguf  # noqa: E402

r = gguf.GGUFReader(a.gguf)
f = r.fields["tokenizer.ggml.tokens"]
toks = [bytes(f.parts[i]).decode() for i in f.data]
sc = r.fields["tokenizer.ggml.scores"]
scores = [float(sc.parts[i][0]) for i in sc.data]
tt = r.fields["tokenizer.ggml.token_type"]
types = [int(tt.parts[i][0]) for i in tt.data]
pieces = [(t.replace(" ", "▁") if ty == 4 else t, 0.0 if ty in (3, 4) else s, ty)
          for t, s, ty in zip(toks, scores, types)]
# SentencePiece wants its unk piece typed UNKNOWN (2); llama.cpp's GGUF stores <unk> as a control token (3).
unk = int(r.fields["tokenizer.ggml.unknown_token_id"].parts[-1][0])
pieces[unk] = (pieces[unk][0], 0.0, 2)
with open(os.path.join(a.model, "tokenizer.model"), "wb") as out:
    out.write(model_proto(pieces))
for name in ("tokenizer_config.json", "tokenizer.json") if a.tokenizer_dir else ():
    shutil.copy(os.path.join(a.tokenizer_dir, name), os.path.join(a.model, name))
print(f"{a.model}: tokenizer.model with {len(pieces)} pieces from {a.gguf}")
