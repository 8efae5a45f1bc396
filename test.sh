#!/usr/bin/env bash
# Quick start: set everything up (first run only) and run the whole test suite offscreen.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m pytest "$@"
