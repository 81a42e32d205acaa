#!/usr/bin/env bash
# PDF text extraction, one run, same files: `scitune papers parse` (poppler-cpp + reading order + cleaning, 1 job
# and all cores) vs `pdftotext` (host poppler-utils, one process per file) vs pypdf (the reference workflow's
# library, `PdfReader(f).pages[i].extract_text()`, in the oracle). Prints pages/s, MB/s, words and broken words
# (a word split in two, two words glued, a hyphenated line end left in, an unexpanded ligature), counted against
# /usr/share/dict/words (Debian: wamerican) for every tool's text the same way.
#   bench/parse_vs_pdftotext.sh [PDF_OR_DIR...]
# Default input: tests/golden/papers/*.pdf and the PDFs under /usr/share/doc, repeated until >= 200 pages.
#   BUILD=build-parse MIN_PAGES=200 bench/parse_vs_pdftotext.sh /tmp/texlive-publishers-doc/usr/share/doc
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
MIN_PAGES=${MIN_PAGES:-200}
W=$B/parsebench          # inside the repo: the oracle sees it as /work/$W
rm -rf "$W" && mkdir -p "$W/pdfs" "$W/pdftotext" "$W/pypdf"
command -v pdftotext >/dev/null || { echo "needs pdftotext (Debian: poppler-utils)" >&2; exit 1; }
[ -x "$B/scitune" ] || { echo "needs $B/scitune" >&2; exit 1; }

inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(tests/golden/papers /usr/share/doc)
mapfile -t found < <(for i in "${inputs[@]}"; do
  if [ -d "$i" ]; then find "$i" -type f -iname '*.pdf'; else echo "$i"; fi; done | sort -u)
# Keep the files that open and have text (pdftotext exits 0 and says something): speed over real text only.
good=(); pages=0
for f in "${found[@]}"; do
  n=$(pdfinfo "$f" 2>/dev/null | awk '/^Pages:/{print $2}') || true
  [ -n "${n:-}" ] && [ "$n" -gt 0 ] || continue
  [ "$(pdftotext -l 3 "$f" - 2>/dev/null | wc -w)" -gt 20 ] || continue
  good+=("$f"); pages=$((pages + n))
done
[ ${#good[@]} -gt 0 ] || { echo "no usable PDFs in ${inputs[*]}" >&2; exit 1; }
# Copies (hard links when possible) with unique names, the whole set repeated until MIN_PAGES.
total=0; rep=0; k=0
while [ $total -lt "$MIN_PAGES" ] || [ $rep -eq 0 ]; do
  for f in "${good[@]}"; do
    k=$((k + 1)); ln "$f" "$W/pdfs/$(printf %04d $k)_$(basename "$f")" 2>/dev/null || cp "$f" "$W/pdfs/$(printf %04d $k)_$(basename "$f")"
  done
  total=$((total + pages)); rep=$((rep + 1))
done
bytes=$(cat "$W"/pdfs/*.pdf | wc -c)
echo "input: ${#good[@]} distinct PDFs, $pages pages, repeated ${rep}x -> $k files, $total pages, $((bytes / 1024)) KiB"
cat "$W"/pdfs/*.pdf > /dev/null  # warm the page cache for everyone

now() { date +%s.%N; }
# scitune exits 1 when any file failed (an encrypted one, say); the timing stands either way.
ours() { "$B/scitune" -q papers parse "$W/pdfs" --force "$@" >/dev/null || true; }
t0=$(now); ours --out "$W/ours1.jsonl" --jobs 1; t1=$(now)
ours --out "$W/ours.jsonl"; t2=$(now)
for f in "$W"/pdfs/*.pdf; do pdftotext -enc UTF-8 "$f" "$W/pdftotext/$(basename "$f" .pdf).txt" 2>/dev/null || true; done
t3=$(now)
cat > "$W/pypdf_extract.py" <<'PY'
import logging, sys, os, time, pypdf
logging.getLogger("pypdf").setLevel(logging.ERROR)  # font warnings on every page would flood the output
src, dst = sys.argv[1], sys.argv[2]
t = time.perf_counter()
for name in sorted(os.listdir(src)):
    try:
        r = pypdf.PdfReader(os.path.join(src, name))
        text = "\n".join((p.extract_text() or "") for p in r.pages)
    except Exception as e:  # count the file, keep going
        text = ""
    open(os.path.join(dst, name[:-4] + ".txt"), "w", encoding="utf-8", errors="replace").write(text)
print(f"{time.perf_counter() - t:.3f} pypdf {pypdf.__version__}")
PY
pyout=$(../shared/oracle/run.sh python3 "/work/$W/pypdf_extract.py" "/work/$W/pdfs" "/work/$W/pypdf" 2>/dev/null)
echo "pypdf in the oracle: $pyout"

python3 - "$W" "$total" "$bytes" "$t0" "$t1" "$t2" "$t3" "${pyout%% *}" "$(nproc)" <<'PY'
import json, os, re, sys
W, pages, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2, t3, t_py, cores = map(float, sys.argv[4:10])
t_ours1, t_ours, t_ptt = t1 - t0, t2 - t1, t3 - t2
words_path = "/usr/share/dict/words"
D = set()
if os.path.exists(words_path):
    for w in open(words_path, encoding="utf-8", errors="ignore"):
        w = w.strip().lower()
        if w.endswith("'s"): w = w[:-2]
        if w.isalpha(): D.add(w)
LIG = re.compile("[\ufb00-\ufb06]")

def broken(text, others):
    """Broken words of one text: (split, glued, hyphen, ligature). A glued word is one that no other tool
    produced for the same file and that splits into two dictionary words."""
    split = glued = hyph = lig = 0
    # a hyphenated line end left in: "exam-\nple" / "exam- ple" whose joined form is a word and the parts are not
    for m in re.finditer(r"([^\W\d_]+)-[ \t]*\n\s*([a-z][^\W\d_]*)", text):
        a, b = m.group(1).lower(), m.group(2).lower()
        if a + b in D and not (a in D and b in D): hyph += 1
    toks = re.findall(r"[^\W\d_]+", text)
    low = [t.lower() for t in toks]
    for t in toks:
        if LIG.search(t): lig += 1
    for a, b in zip(low, low[1:]):
        if (a not in D or b not in D) and a + b in D and len(a + b) >= 4: split += 1
    for t in low:
        if t in D or t in others or len(t) < 8 or not t.isascii(): continue
        if any(t[:i] in D and t[i:] in D for i in range(3, len(t) - 2)): glued += 1
    return split, glued, hyph, lig, len(toks)

def tool_texts(name):
    if name.startswith("ours"):
        return [json.loads(l)["text"] for l in open(os.path.join(W, name + ".jsonl"), encoding="utf-8")]
    d = os.path.join(W, name)
    return [open(os.path.join(d, f), encoding="utf-8", errors="replace").read() for f in sorted(os.listdir(d))]

rows = [("scitune papers parse (1 job)", t_ours1, "ours1"), (f"scitune papers parse ({int(cores)} jobs)", t_ours, "ours"),
        ("pdftotext (poppler-utils)", t_ptt, "pdftotext"), ("pypdf (oracle)", t_py, "pypdf")]
texts = {key: tool_texts(key) for _, _, key in rows}
vocab = {key: [set(re.findall(r"[^\W\d_]+", t.lower())) for t in v] for key, v in texts.items()}
families = {"ours1": "ours", "ours": "ours", "pdftotext": "pdftotext", "pypdf": "pypdf"}
print()
print(f"| tool | seconds | pages/s | MB/s | words | broken words | per 1000 words | split / glued / hyphen / ligature |")
print(f"|---|---:|---:|---:|---:|---:|---:|---|")
stats = {}
for label, t, key in rows:
    s = [0] * 5
    for f, text in enumerate(texts[key]):
        others = set()
        for k2, fam in families.items():
            if fam != families[key] and f < len(vocab[k2]): others |= vocab[k2][f]
        for i, v in enumerate(broken(text, others)): s[i] += v
    b = sum(s[:4])
    stats[key] = (t, b, s[4])
    print(f"| {label} | {t:.2f} | {pages / t:.1f} | {nbytes / t / 1e6:.2f} | {s[4]} | {b} | {1000 * b / max(1, s[4]):.2f} | "
          f"{s[0]} / {s[1]} / {s[2]} / {s[3]} |")
print()
o1, py, pt = stats["ours1"], stats["pypdf"], stats["pdftotext"]
for key, label in (("ours1", "1 job"), ("ours", f"{int(cores)} jobs")):
    print(f"speed: ours ({label}) is {py[0] / stats[key][0]:.1f}x pypdf and {pt[0] / stats[key][0]:.2f}x pdftotext")
print(f"broken words: ours {o1[1]} vs pypdf {py[1]} vs pdftotext {pt[1]}")
PY
