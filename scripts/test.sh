#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs, then runs lint, types and tests.
#   bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Real shells for the shell-integration tests, tmux for terminal prompts, and headless Chromium (with its
# driver) for the browser steps of the IAM Identity Center logins and the console, and a real Secret Service
# (gnome-keyring in a private D-Bus session) for the keychain tests, strace to count the processes shell hooks
# start, Xvfb for a browser window that needs a display (Debian/Ubuntu). tool:package pairs.
need=()
for pair in zsh:zsh fish:fish tmux:tmux chromium:chromium chromedriver:chromium-driver \
        gnome-keyring-daemon:gnome-keyring dbus-daemon:dbus strace:strace Xvfb:xvfb xwininfo:x11-utils; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "== installing ${need[*]} (apt-get)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "== warning: ${need[*]} missing and cannot be installed here; those tests will be skipped" >&2
    fi
fi

bash scripts/bootstrap.sh test
PY=.venv/bin/python

echo "== ruff"
"$PY" -m ruff check src tests benchmarks
echo "== mypy --strict src"
"$PY" -m mypy --strict src
echo "== pytest"
"$PY" -m pytest "$@"
