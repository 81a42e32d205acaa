#!/usr/bin/env python3
"""Golden data for importance-weighted ggml quantisation (tests/golden/quant/imatrix/).

Runs in the oracle:
    /work/shared/oracle/run.sh python3 tools/oracle/make_imatrix_quant_golden.py --out tests/golden/quant/imatrix

What llama-quantize --imatrix does per tensor is ggml_quantize_chunk(type, rows, ..., importance) with one
importance value per column; the oracle's libggml-base.so exports that function, so it is called through ctypes
on rows from the integer-only generator of make_quant_golden.py (mirrored in src/quant/test_data.cc) and on
importance vectors from the integer-only recipe below (mirrored in tests/quant/quants_imatrix_test.cc).

manifest.json: per type and importance set, sha256 of all the quantized rows; <type>.bin: the first
DETAIL_ROWS rows of every set, in set order, so a failing test can name the first differing row and block.
"""
import argparse
import ctypes
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_quant_golden as g  # noqa: E402  (the row generator and the ggml loader)

SEED = 0x1A7B1C0FFEE5EED5
N_PER_ROW = 512  # two K-quant super-blocks: the importance offset of the second block is exercised
ROWS = 4 * g.NUM_KINDS  # per importance set: every row kind four times
DETAIL_ROWS = 2
# GGML_TYPE_* codes; q8_0 is here to show that it ignores the importance.
TYPES = {"q4_0": (2, 32, 18), "q4_1": (3, 32, 20), "q5_0": (6, 32, 22), "q5_1": (7, 32, 24),
         "q8_0": (8, 32, 34), "q4_K": (12, 256, 144), "q5_K": (13, 256, 176), "q6_K": (14, 256, 210)}
SETS = ["dense", "sparse", "zeros", "ones", "spiky"]
U64 = np.uint64


def importance(set_index, n):
    """Column importance for set `set_index`: exact floats (a 24-bit integer times a power of two)."""
    name = SETS[set_index]
    if name == "zeros":
        return np.zeros(n, dtype=np.float32)
    if name == "ones":
        return np.ones(n, dtype=np.float32)
    j = np.arange(n, dtype=U64)
    u = g.splitmix(SEED, 1000 + 2 * set_index, j)
    v = g.splitmix(SEED, 1001 + 2 * set_index, j)
    mant = ((u >> U64(40)) + U64(1)).astype(np.float32)  # 1 .. 2^24, exact
    exps = -24 - (v % U64(16)).astype(np.int64)
    w = np.array([mant[i] * g.pow2(int(exps[i])) for i in range(n)], dtype=np.float32)
    if name == "sparse":
        w[(v >> U64(60)) < U64(4)] = 0.0
    if name == "spiky":
        w[(v >> U64(58)) == U64(0)] *= g.pow2(20)
    return w


def rows_for(set_index):
    return np.stack([g.make_row(SEED, set_index * ROWS + r, r % g.NUM_KINDS, N_PER_ROW) for r in range(ROWS)])


def quantize_chunk(lib, code, bs, ts, x, imp):
    nrows, n = x.shape
    out = ctypes.create_string_buffer(nrows * (n // bs) * ts)
    f = lib.ggml_quantize_chunk
    f.restype = ctypes.c_size_t
    f.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                  ctypes.c_void_p]
    x = np.ascontiguousarray(x, dtype=np.float32)
    imp = np.ascontiguousarray(imp, dtype=np.float32)
    size = f(code, x.ctypes.data, ctypes.addressof(out), 0, nrows, n, imp.ctypes.data)
    assert size == len(out.raw), (size, len(out.raw))
    return np.frombuffer(out.raw, dtype=np.uint8).copy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lib = g.load_ggml()
    sets = [(rows_for(s), importance(s, N_PER_ROW)) for s in range(len(SETS))]
    manifest = {"generator": {"seed": f"{SEED:016x}", "rows_per_set": ROWS, "n_per_row": N_PER_ROW,
                              "sets": SETS, "detail_rows": DETAIL_ROWS,
                              "input_sha256": [g.sha(x.tobytes()) for x, _ in sets],
                              "importance_sha256": [g.sha(w.tobytes()) for _, w in sets]},
                "ggml": f"Debian libggml0 {g.debian_version('libggml0')} (libggml-base.so, ggml_quantize_chunk "
                        "with an importance vector)",
                "types": {}}
    for name, (code, bs, ts) in TYPES.items():
        row_bytes = N_PER_ROW // bs * ts
        rec = {"row_bytes": row_bytes, "file": f"{name}.bin", "sets": {}}
        detail = bytearray()
        for s, (x, w) in enumerate(sets):
            q = quantize_chunk(lib, code, bs, ts, x, w)
            rec["sets"][SETS[s]] = g.sha(q.tobytes())
            detail += q[:DETAIL_ROWS * row_bytes].tobytes()
        # Without importance, for comparison: llama-quantize's output when a tensor has no imatrix entry.
        x0, _ = sets[0]
        out = ctypes.create_string_buffer(x0.shape[0] * row_bytes)
        lib.ggml_quantize_chunk(code, ctypes.c_void_p(x0.ctypes.data), out, ctypes.c_int64(0),
                                ctypes.c_int64(x0.shape[0]), ctypes.c_int64(N_PER_ROW), None)
        rec["dense_without_importance"] = g.sha(out.raw)
        with open(os.path.join(args.out, f"{name}.bin"), "wb") as f:
            f.write(bytes(detail))
        manifest["types"][name] = rec
        print(name, "done")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
