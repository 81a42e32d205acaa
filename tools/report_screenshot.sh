#!/usr/bin/env bash
# Renders a `scitune report` page to PNG with headless Chromium, to look at charts and tables the way a person
# will (Debian: apt-get install chromium).
#   tools/report_screenshot.sh REPORT.html OUT.png [WIDTH [HEIGHT]]     default 1280 x 2400
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2
  exit 2
fi
html=$(realpath "$1")
out=$(realpath -m "$2")
width=${3:-1280}
height=${4:-2400}
[ -f "$html" ] || { echo "$html: no such file" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "no chromium found (Debian: apt-get install chromium)" >&2; exit 1; }
# A throw-away profile keeps the run independent of any user profile; its noise on stderr is dropped.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --screenshot="$out" --window-size="$width,$height" "file://$html" 2>/dev/null
[ -s "$out" ] || { echo "chromium wrote no screenshot to $out" >&2; exit 1; }
echo "$out"
