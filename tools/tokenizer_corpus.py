#!/usr/bin/env python3
"""Assembles the tokenizer test corpus: real text nobody here wrote (Debian docs, licences, man pages, source
code, translations from locale catalogues, iso-codes, glibc locale data) plus generated edge cases.

Writes JSON lines {"text": ..., "src": category}, deterministic for a given machine and seed:
    tools/tokenizer_corpus.py --out build/corpus.jsonl [--strings 60000] [--seed 1]
Edge cases come first (src "edge:*"). Only valid UTF-8 text is used (HF strings cannot hold anything else).
"""
import argparse
import glob
import gzip
import json
import os
import random
import re
import struct
import sys


def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read(2_000_000)
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8")
    except Exception:
        return None


def paragraphs(text):
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def mo_strings(path):
    """msgid/msgstr pairs of a GNU .mo catalogue (the translations are the multilingual part)."""
    try:
        data = open(path, "rb").read()
        magic = struct.unpack("<I", data[:4])[0]
        order = "<" if magic == 0x950412DE else ">"
        _, n, orig, trans = struct.unpack(order + "4I", data[4:20])
        out = []
        for i in range(min(n, 4000)):
            ln, off = struct.unpack(order + "2I", data[trans + 8 * i: trans + 8 * i + 8])
            s = data[off:off + ln].decode("utf-8")
            out.extend(x for x in s.split("\x00") if x.strip())
        return out
    except Exception:
        return []


def glibc_locale(path):
    """glibc locale sources spell text as <Uxxxx> escapes: decode the quoted strings."""
    text = read_text(path)
    if not text:
        return []
    out = []
    for q in re.findall(r'"((?:<U[0-9A-Fa-f]{4,8}>|[^"<])+)"', text):
        try:
            s = re.sub(r"<U([0-9A-Fa-f]{4,8})>", lambda m: chr(int(m.group(1), 16)), q)
        except ValueError:
            continue
        if s.strip() and not (0xD800 <= max(map(ord, s)) <= 0xDFFF):
            out.append(s)
    return out


def cut(rng, s):
    """A random piece of s: whole, a prefix, or a window (cutting words and graphemes in the middle)."""
    r = rng.random()
    if r < 0.5 or len(s) < 8:
        return s
    a = rng.randrange(len(s))
    b = min(len(s), a + rng.choice([1, 2, 5, 20, 80, 300, 2000]))
    return s[:b] if r < 0.75 else s[a:b]


def edge_cases(rng):
    specials = ["<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>", "<unused0>",
                "<unused6241>", "<image_soft_token>", "<start_of_image>", "<end_of_image>", "[multimodal]",
                "<table>", "</td>", "<h1>", "<0x41>", "<0xE3>", "<0xe3>", "▁", "▁▁▁", "<start_of_tu", "<<bos>>",
                "<bos", "bos>", "<unused99999>", "<|turn>", "<turn|>"]
    cases = [("empty", "")]
    for n in [1, 2, 3, 5, 8, 15, 16, 17, 30, 31, 32, 33, 62, 100]:
        for ch, name in [(" ", "spaces"), ("\t", "tabs"), ("\n", "newlines"), ("\r\n", "crlf"), ("\u3000", "ideo"),
                         ("\u00a0", "nbsp"), ("▁", "metaspace")]:
            cases.append((name, ch * n))
            cases.append((name, "a" + ch * n + "b"))
            cases.append((name, ch * n + "word"))
    for s in ["line one\r\nline two\r\n", "\r", "\r\r\n\n", "a\tb\t\tc", " \t \n \r\n x", "trailing   ",
              "x \n  \n   \n    y", "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"]:
        cases.append(("whitespace", s))
    emoji = ["👩‍👩‍👧‍👦", "👨🏽‍💻", "🏳️‍🌈", "❤️‍🔥", "🧑‍🤝‍🧑", "🇩🇪🇯🇵", "👍🏿", "1️⃣", "😀😃😄😁", "🫠🫡🫶"]
    for e in emoji:
        cases += [("emoji", e), ("emoji", "I love " + e + " so much"), ("emoji", e * 5)]
    for s in ["e\u0301", "Å", "A\u030a", "ñ", "n\u0303", "Z\u0351\u0300\u0317a\u0352\u033el\u0316g\u0353o\u0334",
              "क्षि", "ค่ำ", "\u0915\u094d\u200d", "ﷺ", "ﾊﾝｶｸ", "Ａｂｃ１２３", "ﬁ ﬂ", "Ω ℃ ㎞", "a\u200bb\u200cc\u200dd",
              "\ufeffBOM", "\u202eRTL override", "مرحبا بالعالم", "שלום עולם", "日本語のテキスト", "한국어 텍스트"]:
        cases += [("combining", s), ("combining", " " + s + " ")]
    for cp in list(range(0, 32)) + [0x7F] + list(range(0x80, 0xA0, 3)) + [0x2028, 0x2029, 0x85]:
        cases.append(("control", "x" + chr(cp) + "y"))
        cases.append(("control", chr(cp)))
    for cp in [0xE000, 0xE123, 0xF8FF, 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD, 0x10FFFF, 0xFFFE, 0xFFFF, 0xFDD0,
               0x1F600, 0x20000, 0x2A6D6, 0x1D400, 0x1D11E, 0x10348, 0x1F0A1, 0xE0041, 0x13000, 0x31350]:
        cases += [("astral", chr(cp)), ("astral", "a" + chr(cp) + "b " + chr(cp) * 3)]
    for s in specials:
        cases += [("special", s), ("special", "x" + s + "y"), ("special", " " + s + " "), ("special", s + s),
                  ("special", "text " + s + "\n" + s + " more")]
    cases.append(("special", "".join(specials)))
    cases.append(("special", "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi<end_of_turn>\n"))
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in [100, 1000, 5000, 20000]:
        cases.append(("long", "a" * n))
        cases.append(("long", "".join(rng.choice(letters) for _ in range(n))))
        cases.append(("long", "".join(rng.choice(letters + "0123456789+/=") for _ in range(n))))
        cases.append(("long", "ab" * (n // 2)))
        cases.append(("long", "日本" * (n // 2)))
        cases.append(("long", "😀" * (n // 10)))
    cases.append(("long", "https://example.org/" + "/".join("seg%d" % i for i in range(500))))
    cases.append(("long", " ".join(["word"] * 3000)))
    alphabet = [chr(c) for c in list(range(0x20, 0x7F)) + list(range(0xA0, 0x250)) + list(range(0x370, 0x3FF)) +
                list(range(0x400, 0x4FF)) + list(range(0x4E00, 0x4E80)) + list(range(0x3040, 0x30FF)) +
                [0x2581, 0x1F600, 0x1F680, 0x10437, 0x20BB7, 0x0301, 0x200D, 0xFE0F, 9, 10, 13]]
    for _ in range(400):
        cases.append(("random", "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 120)))))
    return cases


def real_text(rng):
    """Yields (category, document) pairs from the machine's own files."""
    groups = {
        "licence": sorted(glob.glob("/usr/share/common-licenses/*")),
        "copyright": sorted(glob.glob("/usr/share/doc/*/copyright")),
        "changelog": sorted(glob.glob("/usr/share/doc/*/changelog*.gz")),
        "readme": sorted(glob.glob("/usr/share/doc/*/README*")),
        "man": sorted(glob.glob("/usr/share/man/**/*.gz", recursive=True)),
        "c-header": sorted(glob.glob("/usr/include/**/*.h", recursive=True)),
        "python": sorted(glob.glob("/usr/lib/python3/**/*.py", recursive=True)),
    }
    for name, files in groups.items():
        rng.shuffle(files)
        for path in files[:1500]:
            text = read_text(path)
            if text:
                yield name, text
    mos = sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/*.mo"))
    rng.shuffle(mos)
    for path in mos[:1500]:
        strings = mo_strings(path)
        if strings:
            yield "translation", "\n\n".join(strings)
    for path in sorted(glob.glob("/usr/share/iso-codes/json/*.json")):
        try:
            data = json.load(open(path, encoding="utf-8"))
        except Exception:
            continue
        names = [v for entries in data.values() if isinstance(entries, list) for e in entries
                 if isinstance(e, dict) for v in e.values() if isinstance(v, str)]
        yield "iso-codes", "\n\n".join(names)
    locs = sorted(glob.glob("/usr/share/i18n/locales/*"))
    rng.shuffle(locs)
    for path in locs[:400]:
        strings = glibc_locale(path)
        if strings:
            yield "glibc-locale", "\n\n".join(strings)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--strings", type=int, default=66000, help="number of real-text strings")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    edges = edge_cases(rng)
    pool = {}
    for cat, doc in real_text(rng):
        pool.setdefault(cat, []).append(doc)
    # Even shares per category, so small multilingual sources are not drowned by source code.
    per_cat = args.strings // max(1, len(pool)) + 1
    real = []
    for cat in sorted(pool):
        pieces = [p for doc in pool[cat] for p in paragraphs(doc)]
        rng.shuffle(pieces)
        taken = 0
        while taken < per_cat and pieces:
            p = pieces.pop()
            # Sometimes several paragraphs together, so that strings have realistic document lengths.
            if rng.random() < 0.15:
                for _ in range(rng.randrange(1, 12)):
                    if pieces:
                        p += "\n\n" + pieces.pop()
            real.append((cat, cut(rng, p)))
            taken += 1
    real = real[: args.strings]
    with open(args.out, "w", encoding="utf-8") as f:
        for cat, text in [("edge:" + c, t) for c, t in edges] + real:
            f.write(json.dumps({"text": text, "src": cat}, ensure_ascii=False) + "\n")
    total = sum(len(t.encode()) for _, t in real)
    print(f"{args.out}: {len(edges)} edge cases + {len(real)} real strings ({total / 1e6:.1f} MB) "
          f"from {', '.join(f'{c} {min(per_cat, sum(len(paragraphs(d)) for d in pool[c]))}' for c in sorted(pool))}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
