#!/usr/bin/env python3
"""Dump a GGUF file as JSON using gguf-py's GGUFReader (the reference reader), for scitune's reader tests.

Run in the oracle:  ../shared/oracle/run.sh python3 tools/oracle/gguf_dump.py FILE.gguf [--out FILE.json]

Output (keys in file order, tensors in file order):
  version, alignment, data_offset, file_size, tensor_count, kv_count
  metadata: [{key, type, value}]                          scalars (floats as JSON numbers, exact as doubles)
            [{key, type: "ARRAY", elem_type, len, sha256[, value]}]
  tensors:  [{name, type, type_code, ne, offset, nbytes, sha256}]
An array's sha256 is over its elements exactly as GGUF encodes them (little-endian numbers, bools one byte,
strings as uint64 length + bytes); its values are listed too when it has at most --max-list elements, so that
the 262144-entry token arrays stay small. Non-finite floats are written as the strings "nan", "inf", "-inf".
"""
import argparse
import hashlib
import json
import math
import struct
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGMLQuantizationType


def _float(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _string(raw: bytes):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": raw.hex()}


def _scalar(gtype, part):
    v = part.tolist()[0]
    if gtype in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
        return _float(v)
    if gtype == GGUFValueType.BOOL:
        return bool(v)
    return int(v)


def dump_field(field, max_list):
    gtype = field.types[0]
    entry = {"key": field.name, "type": gtype.name}
    if gtype == GGUFValueType.STRING:
        entry["value"] = _string(bytes(field.parts[field.data[0]]))
        return entry
    if gtype != GGUFValueType.ARRAY:
        entry["value"] = _scalar(gtype, field.parts[field.data[0]])
        return entry
    n = int(field.parts[4].tolist()[0])  # parts: key len, key, type, elem type, count, elements...
    elem = GGUFValueType(int(field.parts[3].tolist()[0]))
    entry["elem_type"] = elem.name
    entry["len"] = n
    if elem == GGUFValueType.ARRAY:
        raise SystemExit(f"{field.name}: nested arrays are not supported by this dump (nor by scitune)")
    h = hashlib.sha256()
    values = []
    for idx in field.data:
        part = field.parts[idx]
        if elem == GGUFValueType.STRING:
            raw = bytes(part)
            h.update(struct.pack("<Q", len(raw)))
            h.update(raw)
            values.append(_string(raw))
        else:
            h.update(np.ascontiguousarray(part).astype(part.dtype.newbyteorder("<")).tobytes())
            values.append(_scalar(elem, part))
    assert len(values) == n, (field.name, len(values), n)
    entry["sha256"] = h.hexdigest()
    if n <= max_list:
        entry["value"] = values
    return entry


def dump(path, max_list=16):
    r = GGUFReader(path, "r")
    header = {f.name: int(f.parts[f.data[0]].tolist()[0]) for f in r.fields.values() if f.name.startswith("GGUF.")}
    out = {
        "version": header["GGUF.version"],
        "alignment": int(r.alignment),
        "data_offset": int(r.data_offset),
        "file_size": int(r.data.nbytes),
        "tensor_count": header["GGUF.tensor_count"],
        "kv_count": header["GGUF.kv_count"],
        "metadata": [dump_field(f, max_list) for f in r.fields.values() if not f.name.startswith("GGUF.")],
        "tensors": [],
    }
    for t in r.tensors:
        raw = np.ascontiguousarray(t.data).view(np.uint8).tobytes()
        assert len(raw) == t.n_bytes, (t.name, len(raw), t.n_bytes)
        out["tensors"].append({
            "name": t.name,
            "type": GGMLQuantizationType(t.tensor_type).name,
            "type_code": int(t.tensor_type),
            "ne": [int(x) for x in t.shape.tolist()],
            "offset": int(t.data_offset) - int(r.data_offset),
            "nbytes": int(t.n_bytes),
            "sha256": hashlib.sha256(raw).hexdigest(),
        })
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("--out", help="write JSON here instead of stdout")
    ap.add_argument("--max-list", type=int, default=16, help="list array values up to this many elements")
    a = ap.parse_args()
    text = json.dumps(dump(a.gguf, a.max_list), indent=1, ensure_ascii=False) + "\n"
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
