#!/usr/bin/env python3
"""Reference side of bench/load_vs_python.sh (runs in the oracle): gguf-py and safetensors load times.
open_ms: parse + index; read_ms: open + copy every tensor into owned memory (numpy)."""
import glob, json, sys, time
import numpy as np

def measure(fmt, impl, open_fn, arrays_fn):
    open_fn()  # warm-up: imports (torch for safetensors' "pt" framework) are not load time
    t0 = time.perf_counter(); open_fn(); open_ms = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter(); total = 0
    for a in arrays_fn(open_fn()):
        if hasattr(a, "clone"):  # torch tensor (numpy has no bfloat16)
            c = a.clone(); total += c.numel() * c.element_size()
        else:
            total += np.array(a, copy=True).nbytes
    print(json.dumps({"format": fmt, "impl": impl, "open_ms": open_ms, "read_ms": (time.perf_counter() - t0) * 1e3,
                      "bytes": total}))

gguf_path, st_dir = sys.argv[1], sys.argv[2]
from gguf import GGUFReader
measure("gguf", "gguf-py", lambda: GGUFReader(gguf_path), lambda r: (t.data for t in r.tensors))

from safetensors import safe_open
files = sorted(glob.glob(st_dir + "/*.safetensors"))
def st_open():
    return [safe_open(f, framework="pt") for f in files]
def st_arrays(handles):
    for h in handles:
        for k in h.keys():
            yield h.get_tensor(k)
measure("safetensors", "safetensors-py", st_open, st_arrays)
