#!/usr/bin/env python3
"""Golden TensorBoard event file for tests/train/tb_event_writer_test.cc (tests/golden/tensorboard/), written by
TensorBoard's own writer (tensorboard.summary.writer.event_file_writer.EventFileWriter: its file name, the
file_version event, TFRecord framing with masked CRC-32C) with the events scitune's TbEventWriter writes for the
same calls, so the C++ test can compare record for record, byte for byte.

Needs only the tensorboard wheel (no TensorFlow, no torch):
  python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install tensorboard
  /tmp/tbvenv/bin/python tools/oracle/make_tb_golden.py --out tests/golden/tensorboard
Outputs: events.golden.tfevents (renamed from EventFileWriter's events.out.tfevents.<time>.<host>.<pid>.<n>) and
expected.json (the events; the writer's file name with host and pid replaced by HOST and PID).
"""
import argparse
import json
import os
import socket

import tensorboard
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

T0 = 1700000000.0  # wall times of the events after the first (EventFileWriter stamps that one itself)

# What the test feeds TbEventWriter: first_step = 1 (the SessionLog.START at construction, wall time T0), then
# two train_log.jsonl objects and one plain scalar, each at the next tick of the test's clock (T0 + 1, + 2, + 3).
# Tags are HF's rewrite_logs of the keys (eval_X -> eval/X, others -> train/X); "step" is the event step.
LOGS = [
    {"step": 1, "epoch": 0.25, "loss": 2.5, "learning_rate": 0.0, "grad_norm": 1.5, "tokens_per_second": 1234.5,
     "peak_memory_mb": 512.0},
    {"step": 2, "eval_loss": 2.25, "eval_perplexity": 9.487735836358526},
]
SCALAR = ("custom/negative", -3.5, 3000000000)  # a step past 2^31


def rewrite(key):
    if key.startswith("eval_"):
        return "eval/" + key[5:]
    if key.startswith("test_"):
        return "test/" + key[5:]
    return "train/" + key


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tmp = os.path.join(args.out, "tmp-writer")
    os.makedirs(tmp, exist_ok=True)

    w = EventFileWriter(tmp)
    expected = [{"file_version": "brain.Event:2", "step": 0, "wall_time": None, "scalars": []}]

    def add(wall_time, step, session_start=False, scalars=()):
        ev = event_pb2.Event(wall_time=wall_time, step=step)
        if session_start:
            ev.session_log.status = event_pb2.SessionLog.START
        else:
            ev.summary.CopyFrom(summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in scalars]))
        w.add_event(ev)
        expected.append({"wall_time": wall_time, "step": step, "session_start": session_start,
                         "scalars": [[t, v] for t, v in scalars]})

    add(T0, 1, session_start=True)
    for i, log in enumerate(LOGS):
        for key, value in log.items():
            if key != "step":
                add(T0 + 1 + i, log["step"], scalars=[(rewrite(key), value)])
    add(T0 + 1 + len(LOGS), SCALAR[2], scalars=[(SCALAR[0], SCALAR[1])])
    w.close()

    (name,) = os.listdir(tmp)
    os.replace(os.path.join(tmp, name), os.path.join(args.out, "events.golden.tfevents"))
    os.rmdir(tmp)
    pattern = name.replace("." + socket.gethostname() + ".", ".HOST.", 1).replace(
        ".%d." % os.getpid(), ".PID.", 1)
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump({"tensorboard": tensorboard.__version__, "writer_file_name": pattern, "events": expected}, f,
                  indent=1)
        f.write("\n")
    print("wrote", len(expected), "events from", name)


if __name__ == "__main__":
    main()
