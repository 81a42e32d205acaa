#!/usr/bin/env python3
"""An F32 GGUF for timing llama-quantize (bench/quant_vs_llama.sh).

Gemma 3 4B layer shapes (hidden 2560, FFN 10240, 8 heads / 4 KV heads of 256: every row length is a multiple
of 256, so K-quants apply without llama.cpp's fallbacks), LAYERS layers and a 16384-row embedding. Weights are
bell-shaped rows (kind 0) of the generator in make_quant_golden.py / src/quant/test_data.cc, the same data
bench/quant_bench.cc quantizes. Prints the number of values in 2-D tensors (those llama-quantize quantizes).

  run.sh python3 tools/oracle/make_quant_bench_gguf.py --out build/bench.gguf [--layers 2]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_quant_golden as g  # noqa: E402

HIDDEN, FFN, HEADS, KV_HEADS, HEAD_DIM, VOCAB = 2560, 10240, 8, 4, 256, 16384


def bell_rows(seed, rows, n):
    """Kind-0 rows 0..rows-1 of length n (vectorised make_row)."""
    out = np.empty((rows, n), dtype=np.float32)
    j = np.arange(n, dtype=np.uint64)
    for r0 in range(0, rows, 256):
        r = np.arange(r0, min(rows, r0 + 256), dtype=np.uint64)
        u = g.splitmix(seed, (2 * r)[:, None], j[None, :])
        scale_exp = (g.splitmix(seed, 2 * r + 1, 0) % np.uint64(13)).astype(np.int64) - 6
        scale = ((127 + scale_exp).astype(np.uint32) << np.uint32(23)).view(np.float32)
        out[r0:r0 + len(r)] = g.bell(u) * scale[:, None]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=2)
    args = ap.parse_args()
    import gguf
    w = gguf.GGUFWriter(args.out, "gemma3")
    w.add_context_length(8192)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(args.layers)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(1e6)
    w.add_sliding_window(1024)
    shapes = {"token_embd.weight": (VOCAB, HIDDEN), "output_norm.weight": (HIDDEN,)}
    for b in range(args.layers):
        p = f"blk.{b}."
        shapes.update({p + "attn_norm.weight": (HIDDEN,), p + "attn_q.weight": (HEADS * HEAD_DIM, HIDDEN),
                       p + "attn_k.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
                       p + "attn_v.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
                       p + "attn_q_norm.weight": (HEAD_DIM,), p + "attn_k_norm.weight": (HEAD_DIM,),
                       p + "attn_output.weight": (HIDDEN, HEADS * HEAD_DIM), p + "post_attention_norm.weight": (HIDDEN,),
                       p + "ffn_norm.weight": (HIDDEN,), p + "ffn_gate.weight": (FFN, HIDDEN),
                       p + "ffn_up.weight": (FFN, HIDDEN), p + "ffn_down.weight": (HIDDEN, FFN),
                       p + "post_ffw_norm.weight": (HIDDEN,)})
    quantized = 0
    for i, (name, shape) in enumerate(shapes.items()):
        if len(shape) == 1:
            w.add_tensor(name, np.ones(shape, dtype=np.float32))
        else:
            w.add_tensor(name, bell_rows(0xBE4C + i, shape[0], shape[1]))
            quantized += shape[0] * shape[1]
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(quantized)


if __name__ == "__main__":
    main()
