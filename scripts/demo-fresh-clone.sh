#!/usr/bin/env bash
# The README's first command, as a newcomer runs it: in a fresh clone of this repository's HEAD.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q . "$work/rolecall"
cd "$work/rolecall"
bash scripts/demo.sh > "$work/demo.log" 2>&1 || { cat "$work/demo.log"; echo "demo from a fresh clone FAILED" >&2; exit 1; }
tail -n 3 "$work/demo.log"
grep -q "^Done\." "$work/demo.log"
echo "demo from a fresh clone: OK"
