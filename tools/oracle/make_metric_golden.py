#!/usr/bin/env python3
"""Golden data for src/eval (tests/golden/eval/): SQuAD v1.1 EM / token F1, rouge-score ROUGE-L (with and
without its Porter stemmer), NLTK Porter stems and the Python str facts the C++ side re-implements.

Runs in the oracle:  /work/shared/oracle/run.sh python3 tools/oracle/make_metric_golden.py --out tests/golden/eval

The oracle needs, once (rouge-score is sdist-only on PyPI and the chroot's pip cannot reach PyPI):
  chroot $ROOT apt-get install -y python3-nltk python3-absl python3-six        # Debian sid: nltk 3.10.3
  pip download --no-deps --no-binary=:all: rouge-score && pip wheel --no-deps rouge_score-0.1.2.tar.gz
  cp rouge_score-0.1.2-py3-none-any.whl $ROOT/tmp/wheels/ &&
  chroot $ROOT python3 -m pip install --no-index --no-deps --break-system-packages /tmp/wheels/rouge_score-*.whl
(ROOT=$HOME/.cache/scitune-oracle/root.)

Text nobody here wrote: sentences from the oracle's Debian documentation (/usr/share/doc/*/copyright and
README files), each paired with a perturbed copy (deleted, swapped, substituted, inflected words; case,
punctuation, article and whitespace changes; non-ASCII letters whose lower case is special; identical,
empty and unrelated texts), so every branch of the metrics is hit. Expected values:
  em, f1     the official SQuAD v1.1 evaluate-v1.1.py definitions, written out below (Python 3 str semantics)
  rl, rls    rouge_score.rouge_scorer.RougeScorer(['rougeL'], use_stemmer=False / True).score(ref, pred)
Outputs: pairs.jsonl, multi_ref.jsonl, stems.tsv (word, NLTK_EXTENSIONS stem, ORIGINAL_ALGORITHM stem) and
unicode.json (str.lower, str.isspace and re's \\w over every code point).
"""
import argparse
import collections
import glob
import gzip
import json
import os
import random
import re
import string
import sys
import unicodedata

from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize

SEED = 20240611
N_PAIRS = 1500
N_MULTI = 120
MAX_STEM_WORDS = 12000

# ---------------------------------------------------------------- SQuAD v1.1 (evaluate-v1.1.py definitions)


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    return max(metric_fn(prediction, gt) for gt in ground_truths)


# ---------------------------------------------------------------- corpus


def read_text(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


SENT_SPLIT = re.compile(r"(?<=[.!?;:])\s+(?=[A-Z(\"'])")


def sentences(doc_root):
    paths = sorted(glob.glob(os.path.join(doc_root, "*/copyright")))
    paths += sorted(glob.glob(os.path.join(doc_root, "*/README*")))
    seen = set()
    out = []
    for p in paths:
        pkg = os.path.relpath(p, doc_root)
        for para in re.split(r"\n\s*\n", read_text(p)):
            text = " ".join(para.split())
            for s in SENT_SPLIT.split(text):
                s = s.strip()
                if not 25 <= len(s) <= 220 or len(s.split()) < 4 or s in seen:
                    continue
                if sum(c.isalpha() for c in s) < 0.6 * len(s) or "\ufffd" in s:
                    continue
                seen.add(s)
                out.append((pkg, s))
    return out


# ---------------------------------------------------------------- perturbations (each takes and returns text)

SUFFIXES = ["s", "es", "ed", "ing", "ly", "ness", "ies", "ied", "ation", "ful", "ment", "er", "ally"]
SPECIAL_WORDS = ["İstanbul", "İZMİR", "20\u212a", "\u212aelvin", "ΟΔΟΣ", "Σίσυφος", "ΣΑΣ", "STRAẞE", "Straße",
                 "ＡＢＣ", "ﬁle", "Ǆungla", "Ⅻ", "٣٤", "ÉCOLE", "Ørsted", "naïve", "Ŧhe", "x²", "½"]
SPACES = [" ", "  ", "\t", "\n", "\u00a0", "\u3000", "\u2003", "\u0085", "\u200b", "\x1f"]


def words_of(text):
    return text.split(" ")


def op_delete(r, text, vocab):
    w = words_of(text)
    for _ in range(r.randint(1, 3)):
        if len(w) > 1:
            del w[r.randrange(len(w))]
    return " ".join(w)


def op_swap(r, text, vocab):
    w = words_of(text)
    if len(w) > 1:
        i = r.randrange(len(w) - 1)
        w[i], w[i + 1] = w[i + 1], w[i]
    return " ".join(w)


def op_shuffle(r, text, vocab):
    w = words_of(text)
    i = r.randrange(len(w))
    window = w[i:i + r.randint(2, 6)]
    r.shuffle(window)
    return " ".join(w[:i] + window + w[i + len(window):])


def op_substitute(r, text, vocab):
    w = words_of(text)
    for _ in range(r.randint(1, 3)):
        w[r.randrange(len(w))] = r.choice(vocab)
    return " ".join(w)


def op_inflect(r, text, vocab):
    w = words_of(text)
    for _ in range(r.randint(1, 4)):
        i = r.randrange(len(w))
        word = w[i]
        if r.random() < 0.5 and len(word) > 4:
            for suf in ("ing", "ed", "es", "s", "ly"):
                if word.endswith(suf):
                    word = word[: -len(suf)]
                    break
        else:
            word = word.rstrip(".,;:") + r.choice(SUFFIXES)
        w[i] = word
    return " ".join(w)


def op_case(r, text, vocab):
    k = r.randrange(4)
    if k == 0:
        return text.upper()
    if k == 1:
        return text.lower()
    if k == 2:
        return text.title()
    w = words_of(text)
    i = r.randrange(len(w))
    w[i] = w[i].swapcase()
    return " ".join(w)


def op_punct(r, text, vocab):
    k = r.randrange(4)
    if k == 0:
        return "".join(c for c in text if c not in string.punctuation)
    if k == 1:
        w = words_of(text)
        i = r.randrange(len(w))
        w[i] = r.choice(string.punctuation) + w[i] + r.choice(string.punctuation)
        return " ".join(w)
    if k == 2:
        return text.replace(" ", r.choice(["-", "_", "/", ".", ","]), r.randint(1, 4))
    return text + r.choice(["!", "?!", "...", " ;", "\u2026", " \u2014 ok"])


def op_articles(r, text, vocab):
    k = r.randrange(3)
    if k == 0:
        return re.sub(r"\b(a|an|the|A|An|The)\b ?", "", text)
    w = words_of(text)
    i = r.randrange(len(w) + 1)
    art = r.choice(["the", "a", "an", "The", "THE", "An", "the_", "a.", "an's", "théâtre", "thé"])
    return " ".join(w[:i] + [art] + w[i:])


def op_whitespace(r, text, vocab):
    w = words_of(text)
    return r.choice(SPACES + [""]) + "".join(x + r.choice(SPACES) for x in w[:-1]) + w[-1] + r.choice(SPACES)


def op_truncate(r, text, vocab):
    w = words_of(text)
    n = r.randint(1, max(1, len(w) - 1))
    return " ".join(w[:n] if r.random() < 0.5 else w[-n:])


def op_duplicate(r, text, vocab):
    w = words_of(text)
    i = r.randrange(len(w))
    return " ".join(w[:i + 1] + [w[i]] * r.randint(1, 3) + w[i + 1:])


def op_unicode(r, text, vocab):
    w = words_of(text)
    for _ in range(r.randint(1, 2)):
        w.insert(r.randrange(len(w) + 1), r.choice(SPECIAL_WORDS))
    if r.random() < 0.3:
        i = r.randrange(len(w))
        w[i] = w[i].replace("i", "İ").replace("k", "\u212a")
    return " ".join(w)


OPS = [op_delete, op_swap, op_shuffle, op_substitute, op_inflect, op_case, op_punct, op_articles,
       op_whitespace, op_truncate, op_duplicate, op_unicode]
DEGENERATE = ["", " ", "\t\n", "...", "!?", "the", "a an the", "The.", "\u00a0", "–", "ＡＢＣ", "İ", "a-an"]


def make_pair(r, ref, vocab, unrelated):
    u = r.random()
    if u < 0.05:
        return ref, ref
    if u < 0.09:
        return r.choice(DEGENERATE), ref
    if u < 0.12:
        return ref, r.choice(DEGENERATE)
    if u < 0.13:
        return r.choice(DEGENERATE), r.choice(DEGENERATE)
    if u < 0.16:
        return unrelated, ref
    pred = ref
    for _ in range(r.choice([1, 1, 2, 2, 3])):
        pred = r.choice(OPS)(r, pred, vocab) or pred
    return (pred, ref) if r.random() < 0.8 else (ref, pred)


# ---------------------------------------------------------------- outputs


def rouge_triples(scorers, ref, pred):
    out = {}
    for key, sc in scorers.items():
        s = sc.score(ref, pred)["rougeL"]
        out[key] = [float(s.precision), float(s.recall), float(s.fmeasure)]
    return out


def ranges(pred):
    out, start = [], None
    for cp in range(0x110000 + 1):
        inside = cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF and pred(chr(cp))
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            out.append([start, cp - 1])
            start = None
    return out


def unicode_facts():
    lower = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        lo = chr(cp).lower()
        if lo != chr(cp):
            lower.append([cp] + [ord(c) for c in lo])
    word_re = re.compile(r"\w")
    return {
        "unicode_version": unicodedata.unidata_version,
        "python": sys.version.split()[0],
        "lower": lower,
        "isspace": ranges(str.isspace),
        "word": ranges(lambda c: word_re.match(c) is not None),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--doc-root", default="/usr/share/doc")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    r = random.Random(SEED)

    corpus = sentences(args.doc_root)
    if len(corpus) < N_PAIRS + N_MULTI:
        sys.exit(f"only {len(corpus)} sentences under {args.doc_root}; need {N_PAIRS + N_MULTI}")
    picked = r.sample(corpus, N_PAIRS + N_MULTI)
    vocab = sorted({w for _, s in picked for w in s.split()})
    scorers = {"rl": rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False),
               "rls": rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)}

    texts = []
    with open(os.path.join(args.out, "pairs.jsonl"), "w", encoding="utf-8") as f:
        for pkg, ref in picked[:N_PAIRS]:
            pred, ref2 = make_pair(r, ref, vocab, r.choice(corpus)[1])
            texts += [pred, ref2]
            row = {"src": pkg, "pred": pred, "ref": ref2, "em": float(exact_match_score(pred, ref2)),
                   "f1": float(f1_score(pred, ref2))}
            row.update(rouge_triples(scorers, ref2, pred))
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    with open(os.path.join(args.out, "multi_ref.jsonl"), "w", encoding="utf-8") as f:
        for pkg, ref in picked[N_PAIRS:]:
            refs = [ref] + [make_pair(r, ref, vocab, r.choice(corpus)[1])[0] for _ in range(r.randint(1, 3))]
            r.shuffle(refs)
            pred = make_pair(r, ref, vocab, r.choice(corpus)[1])[0]
            texts += [pred] + refs
            row = {"src": pkg, "pred": pred, "refs": refs,
                   "em": float(metric_max_over_ground_truths(exact_match_score, pred, refs)),
                   "f1": float(metric_max_over_ground_truths(f1_score, pred, refs))}
            for key, sc in scorers.items():
                s = sc.score_multi(refs, pred)["rougeL"]
                row[key] = [float(s.precision), float(s.recall), float(s.fmeasure)]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    # Stems: every token rouge stems in the pairs, then words from all the documentation (those where the
    # NLTK and original algorithms disagree first), up to MAX_STEM_WORDS.
    nltk_stem = porter.PorterStemmer()
    orig_stem = porter.PorterStemmer(mode=porter.PorterStemmer.ORIGINAL_ALGORITHM)
    used = {t for x in texts for t in tokenize.tokenize(x, None) if len(t) > 3}
    more = set()
    for p in sorted(glob.glob(os.path.join(args.doc_root, "*/*"))):
        if os.path.isfile(p):
            more.update(t for t in tokenize.tokenize(read_text(p), None) if len(t) > 3)
    more = sorted(more - used)
    differ = [w for w in more if nltk_stem.stem(w) != orig_stem.stem(w)]
    rest = sorted(set(more) - set(differ))
    budget = max(0, MAX_STEM_WORDS - len(used) - len(differ))
    words = sorted(used) + differ + sorted(r.sample(rest, min(budget, len(rest))))
    with open(os.path.join(args.out, "stems.tsv"), "w", encoding="utf-8") as f:
        for w in words:
            f.write(f"{w}\t{nltk_stem.stem(w)}\t{orig_stem.stem(w)}\n")

    with open(os.path.join(args.out, "unicode.json"), "w", encoding="utf-8") as f:
        json.dump(unicode_facts(), f, separators=(",", ":"))
    print(f"{N_PAIRS} pairs, {N_MULTI} multi-reference cases, {len(words)} stems "
          f"({len(used)} from the pairs, {len(differ)} where NLTK and original differ) from {len(corpus)} sentences")


if __name__ == "__main__":
    main()
