#!/usr/bin/env python3
"""Makes the GGUF reader fixtures with llama.cpp's own tools (run in the oracle, from the repo root):

    ../shared/oracle/run.sh python3 tools/oracle/make_gguf_fixtures.py [--out tests/golden/gguf]

1. Copies the tiny random Gemma 3 model (/shared/golden/gemma3-tiny/model) and gives it a tokenizer: the model
   has none, and Gemma3Model.set_vocab in convert_hf_to_gguf reads a SentencePiece `tokenizer.model` (else it
   expects a GPT-2 style tokenizer.json). So we train a tiny BPE SentencePiece model (vocab 512 = the model's
   vocab_size, Gemma's special ids: pad 0, eos 1, bos 2, unk 3, byte fallback) on a deterministic corpus.
2. convert_hf_to_gguf.py --outtype f16 -> tiny_f16.gguf
3. llama-quantize -> tiny_q8_0.gguf and tiny_q4_k_m.gguf (rows of 64 values are not a multiple of the K-quant
   block of 256, so llama-quantize falls back to legacy types; types.txt records what came out).
4. gguf_dump.py (gguf-py's GGUFReader) -> <name>.json beside each file; the C++ tests compare against these.
Also dumps tests/golden/gguf/scitune_written.gguf (written by tests/io/gguf_test.cc with SCITUNE_REGEN=1) when
present, proving gguf-py reads what scitune writes.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gguf_dump  # noqa: E402

CONVERTER = "/usr/share/doc/llama.cpp-tools/scripts/convert_hf_to_gguf.py"
TINY_MODEL = Path("/shared/golden/gemma3-tiny/model")


def corpus(n_lines=4000, seed=0):
    """Pseudo-English lines from a fixed syllable inventory: enough distinct pairs for 250 BPE merges."""
    rng = random.Random(seed)
    onsets = ["", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "st", "tr", "ch"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ee"]
    codas = ["", "", "n", "r", "s", "t", "l", "ng", "ck"]
    words = sorted({"".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                            for _ in range(rng.randint(1, 3))) for _ in range(3000)})
    lines = []
    for _ in range(n_lines):
        ws = [rng.choice(words) for _ in range(rng.randint(4, 14))]
        ws[0] = ws[0].capitalize()
        lines.append(" ".join(ws) + rng.choice([".", "!", "?", ",", ";"]) + f" {rng.randint(0, 999)}")
    return lines


def train_tokenizer(dst: Path):
    import sentencepiece as spm
    with open(dst, "wb") as f:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus()), model_writer=f, model_type="bpe", vocab_size=512,
            byte_fallback=True, character_coverage=1.0, pad_id=0, eos_id=1, bos_id=2, unk_id=3,
            pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
            user_defined_symbols=["<start_of_turn>", "<end_of_turn>"], num_threads=1,
            split_digits=True, add_dummy_prefix=False, minloglevel=2)


def run(cmd):
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run(list(map(str, cmd)), check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/golden/gguf")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "gemma3-tiny"
        shutil.copytree(TINY_MODEL, model)
        os.chmod(model, 0o755)
        train_tokenizer(model / "tokenizer.model")
        f16 = out / "tiny_f16.gguf"
        run([sys.executable, CONVERTER, model, "--outtype", "f16", "--outfile", f16])
        made = [f16]
        for qtype, name in (("Q8_0", "tiny_q8_0.gguf"), ("Q4_K_M", "tiny_q4_k_m.gguf")):
            run(["llama-quantize", f16, out / name, qtype])
            made.append(out / name)
    written = out / "scitune_written.gguf"
    if written.exists():
        made.append(written)
    summary = []
    for path in made:
        d = gguf_dump.dump(str(path))
        path.with_suffix(".json").write_text(json.dumps(d, indent=1, ensure_ascii=False) + "\n")
        counts = {}
        for t in d["tensors"]:
            counts[t["type"]] = counts.get(t["type"], 0) + 1
        summary.append(f"{path.name}: {os.path.getsize(path)} bytes, {len(d['tensors'])} tensors, types {counts}")
    (out / "types.txt").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
