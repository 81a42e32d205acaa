#!/usr/bin/env python3
"""Golden data for the SentencePiece `tokenizer.model` path: what transformers (v5 GemmaTokenizer) makes of a
folder that holds only tokenizer.model. transformers reads the model with protobuf, which the oracle lacks:
download the wheel on the host (`pip download protobuf --no-deps --only-binary=:all: -d WHEELS`), unzip it
into a folder under the repo and pass it as --pylib.

  tiny:  trains a small SentencePiece BPE model (byte fallback, user-defined and control symbols) on --text,
         writes it to OUT_DIR/tokenizer.model and the HF ids of the strings of --sample (JSON lines with
         "text") to --golden:
    run.sh python3 tools/oracle/tokenizer_sp_golden.py tiny --pylib build/pylib --text build/train.txt \
        --sample tests/golden/tokenizer/encode_sample.jsonl --out-dir tests/golden/tokenizer/sp_tiny \
        --golden tests/golden/tokenizer/sp_tiny_sample.jsonl
  full:  rebuilds Gemma 3's full-size tokenizer.model from a GGUF (pieces, SentencePiece scores = the GGUF's
         with added tokens back at 0, types, '▁' restored in user-defined pieces) and writes HF's ids for a
         corpus, for tools/tokenizer_corpus_check.sh:
    run.sh python3 tools/oracle/tokenizer_sp_golden.py full --pylib build/pylib --gguf model.gguf \
        --out-dir build/spfull --corpus build/corpus.jsonl --ids build/hf_sp_ids.jsonl
"""
import argparse
import json
import os
import struct
import sys


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def model_proto(pieces):
    """A sentencepiece.ModelProto: pieces (piece, score, type), BPE with byte fallback, identity normaliser."""
    out = bytearray()
    for piece, score, typ in pieces:
        msg = field(1, 2, piece.encode()) + field(2, 5, struct.pack("<f", score)) + field(3, 0, varint(typ))
        out += field(1, 2, msg)
    trainer = field(3, 0, varint(2)) + field(35, 0, varint(1)) + field(40, 0, varint(3))
    out += field(2, 2, trainer)
    normalizer = field(1, 2, b"identity") + field(3, 0, varint(0)) + field(4, 0, varint(0))
    out += field(3, 2, normalizer)
    return bytes(out)


def hf_tokenizer(folder):
    from transformers import GemmaTokenizer
    return GemmaTokenizer.from_pretrained(folder)


def tiny(args):
    import sentencepiece as spm
    os.makedirs(args.out_dir, exist_ok=True)
    prefix = os.path.join(args.out_dir, "tokenizer")
    spm.SentencePieceTrainer.train(
        input=args.text, model_prefix=prefix, model_type="bpe", vocab_size=args.vocab, byte_fallback=True,
        character_coverage=0.995, add_dummy_prefix=False, remove_extra_whitespaces=False,
        normalization_rule_name="identity", split_digits=True, allow_whitespace_only_pieces=True,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>",
        unk_piece="<unk>", control_symbols=["<start_of_turn>", "<end_of_turn>", "<mask>"],
        user_defined_symbols=["<table>", "▁▁", "▁▁▁▁"], minloglevel=2)
    os.remove(prefix + ".vocab")
    tok = hf_tokenizer(args.out_dir)
    texts = [json.loads(l)["text"] for l in open(args.sample, encoding="utf-8")]
    with open(args.golden, "w", encoding="utf-8") as f:
        for t in (t[:300] for t in texts[:: args.every]):
            ids = tok(t, add_special_tokens=False)["input_ids"]
            f.write(json.dumps({"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                                "decoded_skip": tok.decode(ids, skip_special_tokens=True)},
                               ensure_ascii=False) + "\n")
    print(f"{args.out_dir}/tokenizer.model: {os.path.getsize(prefix + '.model')} bytes; golden {args.golden}")


def full(args):
    import gguf
    r = gguf.GGUFReader(args.gguf)
    f = r.fields["tokenizer.ggml.tokens"]
    toks = [bytes(f.parts[i]).decode() for i in f.data]
    sc = r.fields["tokenizer.ggml.scores"]
    scores = [float(sc.parts[i][0]) for i in sc.data]
    tt = r.fields["tokenizer.ggml.token_type"]
    types = [int(tt.parts[i][0]) for i in tt.data]
    pieces = [(t.replace(" ", "▁") if ty == 4 else t, 0.0 if ty in (3, 4) else s, ty)
              for t, s, ty in zip(toks, scores, types)]
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "tokenizer.model"), "wb") as out:
        out.write(model_proto(pieces))
    tok = hf_tokenizer(args.out_dir)
    texts = [json.loads(l)["text"] for l in open(args.corpus, encoding="utf-8")]
    with open(args.ids, "w") as out:
        for r in tok.backend_tokenizer.encode_batch(texts, add_special_tokens=False):
            out.write('{"ids":[' + ",".join(map(str, r.ids)) + "]}\n")
    print(f"{len(texts)} texts encoded with transformers' conversion of {args.out_dir}/tokenizer.model")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tiny")
    t.add_argument("--pylib")
    t.add_argument("--text", required=True)
    t.add_argument("--sample", required=True)
    t.add_argument("--out-dir", required=True)
    t.add_argument("--golden", required=True)
    t.add_argument("--vocab", type=int, default=1200)
    t.add_argument("--every", type=int, default=10)
    fu = sub.add_parser("full")
    fu.add_argument("--pylib")
    fu.add_argument("--gguf", required=True)
    fu.add_argument("--out-dir", required=True)
    fu.add_argument("--corpus", required=True)
    fu.add_argument("--ids", required=True)
    args = ap.parse_args()
    if args.pylib:
        sys.path.insert(0, os.path.abspath(args.pylib))
    tiny(args) if args.cmd == "tiny" else full(args)


if __name__ == "__main__":
    main()
