#!/usr/bin/env bash
# Create .venv (once) and install rolecall into it with the given extra (sandbox, test).
#   bash scripts/bootstrap.sh sandbox|test
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-sandbox}"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "rolecall needs Python 3.10 or newer" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    python3 -m venv .venv
fi
stamp=".venv/.rolecall-$extra-$(cat pyproject.toml | cksum | cut -d' ' -f1)"
if [ ! -e "$stamp" ]; then
    echo "== installing rolecall[$extra] into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[$extra]"
    touch "$stamp"
fi
