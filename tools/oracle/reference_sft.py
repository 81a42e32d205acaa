#!/usr/bin/env python3
"""A float64 PyTorch reference for `scitune train` (LoRA SFT with HF Trainer semantics), on the fixture made by
make_sft_fixture.py. Writes one JSON line per optimizer step: {"step", "loss", "learning_rate", "grad_norm"}.

The loop spells out what transformers.Trainer does (../shared/spec/trainer_quant_facts.md §2-§4):
  - the base model is loaded in float64, the PEFT adapter on top of it (trainable, float64), dropout 0;
  - micro-batches of --batch examples in data order (the same order every epoch: `--shuffle false`), right-padded
    to the longest (input <pad> = 0, labels -100). No attention_mask is passed: under causal attention a valid
    position never sees the padding to its right, so only padded rows (not trained) would change; and HF 5.12's
    eager sliding-window mask leaves padded rows that are a window past the last real token with every key
    masked, whose NaN then reaches every position of that row through 0 * NaN in the next layer's P @ V;
  - an optimizer step takes up to --ga micro-batches, never across an epoch end (so an epoch has
    ceil(micro / ga) steps, its last one possibly shorter); num_items_in_batch = labels != -100 over all of them,
    counted before the causal shift (--items before-shift: transformers up to huggingface/transformers#46204,
    merged 2026-05-27, and the spec's §2) or after it, labels[..., 1:] (--items after-shift: transformers with
    #46204, e.g. the oracle's 5.12); the two differ whenever a sequence's first label is trained; each
    micro-batch backpropagates sum(token CE over shifted labels) / that count, and the logged loss is the sum of
    those;
  - grad_norm = torch.nn.utils.clip_grad_norm_(max_norm) (the norm before clipping);
  - torch.optim.AdamW(betas (0.9, 0.999), eps 1e-8, weight_decay) on every LoRA A and B;
  - get_cosine_schedule_with_warmup / get_linear_... (LambdaLR): update k uses lambda(k - 1); the logged
    learning_rate is the one that update used;
  - total steps = ceil(epochs * steps per epoch), or --max-steps.
--hf-trainer runs the same training through transformers.Trainer itself (a SequentialSampler instead of its
random one; for --items before-shift with its #46204 count switched off through Trainer._loss_shifts_labels)
and checks that the two agree, so the loop above is HF's behaviour and not our reading of it.

Data order: `scitune train` prepares a data file by shuffling its examples once with --seed (data/prepare.h),
also under --shuffle false; --order prepare replays that shuffle (std::mt19937_64 + Fisher-Yates with the
unbiased bounded draw of prepare.cc), --order file keeps the file order.

    run.sh python3 tools/oracle/reference_sft.py --dir tests/golden/sft_reference --hf-trainer \
        --out tests/golden/sft_reference/reference_log.jsonl
"""
import argparse
import json
import math

import torch
from peft import PeftModel
from transformers import Gemma3ForCausalLM, get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True, help="fixture folder: model/, adapter/, data.jsonl")
p.add_argument("--out", required=True)
p.add_argument("--batch", type=int, default=2)
p.add_argument("--ga", type=int, default=3)
p.add_argument("--lr", type=float, default=5e-3)
p.add_argument("--schedule", choices=["cosine", "linear"], default="cosine")
p.add_argument("--warmup", type=int, default=4)
p.add_argument("--epochs", type=float, default=5)
p.add_argument("--max-steps", type=int, default=-1)
p.add_argument("--weight-decay", type=float, default=0.1)
p.add_argument("--max-grad-norm", type=float, default=1.2)
p.add_argument("--items", choices=["before-shift", "after-shift"], default="before-shift")
p.add_argument("--order", choices=["prepare", "file"], default="prepare")
p.add_argument("--seed", type=int, default=42, help="scitune's --seed (for --order prepare)")
p.add_argument("--hf-trainer", action="store_true", help="also run transformers.Trainer and compare")
p.add_argument("--verbose", action="store_true", help="with --hf-trainer: print both logs side by side")
a = p.parse_args()

M64 = (1 << 64) - 1


class MT19937_64:
    """std::mt19937_64."""

    def __init__(self, seed):
        self.mt = [0] * 312
        self.mt[0] = seed & M64
        for i in range(1, 312):
            self.mt[i] = (6364136223846793005 * (self.mt[i - 1] ^ (self.mt[i - 1] >> 62)) + i) & M64
        self.i = 312

    def __call__(self):
        if self.i >= 312:
            for k in range(312):
                y = (self.mt[k] & 0xFFFFFFFF80000000) | (self.mt[(k + 1) % 312] & 0x7FFFFFFF)
                v = self.mt[(k + 156) % 312] ^ (y >> 1)
                if y & 1:
                    v ^= 0xB5026F5AA96619E9
                self.mt[k] = v
            self.i = 0
        x = self.mt[self.i]
        self.i += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        x ^= x >> 43
        return x & M64


def prepare_order(n, seed):
    rng = MT19937_64(seed)
    v = list(range(n))
    for i in range(n, 1, -1):  # seeded_shuffle + uniform_below (prepare.h / prepare.cc)
        lo = ((1 << 64) - i) % i
        while True:
            x = rng()
            if x >= lo:
                break
        j = x % i
        v[i - 1], v[j] = v[j], v[i - 1]
    return v


def load_examples():
    ex = []
    for line in open(f"{a.dir}/data.jsonl"):
        r = json.loads(line)
        ex.append({"input_ids": r["input_ids"], "labels": r.get("labels", list(r["input_ids"]))})
    if a.order == "prepare":
        ex = [ex[i] for i in prepare_order(len(ex), a.seed)]
    return ex


def collate(batch):
    T = max(len(e["input_ids"]) for e in batch)
    ids = torch.zeros(len(batch), T, dtype=torch.long)
    labels = torch.full((len(batch), T), -100, dtype=torch.long)
    for b, e in enumerate(batch):
        n = len(e["input_ids"])
        ids[b, :n] = torch.tensor(e["input_ids"])
        labels[b, :n] = torch.tensor(e["labels"])
    return {"input_ids": ids, "labels": labels}


def load_model():
    base = Gemma3ForCausalLM.from_pretrained(f"{a.dir}/model", dtype=torch.float64, attn_implementation="eager")
    model = PeftModel.from_pretrained(base, f"{a.dir}/adapter", is_trainable=True)
    model = model.to(torch.float64)  # the adapter too
    for n, t in model.named_parameters():
        assert t.dtype == torch.float64, n
        assert t.requires_grad == ("lora_" in n), n
    return model


def schedule(opt, total):
    f = get_cosine_schedule_with_warmup if a.schedule == "cosine" else get_linear_schedule_with_warmup
    return f(opt, a.warmup, total)


examples = load_examples()
micro = [examples[i:i + a.batch] for i in range(0, len(examples), a.batch)]
steps_per_epoch = math.ceil(len(micro) / a.ga)
total = a.max_steps if a.max_steps > 0 else math.ceil(a.epochs * steps_per_epoch)


def reference_loop():
    model = load_model()
    model.train()
    params = [t for t in model.parameters() if t.requires_grad]
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=a.weight_decay)
    sched = schedule(opt, total)
    log = []
    step = 0
    while step < total:
        for s in range(steps_per_epoch):
            if step >= total:
                break
            batches = [collate(m) for m in micro[s * a.ga:(s + 1) * a.ga]]
            first = 0 if a.items == "before-shift" else 1
            n_items = sum(int((b["labels"][:, first:] != -100).sum()) for b in batches)
            loss_total = 0.0
            for b in batches:
                logits = model(input_ids=b["input_ids"]).logits
                lg = logits[:, :-1].reshape(-1, logits.shape[-1])
                lb = b["labels"][:, 1:].reshape(-1)
                loss = torch.nn.functional.cross_entropy(lg, lb, ignore_index=-100, reduction="sum") / n_items
                loss.backward()
                loss_total += loss.item()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, a.max_grad_norm).item()
            lr = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            log.append({"step": step, "loss": loss_total, "learning_rate": lr, "grad_norm": grad_norm})
    return log


def hf_trainer_run():
    import tempfile

    from torch.utils.data import SequentialSampler
    from transformers import Trainer, TrainingArguments

    class InOrder(Trainer):
        def _get_train_sampler(self, *args, **kwargs):
            return SequentialSampler(self.train_dataset)

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=a.batch,
                                 gradient_accumulation_steps=a.ga, learning_rate=a.lr,
                                 lr_scheduler_type=a.schedule, warmup_steps=a.warmup, num_train_epochs=a.epochs,
                                 max_steps=a.max_steps, weight_decay=a.weight_decay, max_grad_norm=a.max_grad_norm,
                                 adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, optim="adamw_torch",
                                 logging_steps=1, save_strategy="no", report_to=[], use_cpu=True,
                                 remove_unused_columns=False, dataloader_num_workers=0, seed=0,
                                 disable_tqdm=True)
        tr = InOrder(model=load_model(), args=args, train_dataset=examples, data_collator=collate)
        if hasattr(tr, "_loss_shifts_labels"):  # transformers with #46204
            tr._loss_shifts_labels = a.items == "after-shift"
        else:
            assert a.items == "before-shift", "this transformers counts num_items_in_batch before the shift"
        tr.train()
        return [{"step": h["step"], "loss": h["loss"], "learning_rate": h["learning_rate"],
                 "grad_norm": h["grad_norm"]} for h in tr.state.log_history if "loss" in h]


log = reference_loop()
with open(a.out, "w") as f:
    for r in log:
        f.write(json.dumps(r) + "\n")
clipped = sum(r["grad_norm"] > a.max_grad_norm for r in log)
print(json.dumps({"steps": len(log), "steps_per_epoch": steps_per_epoch, "clipped_steps": clipped,
                  "first": log[0], "last": log[-1]}))
if a.hf_trainer:
    hf = hf_trainer_run()
    assert len(hf) == len(log), (len(hf), len(log))
    worst = {}
    for r, h in zip(log, hf):
        assert r["step"] == h["step"]
        for k in ("loss", "learning_rate", "grad_norm"):
            d = abs(r[k] - h[k]) / max(abs(r[k]), 1e-30) if r[k] != h[k] else 0.0
            worst[k] = max(worst.get(k, 0.0), d)
    print(json.dumps({"hf_trainer_vs_loop_max_rel_diff": worst}))
    if a.verbose:
        for r, h in zip(log, hf):
            print(r["step"], r["loss"], h["loss"], r["grad_norm"], h["grad_norm"], r["learning_rate"], h["learning_rate"])
    # HF's ForCausalLMLoss casts the logits to float32 (loss_utils.py), so the Trainer's loss and gradients carry
    # float32 rounding (~1e-7 relative) even on a float64 model; this loop stays in float64.
    assert worst["learning_rate"] < 1e-12 and worst["grad_norm"] < 1e-5 and worst["loss"] < 1e-5, worst
