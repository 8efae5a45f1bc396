#!/usr/bin/env bash
# CI's packaging proof (run by .ci/run after the tests): build the frozen app and its installers
# (packaging/build.sh), then tests/packaging: the frozen app's self-test and probabilities, the .deb
# installed with dpkg -i, its launchers' self-test and fashion-classify, its window under Xvfb, and a
# removal that leaves nothing. Needs root (dpkg -i). The package is removed again however this ends.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
  echo "packaging/ci.sh: installs a .deb, so it runs as root (CI does)" >&2
  exit 1
fi
if dpkg-query -W -f='${Status}' fashion-lens 2>/dev/null | grep -q "ok installed"; then
  if [ "${CI:-}" = true ]; then
    echo "packaging/ci.sh: removing a fashion-lens package left by an earlier run"
    dpkg --purge fashion-lens >/dev/null
  else
    echo "packaging/ci.sh: fashion-lens is installed on this machine; remove it first (dpkg -r fashion-lens)" >&2
    exit 1
  fi
fi
trap 'dpkg-query -W -f="\${Status}" fashion-lens 2>/dev/null | grep -q "ok installed" && dpkg --purge fashion-lens >/dev/null' EXIT

need=()
for pkg in xvfb x11-utils binutils zstd xz-utils desktop-file-utils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

bash packaging/build.sh
built=$(date +%s)

deb=$(ls -t dist/packages/fashion-lens_*.deb | head -1)
log=$(mktemp)
set +e
QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2 FASHION_LENS_FROZEN_APP=dist/FashionLens/FashionLens \
  FASHION_LENS_DEB="$deb" .venv/bin/python -m pytest -q -rs -p no:cacheprovider tests/packaging 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if ((status == 0)) && grep -qE "[0-9]+ skipped" "$log"; then
  echo "packaging/ci.sh: a packaging test was skipped; in CI every one must run" >&2
  status=1
fi
rm -f "$log"
echo "packaging/ci.sh: build $((built - started)) s, tests $(($(date +%s) - built)) s, total $(($(date +%s) - started)) s"
exit "$status"
