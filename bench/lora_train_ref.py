#!/usr/bin/env python3
"""The PyTorch half of bench/lora_train_vs_torch.sh: one LoRA training micro-batch (forward + backward) of a
transformers Gemma 3 in fp32 with PEFT LoRA on all seven projections, timed, with the process's peak RSS.
Prints one JSON line.

  python lora_train_ref.py MODEL [--seq 512] [--batch 1] [--r 16] [--ckpt 0|1] [--steps 2] [--warmup 1]
                                 [--attn sdpa|eager] [--bf16 0|1]

peak_rss_mib covers loading too; train_peak_rss_mib the peak after loading (VmHWM reset through
/proc/self/clear_refs). Labels are the input ids (every position scored); the base weights are frozen (requires_grad False, as PEFT sets
them). Threads: torch.set_num_threads(OMP_NUM_THREADS). Run one configuration per process.
"""
import argparse, json, os, resource, time

import torch


def status_mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("--seq", type=int, default=512)
p.add_argument("--batch", type=int, default=1)
p.add_argument("--r", type=int, default=16)
p.add_argument("--alpha", type=float, default=16)
p.add_argument("--ckpt", type=int, default=0)
p.add_argument("--steps", type=int, default=2)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--attn", default="sdpa")
p.add_argument("--bf16", type=int, default=0, help="torch.autocast(cpu, bfloat16) around the forward")
a = p.parse_args()
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))

from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

t0 = time.perf_counter()
base = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32, attn_implementation=a.attn)
load_s = time.perf_counter() - t0
rss_loaded, hwm_loaded = status_mib("VmRSS"), status_mib("VmHWM")
try:  # reset VmHWM so that the training phase's peak can be read apart from loading's (as the scitune side)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    hwm_reset = True
except OSError:
    hwm_reset = False
cfg = LoraConfig(r=a.r, lora_alpha=a.alpha, lora_dropout=0.0,
                 target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
model = get_peft_model(base, cfg)
with torch.no_grad():  # non-zero B, as the scitune side
    g = torch.Generator().manual_seed(2)
    for n, t in model.named_parameters():
        if "lora_B" in n:
            t.copy_(torch.randn(t.shape, generator=g) * 0.01)
if a.ckpt:
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
model.train()
model.config.use_cache = False

g = torch.Generator().manual_seed(3)
vocab = model.config.get_text_config().vocab_size
ids = torch.randint(3, vocab, (a.batch, a.seq), generator=g)
ids[:, 0] = 2


def step():
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16)):
        out = model(input_ids=ids, labels=ids, use_cache=False)
    out.loss.backward()
    model.zero_grad(set_to_none=True)
    return out.loss.item()


warm_s = 0.0
for _ in range(a.warmup):
    t = time.perf_counter()
    loss = step()
    warm_s += time.perf_counter() - t
t = time.perf_counter()
for _ in range(a.steps):
    loss = step()
step_s = (time.perf_counter() - t) / a.steps if a.steps else warm_s / max(a.warmup, 1)
t = time.perf_counter()
with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16)):
    model(input_ids=ids, labels=ids, use_cache=False)
fwd_s = time.perf_counter() - t
lora_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(json.dumps({"impl": "torch", "version": torch.__version__, "model": a.model, "seq": a.seq, "batch": a.batch,
                  "r": a.r, "ckpt": bool(a.ckpt), "bf16": bool(a.bf16), "attn": a.attn, "threads": torch.get_num_threads(),
                  "load_s": round(load_s, 2), "warmup_s": round(warm_s, 3), "step_s": round(step_s, 3),
                  "fwd_s": round(fwd_s, 3), "tok_s": round(a.batch * a.seq / step_s, 2), "loss": round(loss, 5),
                  "rss_loaded_mib": round(rss_loaded), "hwm_loaded_mib": round(hwm_loaded),
                  "lora_params": lora_params,
                  "train_peak_rss_mib": round(status_mib("VmHWM")) if hwm_reset else -1,
                  "peak_rss_mib": round(max(hwm_loaded, status_mib("VmHWM"),
                                            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))}))
