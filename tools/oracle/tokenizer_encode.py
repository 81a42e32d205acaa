#!/usr/bin/env python3
"""HF `tokenizers` ids for every line of a corpus (JSON lines with "text"), written as {"ids": [...]} lines in
the format `scitune tokenize --jsonl` prints, so the two outputs compare with cmp. Run in the oracle:
    run.sh python3 tools/oracle/tokenizer_encode.py --tokenizer /shared/tokenizers/gemma3/tokenizer.json \
        --corpus build/corpus.jsonl --out build/hf_ids.jsonl [--add-special] [--threads 2] [--time]
With --time it also reports encode throughput (encode_batch on --threads threads, RAYON_NUM_THREADS).
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out")
    ap.add_argument("--add-special", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    from tokenizers import Tokenizer  # after RAYON_NUM_THREADS: the pool is sized on first use

    t0 = time.perf_counter()
    tok = Tokenizer.from_file(args.tokenizer)
    load_s = time.perf_counter() - t0
    texts = [json.loads(line)["text"] for line in open(args.corpus, encoding="utf-8")]
    results = tok.encode_batch(texts, add_special_tokens=args.add_special)
    if args.out:
        with open(args.out, "w") as f:
            for r in results:
                f.write('{"ids":[' + ",".join(map(str, r.ids)) + "]}\n")
    if args.time:
        nbytes = sum(len(t.encode()) for t in texts)
        ntok = sum(len(r.ids) for r in results)
        best = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            tok.encode_batch(texts, add_special_tokens=args.add_special)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        print(json.dumps({"impl": "hf-tokenizers", "threads": args.threads, "load_s": round(load_s, 3),
                          "bytes": nbytes, "tokens": ntok, "seconds": round(best, 3),
                          "mb_per_s": round(nbytes / best / 1e6, 2), "tokens_per_s": round(ntok / best)}))
    print(f"{len(texts)} texts encoded", file=sys.stderr)


if __name__ == "__main__":
    main()
