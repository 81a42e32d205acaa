#!/usr/bin/env python3
"""The GEMM ceiling of the machine at the thread count of bench/lora_train_vs_torch.sh: GFLOP/s of one training
GEMM shape (M tokens x K in -> N out) through the system OpenBLAS that scitune links (cblas_sgemm via ctypes) and
through torch (MKL) in fp32 and bf16. A step that is all GEMMs cannot beat the fp32 figure; prints one JSON line.

  python gemm_ceiling.py [--m 512] [--k 1152] [--n 6912] [--openblas /usr/lib/x86_64-linux-gnu/libopenblas.so.0]
"""
import argparse, ctypes, json, os, time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("--m", type=int, default=512)
p.add_argument("--k", type=int, default=1152)
p.add_argument("--n", type=int, default=6912)
p.add_argument("--openblas", default="/usr/lib/x86_64-linux-gnu/libopenblas.so.0")
p.add_argument("--seconds", type=float, default=3.0)
a = p.parse_args()
threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
torch.set_num_threads(threads)
flop = 2.0 * a.m * a.k * a.n


def rate(fn):
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < a.seconds:
        fn()
        n += 1
    return flop * n / (time.perf_counter() - t0) / 1e9


out = {"m": a.m, "k": a.k, "n": a.n, "threads": threads}
x = np.random.default_rng(0).standard_normal((a.m, a.k), dtype=np.float32)
w = np.random.default_rng(1).standard_normal((a.n, a.k), dtype=np.float32)
y = np.empty((a.m, a.n), dtype=np.float32)
if os.path.exists(a.openblas):
    ob = ctypes.CDLL(a.openblas)
    ob.openblas_set_num_threads(ctypes.c_int(threads))
    ptr = lambda arr: arr.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    # y = x . w^T (RowMajor=101, NoTrans=111, Trans=112), as a frozen Linear's forward
    sgemm = lambda: ob.cblas_sgemm(101, 111, 112, a.m, a.n, a.k, ctypes.c_float(1.0), ptr(x), a.k, ptr(w), a.k,
                                   ctypes.c_float(0.0), ptr(y), a.n)
    out["openblas_fp32_gflops"] = round(rate(sgemm), 1)
tx, tw = torch.from_numpy(x), torch.from_numpy(w)
out["torch_fp32_gflops"] = round(rate(lambda: torch.mm(tx, tw.t())), 1)
bx, bw = tx.bfloat16(), tw.bfloat16()
out["torch_bf16_gflops"] = round(rate(lambda: torch.mm(bx, bw.t())), 1)
out["torch"] = torch.__version__
print(json.dumps(out))
