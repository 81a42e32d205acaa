#!/usr/bin/env python3
"""llama.cpp's greedy chat replies with token ids and top log-probabilities, through llama-server (run in the
oracle from the repo root):

  llama_chat_greedy.py --model M.gguf --prompts FILE --out OUT.txt [--n 64] [--top 5]

Each prompt (one per line) is wrapped in the Gemma 3 template
"<start_of_turn>user\\n{prompt}<end_of_turn>\\n<start_of_turn>model\\n" (BOS added by the server) and continued
greedily for --n tokens (stopping at end of turn, as llama-simple and scitune generate do). OUT, one block
per prompt, whitespace-separated, for bench/logits_vs_llama_bench --chat:
  P <n_prompt_ids> <n_reply_ids>
  <prompt ids>
  <reply ids>
  <n_reply lines: id:logprob for the --top most likely tokens before each reply token (softmax of the logits)>
and OUT.jsonl with the same plus the texts.
"""
import argparse
import json
import os
import subprocess
import time
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--prompts", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--n", type=int, default=64)
ap.add_argument("--top", type=int, default=5)
ap.add_argument("--port", type=int, default=18088)
a = ap.parse_args()

url = f"http://127.0.0.1:{a.port}"


def post(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


server = subprocess.Popen(["llama-server", "-m", a.model, "-t", "2", "-c", "1024", "-np", "1", "--port", str(a.port),
                           "--host", "127.0.0.1", "--no-webui"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(600):
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if json.loads(r.read()).get("status") == "ok":
                    break
        except Exception:
            time.sleep(0.5)
    else:
        raise SystemExit("llama-server did not come up")
    prompts = [l.rstrip("\n") for l in open(a.prompts, encoding="utf-8") if l.strip()]
    with open(a.out, "w") as out, open(os.path.splitext(a.out)[0] + ".jsonl", "w", encoding="utf-8") as js:
        for p in prompts:
            templ = f"<start_of_turn>user\n{p}<end_of_turn>\n<start_of_turn>model\n"
            ids = post("/tokenize", {"content": templ, "add_special": True, "parse_special": True})["tokens"]
            r = post("/completion", {"prompt": ids, "n_predict": a.n, "temperature": 0, "top_k": 1,
                                     "n_probs": a.top, "return_tokens": True, "cache_prompt": False,
                                     "post_sampling_probs": False, "repeat_penalty": 1.0})
            steps = r["completion_probabilities"]
            reply = [s["id"] for s in steps]
            out.write(f"P {len(ids)} {len(reply)}\n{' '.join(map(str, ids))}\n{' '.join(map(str, reply))}\n")
            for s in steps:
                out.write(" ".join(f"{t['id']}:{t['logprob']:.6f}" for t in s["top_logprobs"]) + "\n")
            js.write(json.dumps({"prompt": p, "prompt_ids": ids, "reply_ids": reply, "text": r["content"],
                                 "stop": r.get("stop_type"),
                                 "top": [[(t["id"], t["logprob"]) for t in s["top_logprobs"]] for s in steps]},
                                ensure_ascii=False) + "\n")
    print(f"{a.out}: {len(prompts)} replies")
finally:
    server.terminate()
    server.wait()
