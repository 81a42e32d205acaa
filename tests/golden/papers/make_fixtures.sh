#!/usr/bin/env bash
# Rebuilds the fixtures of tests/papers/parse_test.cc from Debian's texlive-publishers-doc (2022.20230122-4):
# copies a handful of its PDFs, encrypts two copies with qpdf and writes pdftotext's text of each as the
# reference the F1 test compares with. Needs apt-get (download only), qpdf and poppler-utils.
#   tests/golden/papers/make_fixtures.sh [DIR_WITH_EXTRACTED_DEB]
set -euo pipefail
cd "$(dirname "$0")"
src=${1:-}
if [ -z "$src" ]; then
  src=$(mktemp -d)
  (cd "$src" && apt-get download texlive-publishers-doc && dpkg-deb -x texlive-publishers-doc_*.deb .)
fi
doc="$src/usr/share/doc/texlive-doc/latex"
cp "$doc/revtex4-1/sample/aps/apssamp.pdf" revtex4-1_apssamp.pdf          # two columns, equations, hyphenation
cp "$doc/elsarticle/elstest-5p.pdf" elsarticle_elstest-5p.pdf             # two columns, equations, Greek
cp "$doc/llncs/llncsdoc.pdf" llncs_llncsdoc.pdf                           # ligatures (fi, ffi, ff)
cp "$doc/acmconf/acmconf.pdf" acmconf.pdf                                 # two columns, accents drawn apart (Jürgen, Tolušis)
cp "$doc/acmart/samples/sample-acmcp.pdf" acmart_sample-acmcp.pdf         # non-ASCII names (Thørväld, Béranger)
cp "$doc/aiaa/figure_magnet.pdf" aiaa_figure_magnet.pdf                   # an image, no text layer
# Encrypted copies: one needs a password to open; one only restricts use (opens without a password).
qpdf --encrypt scitune-user scitune-owner 256 -- elsarticle_elstest-5p.pdf elsarticle_elstest-5p_user-password.pdf
qpdf --encrypt "" scitune-owner 128 --use-aes=y --extract=n --print=none -- acmconf.pdf acmconf_owner-password.pdf
for f in revtex4-1_apssamp elsarticle_elstest-5p llncs_llncsdoc acmconf acmart_sample-acmcp; do
  pdftotext -enc UTF-8 "$f.pdf" "$f.pdftotext.txt"
done
pdftotext -v 2>&1 | head -1 > pdftotext_version.txt
