#!/usr/bin/env bash
# Quick start: set everything up (first run only) and open Fashion Lens. Arguments go to the app.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/python -m fashion_desktop "$@"
