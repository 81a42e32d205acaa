#!/usr/bin/env python3
"""PEFT interoperability checks, run in the oracle by tools/oracle/peft_roundtrip.sh.

  make-ids   --out F --vocab V --seq T --lengths 16,11
             input_ids / attention_mask (right padding) int64 [B,T] for `scitune score`
  make-model --out DIR --vocab V [--seed S]
             a random Gemma3ForCausalLM folder written by transformers (float32), for a real-vocab case
  check      --model DIR --adapter DIR --ids F --ours F --out F [--tol 1e-4]
             loads the base (float64, eager) with AutoModelForCausalLM and the adapter with
             PeftModel.from_pretrained; fails on any PEFT warning about missing/unexpected keys, on an adapter
             tensor PEFT did not load or loaded with other values, or when scitune's logits (`--ours`, from
             `scitune score --adapter`) differ from PEFT's by more than tol * max|PEFT| at valid positions.
             Writes PEFT's logits to --out and prints one JSON line.
  peft-adapter --model DIR --out DIR --targets q_proj,v_proj | '.*regex'
             an adapter written by PEFT's own save_pretrained (B random), for the PEFT -> scitune way
  peft-names --out DIR [--multimodal]
             the tensor names PEFT itself writes for a LoRA on all seven projections of a tiny Gemma 3
             (CausalLM or the multimodal wrapper), for comparing with the names scitune reads and writes.
"""
import argparse, json, logging, sys, warnings

import torch
from safetensors.torch import load_file, save_file


def make_ids(a):
    g = torch.Generator().manual_seed(a.seed)
    lengths = [int(x) for x in a.lengths.split(",")]
    B, T = len(lengths), a.seq
    ids = torch.randint(3, a.vocab, (B, T), generator=g)
    ids[:, 0] = 2  # BOS
    mask = torch.ones_like(ids)
    for b, n in enumerate(lengths):
        mask[b, n:] = 0
        ids[b, n:] = 0
    save_file({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous()}, a.out)


def make_model(a):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig
    torch.manual_seed(a.seed)
    cfg = Gemma3TextConfig(vocab_size=a.vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16,
                           sliding_window=4, sliding_window_pattern=2, max_position_embeddings=4096,
                           tie_word_embeddings=True, attn_implementation="eager")
    m = Gemma3ForCausalLM(cfg)
    with torch.no_grad():
        for n, t in m.named_parameters():
            t.copy_(torch.randn_like(t) * (0.1 if n.endswith("norm.weight") else 0.05))
    m.save_pretrained(a.out, safe_serialization=True)


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def check(a):
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict
    from transformers import AutoModelForCausalLM
    base = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float64, attn_implementation="eager").eval()
    cap = Capture()
    for name in ("peft", "transformers"):
        logging.getLogger(name).addHandler(cap)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(base, a.adapter).eval()
    messages = [str(w.message) for w in caught] + cap.records
    key_msgs = [m for m in messages if "missing" in m.lower() or "unexpected" in m.lower()]
    problems = [f"PEFT: {m}" for m in key_msgs]

    file_sd = load_file(f"{a.adapter}/adapter_model.safetensors")
    model_sd = get_peft_model_state_dict(model)
    # get_peft_model_state_dict drops the adapter name ("default"), so its keys are the file's spelling.
    missing = sorted(set(model_sd) - set(file_sd))
    unexpected = sorted(set(file_sd) - set(model_sd))
    if missing:
        problems.append(f"{len(missing)} adapter tensors PEFT expects are not in the file, e.g. {missing[0]}")
    if unexpected:
        problems.append(f"{len(unexpected)} tensors in the file match no PEFT module, e.g. {unexpected[0]}")
    worst_w = 0.0
    for k in set(file_sd) & set(model_sd):
        worst_w = max(worst_w, (file_sd[k].double() - model_sd[k].double().cpu()).abs().max().item())
    if worst_w != 0.0:
        problems.append(f"PEFT holds adapter values differing from the file by {worst_w}")
    nonzero_b = sum(1 for k, v in file_sd.items() if k.endswith("lora_B.weight") and v.abs().max() > 0)
    n_b = sum(1 for k in file_sd if k.endswith("lora_B.weight"))
    if nonzero_b != n_b:
        problems.append(f"only {nonzero_b} of {n_b} lora_B tensors are non-zero (the check would be vacuous)")

    ids = load_file(a.ids)
    with torch.no_grad():
        ref = model(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"]).logits
        with model.disable_adapter():
            plain = model(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"]).logits
    ours = load_file(a.ours)["logits"].double()
    valid = ids["attention_mask"].bool()
    scale = ref[valid].abs().max().item()
    rel = (ours[valid] - ref[valid]).abs().max().item() / scale
    effect = (plain[valid] - ref[valid]).abs().max().item() / scale
    if not rel <= a.tol:  # NaN fails too
        problems.append(f"logits: max|scitune - PEFT| / max|PEFT| = {rel:.3g} > {a.tol}")
    if not effect >= 100 * max(rel, 1e-12):
        problems.append(f"the adapter barely changes the logits ({effect:.3g}); the comparison is weak")
    save_file({"input_ids": ids["input_ids"], "attention_mask": ids["attention_mask"],
               "logits": ref.float().contiguous()}, a.out)
    cfg = json.load(open(f"{a.adapter}/adapter_config.json"))
    print(json.dumps({"adapter": a.adapter, "model_class": type(base).__name__, "tensors": len(file_sd),
                      "r": cfg.get("r"), "lora_alpha": cfg.get("lora_alpha"), "use_rslora": cfg.get("use_rslora"),
                      "rank_pattern": cfg.get("rank_pattern"), "peft_key_warnings": len(key_msgs),
                      "missing": len(missing), "unexpected": len(unexpected), "max_weight_diff": worst_w,
                      "logits_rel_diff": rel, "adapter_effect_rel": effect, "ok": not problems}))
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)


def peft_names(a):
    from peft import LoraConfig, get_peft_model
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig
    torch.manual_seed(0)
    tc = Gemma3TextConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=2, num_key_value_heads=1, head_dim=16, sliding_window=4)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    if a.multimodal:
        from transformers import Gemma3Config, Gemma3ForConditionalGeneration, SiglipVisionConfig
        vc = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                image_size=28, patch_size=14)
        m = Gemma3ForConditionalGeneration(Gemma3Config(text_config=tc, vision_config=vc, mm_tokens_per_image=4,
                                                        image_token_index=63, boi_token_index=61,
                                                        eoi_token_index=62))
        # The usual way to keep LoRA off the vision tower: a regex on the language-model path.
        cfg = LoraConfig(r=4, lora_alpha=8, target_modules=r".*language_model.*\.(" + "|".join(targets) + ")")
    else:
        m = Gemma3ForCausalLM(tc)
        cfg = LoraConfig(r=4, lora_alpha=8, target_modules=targets)
    pm = get_peft_model(m, cfg)
    pm.save_pretrained(a.out)
    names = sorted(load_file(f"{a.out}/adapter_model.safetensors"))
    print(json.dumps({"class": type(m).__name__, "tensors": len(names), "first": names[0]}))


def peft_adapter(a):
    """An adapter written by PEFT's save_pretrained on the model folder, B random (for the PEFT -> scitune way)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    torch.manual_seed(a.seed)
    m = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    targets = a.targets if a.targets.startswith(".*") else a.targets.split(",")
    pm = get_peft_model(m, LoraConfig(r=a.r, lora_alpha=a.alpha, target_modules=targets))
    with torch.no_grad():
        for n, t in pm.named_parameters():
            if "lora_B" in n:
                t.copy_(torch.randn_like(t) * 0.1)
    pm.save_pretrained(a.out)
    names = sorted(load_file(f"{a.out}/adapter_model.safetensors"))
    print(json.dumps({"class": type(m).__name__, "tensors": len(names),
                      "vision_tensors": sum("vision" in n for n in names), "first": names[0]}))


p = argparse.ArgumentParser()
sub = p.add_subparsers(dest="cmd", required=True)
s = sub.add_parser("make-ids")
s.add_argument("--out", required=True)
s.add_argument("--vocab", type=int, required=True)
s.add_argument("--seq", type=int, default=16)
s.add_argument("--lengths", default="16,11")
s.add_argument("--seed", type=int, default=0)
s = sub.add_parser("make-model")
s.add_argument("--out", required=True)
s.add_argument("--vocab", type=int, default=262144)
s.add_argument("--seed", type=int, default=0)
s = sub.add_parser("check")
for k in ("--model", "--adapter", "--ids", "--ours", "--out"):
    s.add_argument(k, required=True)
s.add_argument("--tol", type=float, default=1e-4)
s = sub.add_parser("peft-names")
s.add_argument("--out", required=True)
s.add_argument("--multimodal", action="store_true")
s = sub.add_parser("peft-adapter")
s.add_argument("--model", required=True)
s.add_argument("--out", required=True)
s.add_argument("--targets", required=True, help="comma-separated names, or a regex starting with .*")
s.add_argument("--r", type=int, default=4)
s.add_argument("--alpha", type=float, default=8)
s.add_argument("--seed", type=int, default=0)
a = p.parse_args()
{"make-ids": make_ids, "make-model": make_model, "check": check, "peft-names": peft_names, "peft-adapter": peft_adapter}[a.cmd](a)
