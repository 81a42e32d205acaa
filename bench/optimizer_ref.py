#!/usr/bin/env python3
"""Reference side of bench/optimizer_vs_bnb.sh (runs in the oracle): one optimizer step over a gemma-3-1b LoRA
r 16 adapter on all seven projections, as HF Trainer builds the optimizer: optim adamw_torch ->
torch.optim.AdamW (on CPU: the single-tensor for-loop path, neither foreach nor fused), adamw_8bit ->
bitsandbytes.optim.AdamW(optim_bits=8). lr 2e-4, betas (0.9, 0.999), eps 1e-8, weight_decay 0; gradients random.
Prints one JSON line per optimizer: ms per step (median of --steps after one warm-up step) and state bytes."""
import argparse, json, statistics, time

import torch
import bitsandbytes as bnb

ap = argparse.ArgumentParser()
ap.add_argument("--hidden", type=int, default=1152)
ap.add_argument("--intermediate", type=int, default=6912)
ap.add_argument("--q-dim", type=int, default=1024)   # 4 heads x 256
ap.add_argument("--kv-dim", type=int, default=256)   # 1 kv head x 256
ap.add_argument("--layers", type=int, default=26)
ap.add_argument("--r", type=int, default=16)
ap.add_argument("--steps", type=int, default=5)
args = ap.parse_args()

H, I, Q, KV, r = args.hidden, args.intermediate, args.q_dim, args.kv_dim, args.r
proj = [(Q, H), (KV, H), (KV, H), (H, Q), (I, H), (I, H), (H, I)]  # [out, in]: q k v o gate up down


def params():
    g = torch.Generator().manual_seed(7)
    ps = []
    for _ in range(args.layers):
        for out, inp in proj:
            for shape in ((r, inp), (out, r)):  # lora_A, lora_B
                p = torch.nn.Parameter(torch.randn(shape, generator=g) * 1e-2)
                p.grad = torch.randn(shape, generator=g) * 1e-4
                ps.append(p)
    return ps


def state_bytes(opt):
    seen, n = set(), 0
    for st in opt.state.values():
        for k, v in st.items():
            if torch.is_tensor(v) and not k.startswith("qmap") and v.data_ptr() not in seen:
                seen.add(v.data_ptr())
                n += v.numel() * v.element_size() if v.dim() > 0 else 0
    return n


for name, make in (("adamw_torch", lambda ps: torch.optim.AdamW(ps, lr=2e-4, betas=(0.9, 0.999), eps=1e-8,
                                                               weight_decay=0.0)),
                   ("adamw_8bit", lambda ps: bnb.optim.AdamW(ps, lr=2e-4, betas=(0.9, 0.999), eps=1e-8,
                                                             weight_decay=0.0, optim_bits=8))):
    ps = params()
    opt = make(ps)
    opt.step()  # warm-up: allocates the states
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        opt.step()
        times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"optim": name, "impl": "bitsandbytes " + bnb.__version__ if name == "adamw_8bit"
                      else "torch " + torch.__version__, "params": sum(p.numel() for p in ps),
                      "ms_per_step": statistics.median(times), "ms_all": times, "state_bytes": state_bytes(opt),
                      "threads": torch.get_num_threads()}), flush=True)
