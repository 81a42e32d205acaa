#!/usr/bin/env python3
"""Reads the TensorBoard event files scitune wrote (train / demo: OUTPUT_DIR/runs/) with TensorBoard's own loaders
and prints every scalar series, so a person can see what `tensorboard --logdir OUTPUT_DIR` will plot.

  python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install tensorboard    # no TensorFlow or torch needed
  /tmp/tbvenv/bin/python tools/oracle/check_tb_events.py OUTPUT_DIR [--serve]

Default: tensorboard.backend.event_processing.event_accumulator.EventAccumulator over each run folder (the loader
behind `--load_fast=false`; it checks both CRCs of every record and applies SessionLog.START purges).
--serve: also starts the real `tensorboard --logdir OUTPUT_DIR` (with --load_fast=true, the Rust data server, where
this platform has it, and --load_fast=false) and prints what its scalars HTTP API returns for each run and tag.
Exits 1 when no scalar is found.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from tensorboard.backend.event_processing import event_accumulator


def run_dirs(root):
    out = []
    for d, _, files in os.walk(root):
        if any("tfevents" in f for f in files):
            out.append(d)
    return sorted(out)


def accumulate(root):
    n = 0
    for d in run_dirs(root):
        acc = event_accumulator.EventAccumulator(d, size_guidance={event_accumulator.SCALARS: 0})
        acc.Reload()
        files = sorted(f for f in os.listdir(d) if "tfevents" in f)
        print("run %s (%d event file%s: %s)" % (os.path.relpath(d, root), len(files), "" if len(files) == 1 else "s",
                                                ", ".join(files)))
        for tag in sorted(acc.Tags()["scalars"]):
            points = acc.Scalars(tag)
            n += len(points)
            print("  %-26s %3d points: %s" % (tag, len(points), " ".join(
                "%d:%.6g" % (p.step, p.value) for p in points)))
    return n


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return json.loads(r.read())


def serve(root, load_fast):
    port = free_port()
    tb = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    p = subprocess.Popen([tb, "--logdir", root, "--port", str(port), "--host", "127.0.0.1",
                          "--load_fast", load_fast, "--reload_interval", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        tags = {}
        while time.time() < deadline:
            time.sleep(1)
            if p.poll() is not None:
                print("tensorboard --load_fast=%s exited: %s" % (load_fast, p.stderr.read()[-2000:]))
                return 0
            try:
                tags = get(port, "/data/plugin/scalars/tags")
            except OSError:
                continue
            if tags and all(tags.values()):
                time.sleep(2)  # one more reload cycle, so every file is in
                tags = get(port, "/data/plugin/scalars/tags")
                break
        print("tensorboard --load_fast=%s, /data/plugin/scalars/tags runs: %s" % (load_fast, sorted(tags)))
        n = 0
        for run in sorted(tags):
            for tag in sorted(tags[run]):
                q = urllib.parse.urlencode({"run": run, "tag": tag})
                points = get(port, "/data/plugin/scalars/scalars?" + q)
                n += len(points)
                print("  %s %-26s %3d points: %s" % (run, tag, len(points), " ".join(
                    "%d:%.6g" % (step, value) for _, step, value in points)))
        return n
    finally:
        p.terminate()
        p.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root", help="a scitune OUTPUT_DIR (or any folder holding event files)")
    ap.add_argument("--serve", action="store_true", help="also ask a running tensorboard server")
    args = ap.parse_args()
    n = accumulate(args.root)
    print("EventAccumulator: %d scalar points" % n)
    if args.serve:
        for load_fast in ("true", "false"):
            print("served: %d scalar points" % serve(args.root, load_fast))
    sys.exit(0 if n > 0 else 1)


if __name__ == "__main__":
    main()
