#!/usr/bin/env python3
"""Shrinks a llama-perplexity logits file (--kl-divergence-base) to the few numbers a unit test needs:

  llama_kld_topk.py BASE.kld OUT.safetensors [--k 8]

BASE.kld (llama.cpp tools/perplexity/perplexity.cpp): "_logits_", int32 n_ctx, n_vocab, n_chunk,
int32 tokens[n_chunk*n_ctx], then per chunk and scored position (n_ctx/2 .. n_ctx-2) nv = 2*((n_vocab+1)/2)+4
uint16: float scale, float min_log_prob, then q[n_vocab] with log p = min_log_prob + scale*q.
OUT (safetensors, runs in the oracle or anywhere with numpy + safetensors):
  tokens    int32 [n_chunk, n_ctx]   as llama.cpp tokenized the text (each chunk runs with token 0 = BOS)
  top_ids   int32 [n_chunk*n_scored, k]   llama.cpp's k most likely next tokens, best first
  top_logp  f32   [n_chunk*n_scored, k]   their log-probabilities (16-bit steps of <= 16/65535 nats)
  target_logp f32 [n_chunk*n_scored]      log p of the token that follows
metadata: n_ctx, first (= n_ctx/2), n_vocab.
"""
import argparse

import numpy as np
from safetensors.numpy import save_file

ap = argparse.ArgumentParser()
ap.add_argument("kld")
ap.add_argument("out")
ap.add_argument("--k", type=int, default=8)
a = ap.parse_args()

raw = np.memmap(a.kld, dtype=np.uint8, mode="r")
assert bytes(raw[:8]) == b"_logits_", "not a llama-perplexity logits file"
n_ctx, n_vocab, n_chunk = (int(x) for x in np.frombuffer(raw[8:20].tobytes(), dtype="<i4"))
first = n_ctx // 2
n_scored = n_ctx - 1 - first
nv = 2 * ((n_vocab + 1) // 2) + 4
tok_end = 20 + 4 * n_chunk * n_ctx
assert raw.size == tok_end + 2 * n_chunk * n_scored * nv, "size does not match the header"
tokens = np.frombuffer(raw[20:tok_end].tobytes(), dtype="<i4").reshape(n_chunk, n_ctx)
rows = np.frombuffer(raw[tok_end:], dtype="<u2").reshape(n_chunk * n_scored, nv)
hdr = rows[:, :4].copy().view("<f4")  # [P, 2]: scale, min_log_prob
q = rows[:, 4:4 + n_vocab]
top = np.argsort(-q.astype(np.int32), axis=1, kind="stable")[:, : a.k]  # ties: lower id first, as argmax
logp = hdr[:, 1:2] + hdr[:, 0:1] * np.take_along_axis(q, top, axis=1).astype(np.float32)
targets = np.concatenate([tokens[c, first + 1:] for c in range(n_chunk)])
tl = hdr[:, 1] + hdr[:, 0] * q[np.arange(q.shape[0]), targets].astype(np.float32)
save_file({"tokens": np.ascontiguousarray(tokens.astype(np.int32)), "top_ids": np.ascontiguousarray(top.astype(np.int32)),
           "top_logp": np.ascontiguousarray(logp.astype(np.float32)), "target_logp": np.ascontiguousarray(tl.astype(np.float32))},
          a.out, metadata={"n_ctx": str(n_ctx), "first": str(first), "n_vocab": str(n_vocab),
                           "producer": "tools/oracle/llama_kld_topk.py"})
print(f"{a.out}: {n_chunk} chunks of {n_ctx}, {q.shape[0]} positions, top {a.k}; "
      f"llama.cpp PPL on them {np.exp(-tl.mean()):.4f}")
