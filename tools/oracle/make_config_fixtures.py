#!/usr/bin/env python3
"""config.json fixtures for tests/model/config_test.cc (run in the oracle from the repo root).

The *-hub.json files are spelled as the Hub's google/gemma-3-{270m,1b-it,4b-it} config.json (transformers 4.5x:
rope_theta, rope_local_base_freq, rope_scaling, sliding_window_pattern, torch_dtype; the 4B wrapper's text_config
lists only what differs from Gemma3TextConfig's defaults). Each *-v5.json is what transformers 5 writes after
loading the matching hub file (save_pretrained), so the two spellings of one model come from the reference.
"""
import json, os, sys, tempfile
from transformers import AutoConfig

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/configs"
os.makedirs(OUT, exist_ok=True)

def layer_types(n, pattern):
    return ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention" for i in range(n)]

common = {"attention_bias": False, "attention_dropout": 0.0, "attn_logit_softcapping": None, "bos_token_id": 2,
          "final_logit_softcapping": None, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
          "initializer_range": 0.02, "model_type": "gemma3_text", "pad_token_id": 0, "query_pre_attn_scalar": 256,
          "rms_norm_eps": 1e-06, "torch_dtype": "bfloat16", "use_cache": True, "architectures": ["Gemma3ForCausalLM"]}
hub = {
    "gemma3-270m": dict(common, _sliding_window_pattern=6, eos_token_id=1, hidden_size=640, intermediate_size=2048,
                        layer_types=layer_types(18, 6), max_position_embeddings=32768, num_attention_heads=4,
                        num_hidden_layers=18, num_key_value_heads=1, rope_local_base_freq=10000.0, rope_scaling=None,
                        rope_theta=1000000.0, sliding_window=512, transformers_version="4.55.0.dev0",
                        use_bidirectional_attention=False, vocab_size=262144),
    "gemma3-1b": dict(common, cache_implementation="hybrid", eos_token_id=[1, 106], hidden_size=1152,
                      intermediate_size=6912, max_position_embeddings=32768, num_attention_heads=4,
                      num_hidden_layers=26, num_key_value_heads=1, rope_local_base_freq=10000, rope_scaling=None,
                      rope_theta=1000000, sliding_window=512, sliding_window_pattern=6,
                      transformers_version="4.50.0.dev0", vocab_size=262144),
    "gemma3-4b": {"architectures": ["Gemma3ForConditionalGeneration"], "boi_token_index": 255999,
                  "eoi_token_index": 256000, "eos_token_id": [1, 106], "image_token_index": 262144,
                  "initializer_range": 0.02, "mm_tokens_per_image": 256, "model_type": "gemma3",
                  "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                                  "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                                  "sliding_window": 1024},
                  "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
                  "vision_config": {"hidden_size": 1152, "image_size": 896, "intermediate_size": 4304,
                                    "model_type": "siglip_vision_model", "num_attention_heads": 16,
                                    "num_hidden_layers": 27, "patch_size": 14, "vision_use_head": False}},
}
# The shared golden tiny model (transformers-5 spelling) and its Hub spelling.
tiny_v5 = json.load(open("/shared/golden/gemma3-tiny/model/config.json"))
tiny_hub = {k: v for k, v in tiny_v5.items() if k not in ("rope_parameters", "layer_types", "_sliding_window_pattern", "dtype")}
tiny_hub.update(rope_theta=1000000.0, rope_local_base_freq=10000.0, rope_scaling={"rope_type": "linear", "factor": 8.0},
                sliding_window_pattern=2, torch_dtype="float32")
hub["tiny"] = tiny_hub
# The tiny model inside the multimodal wrapper, text_config in the Hub spelling, ids and dtype at the top.
hub["tiny-wrapper"] = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
                       "eos_token_id": 1, "pad_token_id": 0, "bos_token_id": 2, "torch_dtype": "float32",
                       "image_token_index": 511, "boi_token_index": 509, "eoi_token_index": 510, "mm_tokens_per_image": 4,
                       "text_config": {k: v for k, v in tiny_hub.items() if k not in ("architectures", "torch_dtype")},
                       "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                                         "num_attention_heads": 2, "image_size": 28, "patch_size": 14,
                                         "model_type": "siglip_vision_model"}}

def dump(obj, name):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")

for name, cfg in hub.items():
    dump(cfg, f"{name}-hub.json")
    with tempfile.TemporaryDirectory() as d:
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
        c = AutoConfig.from_pretrained(d)
        with tempfile.TemporaryDirectory() as d2:
            c.save_pretrained(d2)
            dump(json.load(open(os.path.join(d2, "config.json"))), f"{name}-v5.json")
print("wrote", sorted(os.listdir(OUT)))
