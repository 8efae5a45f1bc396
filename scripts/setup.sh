#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for Fashion Lens: system packages, a virtual environment
# in .venv and the project installed into it (editable, with the dev extra). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  dataset-fashion-mnist                       # the training/evaluation data, /usr/share/datasets/fashion-mnist
  libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1  # Qt's xcb platform plugin
  fonts-dejavu-core                           # a font for the window
  xvfb                                        # a virtual screen for screenshots and headless runs
  chromium chromium-driver                    # tests/web drives the web page in a real (headless) browser
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: not a Debian/Ubuntu machine; install Qt's runtime libraries yourself." >&2
    echo "       Training falls back to Keras's own Fashion-MNIST loader." >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.fashion-lens-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi
