#!/usr/bin/env python3
"""Shrink llama-imatrix output into commit-sized fixtures (used by make_imatrix_fixtures.sh, in the oracle).

  strip IN.gguf OUT.gguf
      Keeps the metadata llama-quantize reads (general.type, imatrix.datasets, imatrix.chunk_count,
      imatrix.chunk_size) and the <name>.in_sum2 / <name>.counts tensors, in their original order; drops
      <name>.in_sum (activation sums) and <name>.stats (per-tensor statistics), which halve the file and do
      not enter the quantisation. Written as GGUF v3 with 32-byte alignment, as ggml writes it.
  subset-dat IN.dat OUT.dat PREFIX...
      A legacy (.dat) imatrix with only the entries whose name starts with one of the prefixes, trailer (chunk
      count, dataset name) kept: the legacy reader and the missing-entry path in one small file.
"""
import struct
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType

ALIGN = 32
KEEP_KEYS = ["general.type", "imatrix.datasets", "imatrix.chunk_count", "imatrix.chunk_size"]


def gguf_string(b):
    return struct.pack("<Q", len(b)) + b


def kv_bytes(field):
    gtype = field.types[0]
    out = gguf_string(field.name.encode()) + struct.pack("<I", int(gtype))
    if gtype == GGUFValueType.STRING:
        return out + gguf_string(bytes(field.parts[field.data[0]]))
    if gtype == GGUFValueType.UINT32:
        return out + struct.pack("<I", int(field.parts[field.data[0]][0]))
    if gtype == GGUFValueType.ARRAY and field.types[1] == GGUFValueType.STRING:
        items = [bytes(field.parts[i]) for i in field.data]
        return out + struct.pack("<IQ", int(GGUFValueType.STRING), len(items)) + b"".join(map(gguf_string, items))
    raise SystemExit(f"{field.name}: unexpected type {gtype.name}")


def strip(src, dst):
    r = GGUFReader(src, "r")
    fields = [r.fields[k] for k in KEEP_KEYS if k in r.fields]
    tensors = [t for t in r.tensors if t.name.endswith(".in_sum2") or t.name.endswith(".counts")]
    infos, blobs, offset = b"", [], 0
    for t in tensors:
        data = np.ascontiguousarray(t.data, dtype=np.float32).tobytes()
        ne = [int(x) for x in t.shape.tolist()]
        infos += gguf_string(t.name.encode()) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        infos += struct.pack("<IQ", 0, offset)  # GGML_TYPE_F32, offset in the data section
        pad = -len(data) % ALIGN
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(fields)) + b"".join(kv_bytes(f) for f in fields) + infos
    head += b"\0" * (-len(head) % ALIGN)
    with open(dst, "wb") as f:
        f.write(head + b"".join(blobs))
    print(f"{dst}: {len(tensors) // 2} entries, {len(head) + offset} bytes")


def subset_dat(src, dst, prefixes):
    b = open(src, "rb").read()
    pos = 0

    def take(n):
        nonlocal pos
        s = b[pos:pos + n]
        assert len(s) == n, "truncated legacy imatrix"
        pos += n
        return s

    n_entries = struct.unpack("<i", take(4))[0]
    kept = []
    for _ in range(n_entries):
        start = pos
        name_len = struct.unpack("<i", take(4))[0]
        name = take(name_len).decode()
        _ncall, nval = struct.unpack("<ii", take(8))
        take(4 * nval)
        if any(name.startswith(p) for p in prefixes):
            kept.append(b[start:pos])
    trailer = b[pos:]
    with open(dst, "wb") as f:
        f.write(struct.pack("<i", len(kept)) + b"".join(kept) + trailer)
    print(f"{dst}: {len(kept)} of {n_entries} entries")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "strip":
        strip(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 5 and sys.argv[1] == "subset-dat":
        subset_dat(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        raise SystemExit(__doc__)
