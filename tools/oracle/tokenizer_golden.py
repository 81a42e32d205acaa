#!/usr/bin/env python3
"""Golden data for tests/tokenizer from HF `tokenizers` and transformers with the real Gemma 3 tokenizer.
Run in the oracle, from the repo root, after tools/tokenizer_corpus.py made the corpus:
    run.sh python3 tools/oracle/tokenizer_golden.py --corpus build/corpus.jsonl --out tests/golden/tokenizer
Writes
  encode_sample.jsonl  {"text", "ids"}: every edge case (capped at 2000 characters) + a seeded sample of real strings
                       (cut to 180 characters); ids without special tokens; transformers' AutoTokenizer must
                       agree with `tokenizers` on all of them (checked here).
  decode_sample.jsonl  {"ids", "skip_special", "text"}: decodes of sample ids and of random id sequences
                       (byte pieces in valid and invalid runs, special tokens, whitespace tokens).
"""
import argparse
import json
import os
import random

TOKENIZER_DIR = "/shared/tokenizers/gemma3"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--real", type=int, default=1800)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    tok = Tokenizer.from_file(os.path.join(TOKENIZER_DIR, "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    rng = random.Random(args.seed)
    rows = [json.loads(line) for line in open(args.corpus, encoding="utf-8")]
    edges = [r["text"][:2000] for r in rows if r["src"].startswith("edge:")]
    real = [r["text"] for r in rows if not r["src"].startswith("edge:")]
    sample = edges + [s[:180] for s in rng.sample(real, args.real)]
    os.makedirs(args.out, exist_ok=True)
    encoded = []
    with open(os.path.join(args.out, "encode_sample.jsonl"), "w", encoding="utf-8") as f:
        for text in sample:
            ids = tok.encode(text, add_special_tokens=False).ids
            if auto(text, add_special_tokens=False)["input_ids"] != ids:
                raise SystemExit(f"AutoTokenizer and tokenizers disagree on {text!r}")
            encoded.append(ids)
            f.write(json.dumps({"text": text, "ids": ids}, ensure_ascii=False) + "\n")

    vocab = tok.get_vocab_size(with_added_tokens=True)
    byte_ids = [tok.token_to_id("<0x%02X>" % b) for b in range(256)]
    specials = [0, 1, 2, 3, 4, 105, 106, 107, 108, 138, 168, 255999, 262144, 6, 7]
    with open(os.path.join(args.out, "decode_sample.jsonl"), "w", encoding="utf-8") as f:
        def emit(ids):
            for skip in (False, True):
                f.write(json.dumps({"ids": ids, "skip_special": skip,
                                    "text": tok.decode(ids, skip_special_tokens=skip)}, ensure_ascii=False) + "\n")
        for ids in rng.sample(encoded, 150):
            emit(ids)
        utf8_runs = ["é", "日本", "😀", "👩‍👧", "\x00", "a"]
        for _ in range(150):
            seq = []
            for _ in range(rng.randrange(1, 12)):
                r = rng.random()
                if r < 0.3:
                    seq.append(rng.choice(byte_ids))  # random bytes: often invalid runs
                elif r < 0.5:
                    seq += [byte_ids[b] for b in rng.choice(utf8_runs).encode()]  # valid runs
                elif r < 0.55:
                    seq += [byte_ids[b] for b in rng.choice(utf8_runs).encode()][:-1]  # truncated runs
                elif r < 0.75:
                    seq.append(rng.choice(specials))
                else:
                    seq.append(rng.randrange(vocab))
            emit(seq)
    print(f"{len(sample)} encode cases, decode cases written to {args.out}")


if __name__ == "__main__":
    main()
