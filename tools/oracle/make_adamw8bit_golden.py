#!/usr/bin/env python3
"""Golden data for bitsandbytes' 8-bit AdamW as HF Trainer builds it for optim="adamw_8bit"
(bitsandbytes.optim.AdamW(params, lr, betas, eps, optim_bits=8), weight decay from the param groups).

Runs in the oracle (bitsandbytes 0.50 CPU backend):
  cd /work/main && flock /tmp/oracle.lock /work/shared/oracle/run.sh \
      python3 tools/oracle/make_adamw8bit_golden.py --out tests/golden/adamw8bit

Writes adamw8bit.safetensors: the two quantisation maps (qmap.signed / qmap.unsigned), and per tensor T the
initial parameter T.p0, then per step k the gradient T.g<k>, the parameter T.p<k> and the states after the
step: T.s1_<k> / T.s2_<k> (uint8 codes, or fp32 for tensors under min_8bit_size) and T.absmax1_<k> /
T.absmax2_<k> (8-bit tensors only). The metadata holds the learning rate per step, betas, eps, the weight
decay per tensor and the versions. Tensors: one under 4096 elements (fp32 states), one of exactly 4096 (16
whole blocks, starting at zero like lora_B), one of 4500 (last block of 148); gradients with a magnitude per
256-block spanning 1e-7..1e-1, an all-zero block (absmax 0) and scattered exact zeros; step 1 at lr 0 (HF's
first warmup step).
"""
import argparse
import json
import os

import numpy as np
import torch
from safetensors.numpy import save_file

import bitsandbytes as bnb

SHAPES = {"a_small": (8, 200), "b_exact": (16, 256), "c_ragged": (300, 15)}
WEIGHT_DECAY = {"a_small": 0.01, "b_exact": 0.01, "c_ragged": 0.0}
LRS = [0.0, 2e-3, 1e-3, 5e-4]
BETAS = (0.9, 0.999)
EPS = 1e-8


def gradient(gen, name, step, n):
    g = torch.randn(n, generator=gen, dtype=torch.float32)
    blocks = (n + 255) // 256
    exps = torch.empty(blocks).uniform_(-7.0, -1.0, generator=gen)
    scale = torch.pow(10.0, exps).repeat_interleave(256)[:n]
    g = g * scale
    if name != "a_small" and step == 2:
        g[256:512] = 0.0  # a whole block of zeros
    g[torch.randint(0, n, (n // 50,), generator=gen)] = 0.0
    return g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    gen = torch.Generator().manual_seed(20260821)
    params = {}
    for name, shape in SHAPES.items():
        if name == "b_exact":
            params[name] = torch.nn.Parameter(torch.zeros(shape))
        else:
            params[name] = torch.nn.Parameter((torch.rand(shape, generator=gen) * 2 - 1) * 0.05)
    groups = [
        {"params": [params[n] for n in SHAPES if WEIGHT_DECAY[n] > 0], "weight_decay": 0.01},
        {"params": [params[n] for n in SHAPES if WEIGHT_DECAY[n] == 0], "weight_decay": 0.0},
    ]
    opt = bnb.optim.AdamW(groups, lr=LRS[0], betas=BETAS, eps=EPS, optim_bits=8, is_paged=False)
    out = {"qmap.signed": bnb.functional.create_dynamic_map(signed=True).numpy(),
           "qmap.unsigned": bnb.functional.create_dynamic_map(signed=False).numpy()}
    for name, p in params.items():
        out[f"{name}.p0"] = p.detach().clone().numpy()
    for k, lr in enumerate(LRS, start=1):
        for g in opt.param_groups:
            g["lr"] = lr
        for name, p in params.items():
            p.grad = gradient(gen, name, k, p.numel()).reshape(p.shape)
            out[f"{name}.g{k}"] = p.grad.clone().numpy()
        opt.step()
        for name, p in params.items():
            st = opt.state[p]
            out[f"{name}.p{k}"] = p.detach().clone().numpy()
            out[f"{name}.s1_{k}"] = st["state1"].clone().numpy()
            out[f"{name}.s2_{k}"] = st["state2"].clone().numpy()
            if st["state1"].dtype == torch.uint8:
                assert torch.equal(st["qmap1"], torch.from_numpy(out["qmap.signed"]))
                assert torch.equal(st["qmap2"], torch.from_numpy(out["qmap.unsigned"]))
                out[f"{name}.absmax1_{k}"] = st["absmax1"].clone().numpy()
                out[f"{name}.absmax2_{k}"] = st["absmax2"].clone().numpy()
    meta = {"lr": json.dumps(LRS), "betas": json.dumps(BETAS), "eps": repr(EPS),
            "weight_decay": json.dumps(WEIGHT_DECAY), "bitsandbytes": bnb.__version__, "torch": torch.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "adamw8bit.safetensors")
    save_file({k: np.ascontiguousarray(v) for k, v in out.items()}, path, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), bitsandbytes {bnb.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
