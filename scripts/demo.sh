#!/usr/bin/env bash
# The whole rolecall workflow against a local, strict STS sandbox: no AWS account needed.
#   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh sandbox
exec .venv/bin/rolecall demo "$@"
