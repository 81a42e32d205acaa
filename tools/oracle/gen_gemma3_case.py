#!/usr/bin/env python3
"""One golden case for the Gemma 3 text decoder, computed by HF transformers (float64, eager attention).

Writes into OUT:
  model/      config.json (v5 or Hub spelling), model.safetensors (float32), generation_config.json
  adapter/    a PEFT LoRA adapter (B non-zero) on --targets
  golden.safetensors
     input_ids, labels, attention_mask (int64 [B,T]; right padding when --lengths is given)
     logits, loss                     base model
     logits_lora, loss_lora, grad.<peft name>   with the adapter (y = W x + alpha/r B A x)
Loss = mean cross-entropy over positions whose shifted label is not -100 (HF causal-LM shift); padded
positions carry label -100. Logits at padded query positions are not compared (HF computes them anyway).
"""
import argparse, json, os
import torch
from safetensors.torch import save_file
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--vocab", type=int, default=512)
p.add_argument("--hidden", type=int, default=64)
p.add_argument("--inter", type=int, default=128)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--kv-heads", type=int, default=2)
p.add_argument("--head-dim", type=int, default=32)
p.add_argument("--qscalar", type=int, default=24)
p.add_argument("--window", type=int, default=6)
p.add_argument("--pattern", type=int, default=2)
p.add_argument("--rope-global-factor", type=float, default=8.0)
p.add_argument("--final-softcap", type=float, default=None)
p.add_argument("--seq", type=int, default=16)
p.add_argument("--batch", type=int, default=1)
p.add_argument("--lengths", default=None, help="comma-separated valid lengths per row (right padding)")
p.add_argument("--rank", type=int, default=4)
p.add_argument("--alpha", type=float, default=8)
p.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
p.add_argument("--config-style", choices=["v5", "hub"], default="v5")
p.add_argument("--multimodal", action="store_true")
a = p.parse_args()

torch.manual_seed(a.seed)
rope = {"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
        "full_attention": {"rope_type": "default", "rope_theta": 1000000.0}}
if a.rope_global_factor != 1.0:
    rope["full_attention"] = {"rope_type": "linear", "factor": a.rope_global_factor, "rope_theta": 1000000.0}
cfg = Gemma3TextConfig(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.inter,
                       num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
                       head_dim=a.head_dim, query_pre_attn_scalar=a.qscalar, sliding_window=a.window,
                       sliding_window_pattern=a.pattern, rope_parameters=rope, max_position_embeddings=4096,
                       final_logit_softcapping=a.final_softcap, tie_word_embeddings=True,
                       attn_implementation="eager")
if a.multimodal:
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, SiglipVisionConfig
    vcfg = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                              image_size=28, patch_size=14)
    mcfg = Gemma3Config(text_config=cfg, vision_config=vcfg, mm_tokens_per_image=4, image_token_index=a.vocab - 1,
                        boi_token_index=a.vocab - 3, eoi_token_index=a.vocab - 2)
    mcfg._attn_implementation = "eager"
    model = Gemma3ForConditionalGeneration(mcfg)
else:
    model = Gemma3ForCausalLM(cfg)
with torch.no_grad():
    for n, t in model.named_parameters():
        t.copy_(torch.randn_like(t) * (0.1 if n.endswith("norm.weight") else 0.05))
model = model.to(torch.float32)
os.makedirs(f"{a.out}/model", exist_ok=True)
model.save_pretrained(f"{a.out}/model", safe_serialization=True)
if a.config_style == "hub":
    cpath = f"{a.out}/model/config.json"
    c = json.load(open(cpath))
    t = c.get("text_config", c)
    rp = t.pop("rope_parameters")
    t.pop("layer_types", None)
    t["rope_theta"] = rp["full_attention"]["rope_theta"]
    t["rope_local_base_freq"] = rp["sliding_attention"]["rope_theta"]
    fa = rp["full_attention"]
    t["rope_scaling"] = {"rope_type": "linear", "factor": fa["factor"]} if fa.get("rope_type") == "linear" else None
    t["sliding_window_pattern"] = a.pattern
    t.pop("_sliding_window_pattern", None)
    json.dump(c, open(cpath, "w"), indent=2)
model = type(model).from_pretrained(f"{a.out}/model", dtype=torch.float64, attn_implementation="eager").eval()

ids = torch.randint(3, a.vocab - 4, (a.batch, a.seq))
ids[:, 0] = 2  # BOS
mask = torch.ones_like(ids)
lengths = [int(x) for x in a.lengths.split(",")] if a.lengths else [a.seq] * a.batch
assert len(lengths) == a.batch
for b, n in enumerate(lengths):
    mask[b, n:] = 0
    ids[b, n:] = 0  # <pad>
labels = ids.clone()
labels[:, : a.seq // 2] = -100
labels[mask == 0] = -100

def loss_of(logits):
    lg = logits[:, :-1].double().reshape(-1, logits.shape[-1])
    lb = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(lg, lb, ignore_index=-100, reduction="mean")

with torch.no_grad():
    logits = model(input_ids=ids, attention_mask=mask).logits
    loss = loss_of(logits)

targets = a.targets.split(",")
scale = a.alpha / a.rank
lora = {}
def wrap(mod, name):
    A = torch.nn.Parameter(torch.randn(a.rank, mod.in_features, dtype=torch.float64) * 0.1)
    B = torch.nn.Parameter(torch.randn(mod.out_features, a.rank, dtype=torch.float64) * 0.1)
    lora[name] = (A, B)
    base = mod.forward
    mod.forward = lambda x, base=base, A=A, B=B: base(x) + scale * ((x @ A.t()) @ B.t())
for n, m in model.named_modules():
    if isinstance(m, torch.nn.Linear) and n.split(".")[-1] in targets and "vision" not in n and "projector" not in n:
        wrap(m, n)
logits_l = model(input_ids=ids, attention_mask=mask).logits
loss_l = loss_of(logits_l)
loss_l.backward()

peft, grads = {}, {}
for n, (A, B) in lora.items():
    base = f"base_model.model.{n}"
    peft[f"{base}.lora_A.weight"] = A.detach().float().contiguous()
    peft[f"{base}.lora_B.weight"] = B.detach().float().contiguous()
    grads[f"grad.{base}.lora_A.weight"] = A.grad.float().contiguous()
    grads[f"grad.{base}.lora_B.weight"] = B.grad.float().contiguous()
os.makedirs(f"{a.out}/adapter", exist_ok=True)
save_file(peft, f"{a.out}/adapter/adapter_model.safetensors", metadata={"format": "pt"})
json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": a.rank, "lora_alpha": a.alpha,
           "lora_dropout": 0.0, "bias": "none", "target_modules": targets,
           "base_model_name_or_path": "../model"}, open(f"{a.out}/adapter/adapter_config.json", "w"), indent=2)
g = {"input_ids": ids.to(torch.int64).contiguous(), "labels": labels.to(torch.int64).contiguous(),
     "attention_mask": mask.to(torch.int64).contiguous(),
     "logits": logits.float().contiguous(), "loss": loss.float().reshape(1),
     "logits_lora": logits_l.detach().float().contiguous(), "loss_lora": loss_l.detach().float().reshape(1)}
g.update(grads)
save_file(g, f"{a.out}/golden.safetensors")
print(json.dumps({"out": a.out, "loss": loss.item(), "loss_lora": loss_l.item(), "n_lora_tensors": 2 * len(lora)}))
