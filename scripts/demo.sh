#!/usr/bin/env bash
# The README's first command: provision (idempotent), then run the main job end to end on local defaults.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/demo.py
