#!/usr/bin/env python3
"""Writes the small Parquet fixtures in tests/golden/parquet/ with pyarrow, and beside each dataset-like file
the same rows as JSON lines (what `datasets.to_json` would write), so tests can check that a Parquet row and its
JSON line become the same record.

Runs with the pyarrow that scripts/fetch_pyarrow.sh installs (no oracle chroot needed):
    ${SCITUNE_DATA:-~/.cache/scitune}/pyarrow-venv/bin/python tools/oracle/make_parquet_fixtures.py
The output is deterministic (fixed rows, no timestamps in the files' metadata besides pyarrow's version)."""
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden", "parquet")

# Exactly the published schema of OpenSciLM/OS_Train_Data and allenai/SciRIFF-train-mix.
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SCHEMA = pa.schema([("dataset", pa.string()), ("id", pa.string()), ("messages", pa.list_(MESSAGE))])


def chat(*turns):
    return [{"role": r, "content": c} for r, c in turns]


def write_jsonl(name, rows):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write(name, rows, schema=SCHEMA, row_group_size=None, jsonl=True):
    table = pa.Table.from_pylist(rows, schema=schema)
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    if jsonl:
        write_jsonl(name[: -len(".parquet")] + ".jsonl", rows)
    groups = pq.ParquetFile(path).metadata.num_row_groups
    print(f"{os.path.relpath(path)}: {len(rows)} rows, {groups} row groups", file=sys.stderr)


# OS_Train_Data-like: OpenScholar's synthetic answers (references block, [Response_Start] markers, bracket
# citations) and Tulu chat; one row with a system turn, one multi-turn. All valid. 2 row groups (4 + 3 rows).
OS_ROWS = [
    {"dataset": "os_answer_generation", "id": "os-0",
     "messages": chat(("user", "References:\n[0] Title: CRISPR screens Text: Pooled CRISPR screens map gene function.\n"
                               "Question: What do pooled CRISPR screens measure?"),
                      ("assistant", "[Response_Start]They measure how knocking out each gene changes fitness [0]."
                                    "[Response_End]"))},
    {"dataset": "os_feedback", "id": "os-1",
     "messages": chat(("user", "Give feedback on this answer: Graphene is an insulator."),
                      ("assistant", "Feedback: Graphene is a semimetal with very high conductivity."))},
    {"dataset": "tulu_v2", "id": "tulu-2",
     "messages": chat(("system", "You are a helpful assistant."), ("user", "Name a prime number."),
                      ("assistant", "Seven."))},
    {"dataset": "tulu_v2", "id": "tulu-3",
     "messages": chat(("user", "Hi!"), ("assistant", "Hello. How can I help?"), ("user", "Say 'é' in Unicode."),
                      ("assistant", "U+00E9 — é."))},
    {"dataset": "os_fact_verification", "id": "os-4",
     "messages": chat(("user", "Claim: Mitochondria have their own DNA. True or false?"), ("assistant", "True."))},
    {"dataset": "os_boolean_qa", "id": "os-5",
     "messages": chat(("user", "Is water a polar molecule?"), ("assistant", "Yes."))},
    {"dataset": "os_feedback_incorporation", "id": "os-6",
     "messages": chat(("user", "Revise: 'Enzymes are consumed by reactions.' Feedback: they are catalysts."),
                      ("assistant", "[Response_Start]Enzymes are catalysts and are not consumed.[Response_End]"))},
]

# SciRIFF-train-mix-like: half SciRIFF ("science.*" tags, task ids), half general chat; 2 row groups (5 + 5),
# with the bad rows the reader and the validators must name: empty content, a wrong role, null messages, and
# rows whose conversation the messages layout rejects (empty list, no answer turn).
SCIRIFF_ROWS = [
    {"dataset": "science.scifact_json", "id": "scifact_json:train:0",
     "messages": chat(("user", "Claim: Aspirin lowers fever. Abstract: ... Answer in JSON."),
                      ("assistant", '{"verdict": "SUPPORT", "evidence": [1]}'))},
    {"dataset": "sharegpt", "id": "sharegpt_1",
     "messages": chat(("user", "Write a haiku about rain."), ("assistant", "Soft rain on the roof\nwhispers to the sleeping town\npuddles hold the sky"))},
    {"dataset": "science.qasper_extractive_qa", "id": "qasper_extractive_qa:train:2",
     "messages": chat(("user", "Paper: ... Question: Which dataset do they use?"), ("assistant", "SQuAD"))},
    {"dataset": "flan_v2", "id": "flan_v2_3",
     "messages": chat(("user", "Translate to French: cat"), ("assistant", ""))},                    # empty answer
    {"dataset": "science.bioasq_list_qa", "id": "bioasq_list_qa:train:4",
     "messages": chat(("user", "List genes linked to cystic fibrosis."), ("narrator", "CFTR"))},   # unknown role
    {"dataset": "oasst1", "id": "oasst1_5", "messages": None},                                       # null messages
    {"dataset": "science.scierc_ner", "id": "scierc_ner:train:6",
     "messages": chat(("user", "Extract the methods: We use BERT."), ("assistant", '["BERT"]'))},
    {"dataset": "cot", "id": "cot_7", "messages": []},                                               # empty conversation
    {"dataset": "science.evidence_inference", "id": "evidence_inference:train:8",
     "messages": chat(("user", "Does the drug reduce mortality?"))},                                 # no model turn
    {"dataset": "code_alpaca", "id": "code_alpaca_9",
     "messages": chat(("user", "Reverse a list in Python."), ("assistant", "xs[::-1]"))},
]

# A dataset published as shards, as Hugging Face does (data/train-0000N-of-00002.parquet).
SHARD_ROWS = [
    {"dataset": "science.scifact_json" if i % 2 else "sharegpt", "id": f"shard-{i}",
     "messages": chat(("user", f"Question {i}?"), ("assistant", f"Answer {i}."))}
    for i in range(5)
]


def main():
    write("os_train_like.parquet", OS_ROWS, row_group_size=4)
    write("sciriff_like.parquet", SCIRIFF_ROWS, row_group_size=5)
    write("shards/train-00000-of-00002.parquet", SHARD_ROWS[:3], jsonl=False)
    write("shards/train-00001-of-00002.parquet", SHARD_ROWS[3:], jsonl=False)
    write_jsonl("shards.jsonl", SHARD_ROWS)  # both shards' rows in one file

    # The same messages with the 64-bit-offset types (large_list, large_string): the same records.
    large_message = pa.struct([("role", pa.large_string()), ("content", pa.large_string())])
    large = pa.schema([("dataset", pa.large_string()), ("id", pa.large_string()),
                       ("messages", pa.large_list(large_message))])
    write("os_train_like_large.parquet", OS_ROWS, schema=large, row_group_size=4, jsonl=False)

    # Every other column type the reader converts, one row each of values and of nulls.
    types = pa.schema([
        ("i8", pa.int8()), ("i64", pa.int64()), ("u32", pa.uint32()), ("u64", pa.uint64()),
        ("f32", pa.float32()), ("f64", pa.float64()), ("flag", pa.bool_()), ("nothing", pa.null()),
        ("tag", pa.dictionary(pa.int32(), pa.string())),
        ("meta", pa.struct([("source", pa.string()), ("score", pa.float64()),
                            ("tags", pa.list_(pa.string()))])),
        ("pair", pa.list_(pa.int64(), 2)),
        ("input_ids", pa.list_(pa.int32())),
    ])
    types_rows = [
        {"i8": -5, "i64": 2**53 + 1, "u32": 4000000000, "u64": 2**64 - 1, "f32": 0.5, "f64": -2.25, "flag": True,
         "nothing": None, "tag": "science", "meta": {"source": "pubmed", "score": 0.75, "tags": ["bio", "qa"]},
         "pair": [1, 2], "input_ids": [2, 105, 2364]},
        {"i8": None, "i64": None, "u32": None, "u64": None, "f32": None, "f64": float("nan"), "flag": None,
         "nothing": None, "tag": None, "meta": {"source": None, "score": None, "tags": []}, "pair": None,
         "input_ids": None},
        {"i8": 0, "i64": 0, "u32": 0, "u64": 0, "f32": 0.0, "f64": 0.0, "flag": False, "nothing": None,
         "tag": "science", "meta": None, "pair": [3, 4], "input_ids": []},
    ]
    write("types.parquet", types_rows, schema=types, jsonl=False)

    # A string column holding bytes that are not UTF-8 (pyarrow checks only when asked, as other writers may
    # not at all): row 1's content. Built from raw buffers to get past pyarrow's own checks.
    contents = [b"fine", b"bad \xff byte", b"also fine"]
    data = b"".join(contents)
    offsets, at = [0], 0
    for c in contents:
        at += len(c)
        offsets.append(at)
    content = pa.Array.from_buffers(pa.string(), 3, [None, pa.py_buffer(pa.array(offsets, pa.int32()).buffers()[1]),
                                                     pa.py_buffer(data)])
    role = pa.array(["user", "user", "user"])
    msg = pa.StructArray.from_arrays([role, content], fields=list(MESSAGE))
    msgs = pa.ListArray.from_arrays(pa.array([0, 1, 2, 3], pa.int32()), msg)
    bad = pa.table({"dataset": ["a", "b", "c"], "id": ["0", "1", "2"], "messages": msgs})
    pq.write_table(bad, os.path.join(OUT, "bad_utf8.parquet"))

    # Types with no JSON form: a binary column, and a timestamp inside a struct.
    pq.write_table(pa.table({"id": ["0"], "blob": pa.array([b"\x00\x01"], pa.binary())}),
                   os.path.join(OUT, "binary_column.parquet"))
    pq.write_table(pa.table({"id": ["0"], "meta": pa.array([{"when": 0}], pa.struct([("when", pa.timestamp("s"))]))}),
                   os.path.join(OUT, "timestamp_in_struct.parquet"))

    # No rows at all (a valid file with a schema and no row group).
    pq.write_table(SCHEMA.empty_table(), os.path.join(OUT, "empty.parquet"))


if __name__ == "__main__":
    main()
