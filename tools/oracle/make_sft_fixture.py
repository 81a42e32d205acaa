#!/usr/bin/env python3
"""The fixture of the SFT reference run (tests/golden/sft_reference/): a tiny random Gemma 3, an initial PEFT
LoRA adapter with non-zero B, and a pre-tokenised JSONL data set; reference_sft.py then trains on it.

Writes into OUT:
  model/     config.json (v5 spelling), model.safetensors (float32), generation_config.json, and a copy of
             tests/golden/tokenizer/sp_tiny/tokenizer.model (`scitune train` loads a tokenizer from the model
             folder; with the `tokens` layout it only checks ids and the single leading <bos> = 2 against it)
  adapter/   adapter_config.json + adapter_model.safetensors written by PEFT's save_pretrained (r, alpha on all
             seven projections; A as PEFT's kaiming init, B ~ N(0, 0.05^2) so the first step is not at B = 0)
  data.jsonl {"input_ids": [...], "labels": [...]} per line (labels HF style, unshifted): --examples records of
             5..20 tokens, <bos> first; a random-length prefix is -100 (a "prompt"), some records are fully
             trained (their <bos> label is counted by HF's num_items_in_batch but never predicted), some carry
             no "labels" key at all (= every token trained).
    run.sh python3 tools/oracle/make_sft_fixture.py --out tests/golden/sft_reference
"""
import argparse
import json
import os
import random
import shutil

import torch
from peft import LoraConfig, get_peft_model
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--seed", type=int, default=11)
p.add_argument("--vocab", type=int, default=512)
p.add_argument("--hidden", type=int, default=48)
p.add_argument("--inter", type=int, default=96)
p.add_argument("--layers", type=int, default=3)
p.add_argument("--heads", type=int, default=2)
p.add_argument("--kv-heads", type=int, default=1)
p.add_argument("--head-dim", type=int, default=24)
p.add_argument("--window", type=int, default=8)
p.add_argument("--rank", type=int, default=4)
p.add_argument("--alpha", type=float, default=8)
p.add_argument("--examples", type=int, default=39)
p.add_argument("--tokenizer", default="tests/golden/tokenizer/sp_tiny/tokenizer.model")
a = p.parse_args()

torch.manual_seed(a.seed)
rng = random.Random(a.seed)
rope = {"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
        "full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0}}
cfg = Gemma3TextConfig(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.inter,
                       num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
                       head_dim=a.head_dim, query_pre_attn_scalar=a.head_dim, sliding_window=a.window,
                       sliding_window_pattern=2, rope_parameters=rope, max_position_embeddings=4096,
                       tie_word_embeddings=True, attn_implementation="eager", pad_token_id=0, bos_token_id=2,
                       eos_token_id=1)
model = Gemma3ForCausalLM(cfg)
with torch.no_grad():
    for n, t in model.named_parameters():
        t.copy_(torch.randn_like(t) * (0.1 if n.endswith("norm.weight") else 0.05))
model = model.to(torch.float32)
os.makedirs(f"{a.out}/model", exist_ok=True)
model.save_pretrained(f"{a.out}/model", safe_serialization=True)
shutil.copyfile(a.tokenizer, f"{a.out}/model/tokenizer.model")

targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
peft_model = get_peft_model(model, LoraConfig(r=a.rank, lora_alpha=a.alpha, lora_dropout=0.0,
                                              target_modules=targets, task_type="CAUSAL_LM"))
with torch.no_grad():
    for n, t in peft_model.named_parameters():
        if "lora_B" in n:
            t.copy_(torch.randn_like(t) * 0.05)
peft_model.save_pretrained(f"{a.out}/adapter")
os.remove(f"{a.out}/adapter/README.md")  # PEFT's model card template
c = json.load(open(f"{a.out}/adapter/adapter_config.json"))
c["base_model_name_or_path"] = "../model"
json.dump(c, open(f"{a.out}/adapter/adapter_config.json", "w"), indent=2, sort_keys=True)

with open(f"{a.out}/data.jsonl", "w") as f:
    for i in range(a.examples):
        n = rng.randint(5, 20)
        ids = [2] + [rng.randint(3, a.vocab - 1) for _ in range(n - 1)]
        kind = i % 6
        if kind == 4:  # no labels key: everything trained
            f.write(json.dumps({"input_ids": ids}) + "\n")
            continue
        prompt = 0 if kind == 5 else rng.randint(1, n - 1)  # kind 5: fully trained, <bos> label included
        labels = [-100] * prompt + ids[prompt:]
        f.write(json.dumps({"input_ids": ids, "labels": labels}) + "\n")
print(json.dumps({"out": a.out, "examples": a.examples,
                  "lora_parameters": sum(t.numel() for n, t in peft_model.named_parameters() if "lora_" in n)}))
