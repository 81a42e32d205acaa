#!/usr/bin/env python3
"""Checks scitune's writers against the reference libraries (run in the oracle from the repo root).

  check_safetensors_init.py --model DIR      a folder from `scitune init --preset tiny`: transformers loads it
                                              with no missing / unexpected / mismatched keys, sees the config we
                                              meant, and runs a forward pass with finite logits.
  check_safetensors_init.py --sample FILE    a safetensors file with every dtype, written with the byte pattern
                                              (i*31 + 7 + len(name)) % 256 (bool: & 1; floats: top exponent bits
                                              cleared): the python safetensors library reads every tensor,
                                              shape, dtype and metadata identically.
"""
import argparse, json, sys
import torch
from safetensors import safe_open

p = argparse.ArgumentParser()
p.add_argument("--model")
p.add_argument("--sample")
a = p.parse_args()
ok = True

if a.sample:
    names = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
             "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
             "BOOL": torch.bool, "U16": torch.uint16, "U32": torch.uint32, "U64": torch.uint64}
    with safe_open(a.sample, framework="pt") as f:
        meta = f.metadata()
        assert meta == {"format": "pt", "who": "scitune"}, meta
        keys = sorted(f.keys())
        assert len(keys) == 3 * len(names), keys
        for k in keys:
            kind, dt = k.split(".")
            t = f.get_tensor(k)
            shape = {"t": [3, 5], "s": [], "e": [2, 0]}[kind]
            assert list(t.shape) == shape and t.dtype == names[dt], (k, t.shape, t.dtype)
            es = t.element_size()
            raw = t.reshape(-1).view(torch.uint8).tolist() if t.numel() else []
            want = [(i * 31 + 7 + len(k)) % 256 for i in range(t.numel() * es)]
            if dt == "BOOL":
                want = [b & 1 for b in want]
            if dt in ("F32", "F16", "BF16", "F64"):
                want = [b & 0x3F if i % es == es - 1 else b for i, b in enumerate(want)]
            if raw != want:
                ok = False
                print("MISMATCH", k, raw[:8], want[:8])
    print(f"safetensors: {len(keys)} tensors read identically by safetensors (python)")

if a.model:
    from transformers import AutoModelForCausalLM, AutoConfig
    cfg = AutoConfig.from_pretrained(a.model)
    model, info = AutoModelForCausalLM.from_pretrained(a.model, output_loading_info=True, dtype=torch.float32)
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(key):
            ok = False
            print("LOADING PROBLEM", key, info[key])
    print("config:", type(model).__name__, "layers", cfg.layer_types, "rope", cfg.rope_parameters)
    assert cfg.layer_types == ["sliding_attention", "full_attention"] * 2
    assert cfg.rope_parameters["full_attention"]["rope_type"] == "linear"
    assert cfg.rope_parameters["full_attention"]["factor"] == 8.0
    sd = model.state_dict()
    emb = sd["model.embed_tokens.weight"]
    print("embed std %.5f, pad row max %.3g, norm max %.3g" % (emb[1:].std().item(), emb[0].abs().max().item(),
          sd["model.norm.weight"].abs().max().item()))
    assert abs(emb[1:].std().item() - 0.02) < 0.002 and emb[0].abs().max().item() == 0
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[2, 10, 20, 30, 40]])).logits
    assert torch.isfinite(logits).all()
    print("transformers: loaded", a.model, "with no missing/unexpected keys; logits", tuple(logits.shape))
    gen = json.load(open(a.model + "/generation_config.json"))
    from transformers import GenerationConfig
    g = GenerationConfig.from_pretrained(a.model)
    print("generation_config:", {k: getattr(g, k) for k in ("do_sample", "top_k", "top_p", "temperature", "eos_token_id")})

sys.exit(0 if ok else 1)
