#!/usr/bin/env bash
# The README's promise, checked: a fresh Debian 12 (debootstrap --variant=minbase, nothing else
# installed) goes from the .deb to a classified photo with `apt install ./x.deb` and `fashion-classify`.
# Root, network to deb.debian.org; about a minute here. Not part of .ci/run (needs the mirror and
# chroot/mount rights). Usage: bash packaging/fresh-debian.sh [dist/packages/fashion-lens_*.deb]
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:-$(ls -t dist/packages/fashion-lens_*.deb | head -1)}
root=$(mktemp -d /tmp/fresh-debian.XXXXXX) && chmod 755 "$root"  # apt's _apt user reads its lists there
cleanup() { umount "$root/proc" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
mount --bind /proc "$root/proc"
cp "$deb" "$root/root/" && cp resources/samples/trouser.jpg "$root/root/photo.jpg"
chroot "$root" sh -ec "cd /root && apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./$(basename "$deb") >/dev/null
  fashion-classify photo.jpg
  QT_QPA_PLATFORM=offscreen fashion-lens --self-test | tail -n 2 | head -n 1
  dpkg -r fashion-lens >/dev/null && test ! -e /opt/fashion-lens && echo 'removed: nothing left in /opt/fashion-lens'"
