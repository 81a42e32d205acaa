#!/usr/bin/env python3
"""Compares GGUF files through gguf-py (the reference reader), for tools/oracle/export_check.sh (run in the oracle):

  gguf_compare.py read FILE...                 every key and tensor readable: counts, types, data sizes
  gguf_compare.py tensors A.gguf B.gguf        per tensor: same name set, shape, type, and identical bytes?
  gguf_compare.py keys A.gguf B.gguf           metadata keys only in A / only in B / different values

Prints one JSON object per call (the script compares, it does not judge: the caller states what it expects).
"""
import hashlib
import json
import sys

import gguf
import numpy as np


def tensors(path):
    r = gguf.GGUFReader(path)
    out = {}
    for t in r.tensors:
        out[t.name] = (t.tensor_type.name, [int(x) for x in t.shape], hashlib.sha256(np.ascontiguousarray(t.data).tobytes()).hexdigest(),
                       int(t.n_bytes))
    return r, out


def field_value(f):
    if not f.types:
        return None
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        h = hashlib.sha256()
        for i in f.data:
            h.update(bytes(f.parts[i]))
        return f"array[{len(f.data)}] sha256 {h.hexdigest()[:16]}"
    v = f.parts[f.data[0]]
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(v).decode("utf-8", "replace")
    return v.tolist()[0] if hasattr(v, "tolist") else v


def main():
    cmd, files = sys.argv[1], sys.argv[2:]
    if cmd == "read":
        res = {}
        for p in files:
            r, ts = tensors(p)
            types = {}
            for name, (ty, _, _, _) in ts.items():
                types[ty] = types.get(ty, 0) + 1
            res[p] = {"keys": len(r.fields), "tensors": len(ts), "types": types,
                      "data_bytes": sum(v[3] for v in ts.values())}
        print(json.dumps(res))
    elif cmd == "tensors":
        _, a = tensors(files[0])
        _, b = tensors(files[1])
        common = sorted(set(a) & set(b))
        same_type = [n for n in common if a[n][0] == b[n][0] and a[n][1] == b[n][1]]
        same_bytes = [n for n in same_type if a[n][2] == b[n][2]]
        diff_types = {}
        for n in common:
            if n not in same_bytes:
                k = f"{a[n][0]}->{b[n][0]}"
                diff_types[k] = diff_types.get(k, 0) + 1
        print(json.dumps({"only_a": sorted(set(a) - set(b)), "only_b": sorted(set(b) - set(a)), "common": len(common),
                          "same_type_shape": len(same_type), "same_bytes": len(same_bytes), "differing": diff_types}))
    elif cmd == "keys":
        ra, rb = gguf.GGUFReader(files[0]), gguf.GGUFReader(files[1])
        fa = {k: field_value(f) for k, f in ra.fields.items() if not k.startswith("GGUF.")}
        fb = {k: field_value(f) for k, f in rb.fields.items() if not k.startswith("GGUF.")}
        print(json.dumps({"only_a": sorted(set(fa) - set(fb)), "only_b": sorted(set(fb) - set(fa)),
                          "different": {k: [fa[k], fb[k]] for k in sorted(set(fa) & set(fb)) if fa[k] != fb[k]}},
                         default=str))
    else:
        sys.exit(f"unknown command {cmd}")


main()
