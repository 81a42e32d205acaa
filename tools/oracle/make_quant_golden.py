#!/usr/bin/env python3
"""Golden data for the ggml block quantizers and bitsandbytes NF4 (tests/golden/quant/).

Runs in the oracle:  /work/shared/oracle/run.sh python3 tools/oracle/make_quant_golden.py --out tests/golden/quant

ggml side: the oracle's libggml-base.so (Debian ggml 0.27) exports the reference quantizers
(quantize_row_*_ref, no imatrix) and dequantize_row_*; they are called through ctypes. gguf-py's
gguf.quants only quantizes BF16/Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 (K-quants: dequantize only, Q8_1/Q8_K: nothing),
so it serves as a cross-check. NF4 side: bitsandbytes quantize_4bit / dequantize_4bit on CPU tensors.

Inputs come from the integer-only generator mirrored in src/quant/test_data.cc (splitmix64 + float bit
patterns + exact power-of-two scalings), so C++ reproduces the same floats without any shared libm call.
Per type the manifest keeps sha256 of the quantized bytes and of the dequantized floats (NaNs canonicalised
to 0x7fc00000) over all rows;
<type>.bin keeps the first DETAIL_ROWS quantized rows and DEQ_ROWS dequantized rows for diagnosis.
"""
import argparse
import ctypes
import hashlib
import json
import os

import numpy as np

SEED = 0x5C17A4E5D00DF00D
ROWS = 10240
N_PER_ROW = 256
NUM_KINDS = 14
DETAIL_ROWS = 64
DEQ_ROWS = 32
GAMMA = np.uint64(0x9E3779B97F4A7C15)
U64 = np.uint64

# ---------------------------------------------------------------- generator (mirror of test_data.cc)


def splitmix(seed, stream, index):
    with np.errstate(over="ignore"):
        z = U64(seed) + ((np.asarray(stream, dtype=U64) << U64(32)) + np.asarray(index, dtype=U64) + U64(1)) * GAMMA
        z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
        return z ^ (z >> U64(31))


def pow2(e):
    return np.array([(127 + int(e)) << 23], dtype=np.uint32).view(np.float32)[0]


def bell(u):
    g = np.zeros(np.shape(u), dtype=np.int64)
    for k in range(4):
        g += ((u >> U64(16 * k)) & U64(0xFFFF)).astype(np.int64)
    return (g - 131070).astype(np.float32) * pow2(-17)


def uniform(u):
    return ((u >> U64(40)).astype(np.int64) - (1 << 23)).astype(np.float32) * pow2(-23)


def from_fields(sign, exp, mant):
    bits = (np.asarray(sign, dtype=U64) << U64(31)) | (np.asarray(exp, dtype=U64) << U64(23)) | (
        np.asarray(mant, dtype=U64) & U64(0x7FFFFF))
    return bits.astype(np.uint32).view(np.float32)


def make_row(seed, row, kind, n):
    j = np.arange(n, dtype=U64)
    u = splitmix(seed, 2 * row, j)
    param = lambda k: int(splitmix(seed, 2 * row + 1, k))
    row_scale = pow2(param(0) % 13 - 6)
    if kind == 0:
        v = bell(u) * row_scale
    elif kind == 1:
        v = uniform(u) * row_scale
    elif kind == 2:
        v = from_fields(u & U64(1), 0, 0)
    elif kind == 3:
        v = bell(u) * pow2(-10)
        v[param(1) % n] = from_fields(param(4) & 1, 127 + 2 + param(3) % 8, param(2) >> 41)[()]
    elif kind == 4:
        v = from_fields(u >> U64(63), (u >> U64(23)) % U64(4), u)
    elif kind == 5:
        v = from_fields(u >> U64(63), U64(230) + (u >> U64(32)) % U64(25), u)
    elif kind == 6:
        v = np.full(n, bell(U64(param(1))) * row_scale, dtype=np.float32)
    elif kind == 7:
        v = ((bell(u) * row_scale).view(np.uint32) | np.uint32(0x80000000)).view(np.float32)
    elif kind == 8:
        bits = (uniform(u).view(np.uint32) & np.uint32(0x7FFFFFFF)) | ((j & U64(1)).astype(np.uint32) << np.uint32(31))
        v = bits.view(np.float32)
    elif kind == 9:
        v = from_fields(u >> U64(63), U64(100) + (u >> U64(32)) % U64(55), u)
    elif kind == 10:
        v = (((u >> U64(32)) % U64(65)).astype(np.int64) - 32).astype(np.float32) * pow2(-(param(1) % 5))
    elif kind == 11:
        v = np.where((u >> U64(61)) == 0, bell(u) * row_scale, np.float32(0.0)).astype(np.float32)
    elif kind == 12:
        blocks = np.array([splitmix(seed, 2 * row + 1, 8 + b) for b in range(n // 32 + 1)], dtype=U64)
        v = bell(blocks[(j // U64(32)).astype(np.int64)]) * row_scale
    elif kind == 13:
        v = np.float32(100.0) + bell(u) * pow2(-4)
    else:
        raise ValueError(kind)
    return np.ascontiguousarray(v, dtype=np.float32)


def make_rows(seed, rows, n, kinds=None):
    kinds = kinds or list(range(NUM_KINDS))
    return np.stack([make_row(seed, r, kinds[r % len(kinds)], n) for r in range(rows)])


def sha(b):
    return hashlib.sha256(bytes(b)).hexdigest()


def canon_sha(y):
    """sha256 of fp32 values with every NaN written as 0x7fc00000 (NaN payloads follow operand order)."""
    bits = np.ascontiguousarray(y, dtype=np.float32).view(np.uint32).copy()
    bits[np.isnan(y)] = 0x7FC00000
    return sha(bits.tobytes())


# ---------------------------------------------------------------- ggml through ctypes

TYPES = {  # name: (block size, bytes per block, quantize symbol, dequantize symbol or None)
    "f16": (1, 2, "ggml_fp32_to_fp16_row", "ggml_fp16_to_fp32_row"),
    "bf16": (1, 2, "ggml_fp32_to_bf16_row_ref", "ggml_bf16_to_fp32_row"),
    "q4_0": (32, 18, "quantize_row_q4_0_ref", "dequantize_row_q4_0"),
    "q4_1": (32, 20, "quantize_row_q4_1_ref", "dequantize_row_q4_1"),
    "q5_0": (32, 22, "quantize_row_q5_0_ref", "dequantize_row_q5_0"),
    "q5_1": (32, 24, "quantize_row_q5_1_ref", "dequantize_row_q5_1"),
    "q8_0": (32, 34, "quantize_row_q8_0_ref", "dequantize_row_q8_0"),
    "q8_1": (32, 36, "quantize_row_q8_1_ref", None),
    "q4_K": (256, 144, "quantize_row_q4_K_ref", "dequantize_row_q4_K"),
    "q5_K": (256, 176, "quantize_row_q5_K_ref", "dequantize_row_q5_K"),
    "q6_K": (256, 210, "quantize_row_q6_K_ref", "dequantize_row_q6_K"),
    "q8_K": (256, 292, "quantize_row_q8_K_ref", "dequantize_row_q8_K"),
}


def debian_version(package):
    try:
        text = open("/var/lib/dpkg/status").read()
    except OSError:
        return "unknown"
    for entry in text.split("\n\n"):
        if f"Package: {package}\n" in entry + "\n":
            for line in entry.splitlines():
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
    return "unknown"


def load_ggml():
    for p in ("/usr/lib/x86_64-linux-gnu/libggml-base.so.0", "libggml-base.so"):
        try:
            return ctypes.CDLL(p)
        except OSError:
            pass
    raise SystemExit("libggml-base.so not found in the oracle")


def ggml_quantize(lib, name, x):
    bs, ts, qsym, _ = TYPES[name]
    n = x.size
    out = ctypes.create_string_buffer(n // bs * ts)  # zero-filled: Q8_K leaves bsums of all-zero blocks unset
    f = getattr(lib, qsym)
    f.restype = None
    f(x.ctypes.data_as(ctypes.c_void_p), out, ctypes.c_int64(n))
    return np.frombuffer(out.raw, dtype=np.uint8).copy()


def ggml_dequantize(lib, name, q, n):
    _, _, _, dsym = TYPES[name]
    y = np.zeros(n, dtype=np.float32)
    if dsym is None:  # q8_1: no ggml dequantizer; d * q with d the fp16 at offset 0
        blocks = q.reshape(-1, 36)
        d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
        qs = blocks[:, 4:].view(np.int8).astype(np.float32)
        return (qs * d).reshape(-1).astype(np.float32)
    f = getattr(lib, dsym)
    f.restype = None
    f(q.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(n))
    return y


def gguf_crosscheck(name, x, q, y):
    """Compare with gguf-py where it implements the type; returns a short string for the log."""
    try:
        from gguf import quants, GGMLQuantizationType as T
    except ImportError:
        return "gguf-py missing"
    qt = {"bf16": T.BF16, "q4_0": T.Q4_0, "q4_1": T.Q4_1, "q5_0": T.Q5_0, "q5_1": T.Q5_1, "q8_0": T.Q8_0,
          "q4_K": T.Q4_K, "q5_K": T.Q5_K, "q6_K": T.Q6_K}.get(name)
    if qt is None:
        return "gguf-py: no such type"
    bs, ts = TYPES[name][:2]
    msg = []
    rows_q = q.reshape(ROWS, -1)
    try:
        gq = np.ascontiguousarray(quants.quantize(x.reshape(ROWS, -1), qt)).view(np.uint8).reshape(ROWS, -1)
        bad = np.nonzero(np.any(gq != rows_q, axis=1))[0]
        msg.append(f"quantize differs on {len(bad)} rows (kinds {sorted(set(int(b) % NUM_KINDS for b in bad))})")
    except NotImplementedError:
        msg.append("quantize n/a")
    gy = quants.dequantize(rows_q, qt).reshape(-1)
    same = np.array_equal(gy.view(np.uint32), y.view(np.uint32)) or np.array_equal(gy, y, equal_nan=True)
    msg.append("dequantize identical" if same else "dequantize DIFFERS")
    return "gguf-py: " + ", ".join(msg)


def ggml_specials(lib):
    """F16/BF16 conversion of special values (inf, canonical NaN, overflow, subnormals, ties)."""
    bits = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x477FE000, 0x477FF000,
            0x477FEFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0x33000000, 0x33000001, 0x33800000, 0x387FC000, 0x38800000,
            0x00000001, 0x807FFFFF, 0x3F808000, 0x3F818000, 0x3F800001, 0x3F801000, 0x3F803000, 0x00008000]
    x = np.array(bits, dtype=np.uint32).view(np.float32)
    out = {"input_bits": [f"{b:08x}" for b in bits]}
    for name in ("f16", "bf16"):
        out[name] = ggml_quantize(lib, name, x).tobytes().hex()
    return out


# ---------------------------------------------------------------- bitsandbytes NF4

WEIGHT_KINDS = [0, 1, 3, 6, 7, 8, 10, 11, 12]  # weight-like rows (no subnormal or huge kinds)
NF4_CASES = [  # name, shape, blocksize, double quant, kinds (None = all)
    ("bs64_dq", (128, 1024), 64, True, None),
    ("bs64_plain", (128, 1024), 64, False, None),
    ("bs32_dq", (64, 512), 32, True, None),
    ("bs128_dq", (64, 1024), 128, True, None),
    ("bs256_plain", (32, 2048), 256, False, None),
    ("bs1024_dq", (64, 4096), 1024, True, None),
    ("bs2048_dq", (32, 4096), 2048, True, None),
    ("bs4096_dq", (32, 4096), 4096, True, None),
    ("tail_dq", (37, 1000), 64, True, None),  # 37000 values: partial last block, 579 absmax -> nested tail
    ("odd_1d_dq", (1001,), 64, True, None),  # odd length: padded nibble
    ("big_dq", (2048, 2048), 64, True, None),  # 65536 absmax: torch's mean crosses its parallel grain size
    ("weights_dq", (256, 1024), 64, True, WEIGHT_KINDS),
    ("big_weights_dq", (1024, 4096), 64, True, WEIGHT_KINDS),
]
NF4_KINDS_DQ = [k for k in range(NUM_KINDS) if k != 5]  # kind 5 (|x| ~ 1e38) overflows the absmax mean


def nf4_case(name, shape, blocksize, dq, kinds, seed):
    import torch
    import bitsandbytes.functional as F
    n = int(np.prod(shape))
    cols = shape[-1] if len(shape) > 1 else n
    rows = n // cols
    kinds = kinds or (NF4_KINDS_DQ if dq else list(range(NUM_KINDS)))
    x = make_rows(seed, rows, cols, kinds).reshape(shape)
    t = torch.from_numpy(x.copy())
    packed, st = F.quantize_4bit(t, blocksize=blocksize, compress_statistics=dq, quant_type="nf4")
    deq = F.dequantize_4bit(packed, st, quant_type="nf4").reshape(-1).numpy().astype(np.float32)
    rec = {"shape": list(shape), "blocksize": blocksize, "double_quant": dq, "seed": seed, "kinds": kinds,
           "packed_sha256": sha(packed.numpy().tobytes()), "dequant_sha256": canon_sha(deq),
           "packed_head": packed.numpy().reshape(-1)[:256].tobytes().hex(),
           "quant_map": [float(v) for v in st.code.numpy()]}
    absmax = st.absmax.numpy()
    rec["absmax_sha256"] = sha(absmax.tobytes())
    rec["absmax_head"] = absmax.reshape(-1)[:256].tobytes().hex()
    if dq:
        # torch's fp32 mean depends on its thread count above its parallel grain size (32768 elements):
        # record the mean of the plain absmax under 1 and 2 threads next to the offset bnb stored.
        _, plain = F.quantize_4bit(t, blocksize=blocksize, compress_statistics=False, quant_type="nf4")
        rec["absmax_plain_sha256"] = sha(plain.absmax.numpy().tobytes())
        threads = torch.get_num_threads()
        for nt in (1, 2):
            torch.set_num_threads(nt)
            rec[f"absmax_mean_bits_threads{nt}"] = f"{np.float32(plain.absmax.mean().item()).view(np.uint32):08x}"
        torch.set_num_threads(threads)
        rec["nested_offset_bits"] = f"{np.float32(st.offset.item()).view(np.uint32):08x}"
        rec["nested_blocksize"] = st.state2.blocksize
        rec["nested_absmax"] = st.state2.absmax.numpy().astype(np.float32).tobytes().hex()
        rec["nested_quant_map_sha256"] = sha(st.state2.code.numpy().astype(np.float32).tobytes())
    rec["dequant_head"] = deq[:128].tobytes().hex()
    return rec


def nf4_golden():
    import torch
    import bitsandbytes
    import bitsandbytes.functional as F
    out = {"bitsandbytes": bitsandbytes.__version__, "torch": torch.__version__,
           "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
           "dynamic_map": F.create_dynamic_map().numpy().astype(np.float32).tobytes().hex(), "cases": {}}
    for i, (name, shape, bs, dq, kinds) in enumerate(NF4_CASES):
        out["cases"][name] = nf4_case(name, shape, bs, dq, kinds, SEED + 1000 + i)
        print(f"nf4 {name}: done")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip-nf4", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lib = load_ggml()
    x = make_rows(SEED, ROWS, N_PER_ROW).reshape(-1)
    manifest = {"generator": {"seed": f"{SEED:016x}", "rows": ROWS, "n_per_row": N_PER_ROW, "kinds": NUM_KINDS,
                              "input_sha256": sha(x.tobytes())},
                "ggml": f"Debian libggml0 {debian_version('libggml0')} (libggml-base.so, quantize_row_*_ref)",
                "detail_rows": DETAIL_ROWS, "dequant_rows": DEQ_ROWS, "types": {}}
    for name, (bs, ts, _, _) in TYPES.items():
        q = ggml_quantize(lib, name, x)
        y = ggml_dequantize(lib, name, q, x.size)
        row_bytes = N_PER_ROW // bs * ts
        with open(os.path.join(args.out, f"{name}.bin"), "wb") as f:
            f.write(q[:DETAIL_ROWS * row_bytes].tobytes())
            f.write(y[:DEQ_ROWS * N_PER_ROW].tobytes())
        manifest["types"][name] = {"row_bytes": row_bytes, "quant_sha256": sha(q.tobytes()),
                                   "dequant_sha256": canon_sha(y), "file": f"{name}.bin"}
        print(f"{name}: {gguf_crosscheck(name, x, q, y)}")
    manifest["specials"] = ggml_specials(lib)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    if not args.skip_nf4:
        nf4 = nf4_golden()
        with open(os.path.join(args.out, "nf4.json"), "w") as f:
            json.dump(nf4, f, indent=1)


if __name__ == "__main__":
    main()
