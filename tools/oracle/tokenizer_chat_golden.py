#!/usr/bin/env python3
"""Golden chat-template data: transformers' apply_chat_template with the real Gemma 3 tokenizer_config chat
template (text and ids), plus the Unsloth train_on_responses_only mask. Run in the oracle from the repo root:
    run.sh python3 tools/oracle/tokenizer_chat_golden.py --out tests/golden/tokenizer/chat_gemma3.jsonl
The mask is computed by a transcription of unsloth_zoo's _train_on_responses_only loop (force_match, no
optional tokens; Unsloth itself is not installed in the oracle).
"""
import argparse
import json

TOKENIZER_DIR = "/shared/tokenizers/gemma3"


def unsloth_mask(ids, response, instruction):
    n = len(ids)
    labels = [0] * n
    j = 0
    while j < n:
        if ids[j:j + len(response)] == response:
            assistant_k = j + len(response)
            j = assistant_k
            while j < n:
                if j == n - 1 or ids[j:j + len(instruction)] == instruction:
                    user_j = j
                    if user_j != n - 1:
                        j = j + len(instruction)
                    else:
                        user_j = n
                    for t in range(assistant_k, user_j):
                        labels[t] = 1
                    break
                j += 1
        j += 1
    return labels


def conversations():
    u = lambda c: {"role": "user", "content": c}
    a = lambda c: {"role": "assistant", "content": c}
    s = lambda c: {"role": "system", "content": c}
    convs = [
        [u("Hello!")],
        [u("What is 2+2?"), a("4")],
        [u("  padded question \n"), a("\n  padded answer  \t")],
        [s("You are a helpful assistant."), u("Hi"), a("Hello! How can I help?")],
        [s("  system with spaces  "), u(" q "), a(" r ")],
        [s("\nleading newline system"), u("q"), a("r")],
        [u("First"), a("One"), u("Second"), a("Two"), u("Third"), a("Three")],
        [s("sys"), u("a"), a("b"), u("c")],
        [u("multi\nline\n\ncontent"), a("answer with\n\nparagraphs\n")],
        [u("unicode spaces\u3000\u00a0"), a("\u2003answer\u2009")],
        [u("Literal <start_of_turn>user\n inside"), a("and <end_of_turn> inside the answer")],
        [u("emoji 👩‍👩‍👧 and 日本語"), a("réponse é")],
        [u(""), a("")],
        [u("x"), a("y"), u("")],
        [{"role": "user", "content": [{"type": "text", "text": " part one "}, {"type": "image"},
                                      {"type": "text", "text": "part two"}]}, a("seen")],
        [{"role": "system", "content": [{"type": "text", "text": "sys part"}]}, u("q")],
        [u("q"), {"role": "model", "content": "answer with role model"}],
        [u("A long " + "word " * 200), a("short")],
        # Invalid role orders: the template raises.
        [a("assistant first")],
        [u("a"), u("b")],
        [s("sys"), a("no user")],
        [u("a"), a("b"), a("c")],
    ]
    return convs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    response = tok("<start_of_turn>model\n", add_special_tokens=False)["input_ids"]
    instruction = tok("<start_of_turn>user\n", add_special_tokens=False)["input_ids"]
    rows = []
    for conv in conversations():
        for gen in (False, True):
            row = {"messages": conv, "add_generation_prompt": gen}
            try:
                text = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=gen)
                enc = tok.apply_chat_template(conv, tokenize=True, add_generation_prompt=gen)
                ids = enc["input_ids"] if isinstance(enc, dict) or hasattr(enc, "keys") else enc
                if ids != tok(text, add_special_tokens=False)["input_ids"]:
                    raise SystemExit("apply_chat_template ids differ from encoding its text")
                row.update(text=text, ids=ids, mask=unsloth_mask(ids, response, instruction))
            except Exception as e:  # the template's raise_exception
                if "alternate" not in str(e):
                    raise
                row["error"] = str(e)
            rows.append(row)
    with open(args.out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} Gemma 3 cases")


if __name__ == "__main__":
    main()
