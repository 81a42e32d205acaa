#!/usr/bin/env python3
"""transformers on a merged folder written by `scitune export --format merged` vs scitune's own logits for the
same ids (base + adapter applied at run time by `scitune score --adapter`). Run in the oracle:

  merged_logits_check.py ids FOLDER OUT_IDS.safetensors      writes input_ids (int64 [1, T]) from a fixed text
  merged_logits_check.py compare FOLDER SCORE.safetensors     AutoModelForCausalLM(FOLDER) logits vs SCORE's logits

Prints JSON: max |diff| / max |ref| over all logits, and top-1 agreement.
"""
import json
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

cmd, folder, path = sys.argv[1:4]
if cmd == "ids":
    g = torch.Generator().manual_seed(0)
    ids = torch.cat([torch.tensor([[2]]), torch.randint(3, 20000, (1, 47), generator=g)], dim=1)
    save_file({"input_ids": ids.to(torch.int64)}, path)
else:
    ours = load_file(path)["logits"].double()
    ids = load_file(path.replace(".out.", ".in."))["input_ids"]
    m = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    m.eval()
    with torch.no_grad():
        ref = m(input_ids=ids).logits.double()
    err = ((ours - ref).abs().max() / ref.abs().max()).item()
    top1 = (ours.argmax(-1) == ref.argmax(-1)).double().mean().item()
    print(json.dumps({"rel_err": err, "top1_agreement": top1, "positions": int(ids.shape[1]),
                      "architectures": m.config.architectures}))
