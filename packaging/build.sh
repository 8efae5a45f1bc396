#!/usr/bin/env bash
# Builds the packaged Fashion Lens: the one-folder app (PyInstaller, from its own venv .venv-app with
# tensorflow-cpu: packaging/requirements-app.txt), then every installer this machine can build:
#   dist/packages/fashion-lens_VERSION_amd64.deb     installs into /opt/fashion-lens
#   dist/packages/FashionLens-VERSION-linux-x86_64.tar.zst (and .tar.gz with --tar-gz)
#   an AppImage when appimagetool is on PATH (Debian does not package it: skipped here)
# Windows (packaging/windows/fashion-lens.iss) and macOS (packaging/macos/build-dmg.sh) are built on
# those systems. Usage: bash packaging/build.sh [--skip-app] [--deb-compressor zstd|xz] [--tar-gz]
# Prints what each step took; the last line is key=value figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SKIP_APP=0 DEB_COMPRESSOR=zstd TAR_GZ=0
while (($#)); do
  case "$1" in
    --skip-app) SKIP_APP=1 ;;
    --deb-compressor) DEB_COMPRESSOR=$2; shift ;;
    --tar-gz) TAR_GZ=1 ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

VERSION=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
APP=dist/FashionLens
OUT=dist/packages
THREADS=$(nproc)
now() { date +%s.%N; }
took() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

# --- tools: strip (binutils), zstd, xz; dpkg-deb comes with dpkg -----------------------------------
need=()
for tool in strip:binutils zstd:zstd xz:xz-utils objdump:binutils; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- the app's venv: tensorflow-cpu, no dev tools; the project itself is imported from the tree -----
if [ ! -x .venv-app/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv-app
fi
stamp=.venv-app/.requirements-installed
if [ ! -f "$stamp" ] || ! cmp -s packaging/requirements-app.txt "$stamp"; then
  .venv-app/bin/python -m pip install -q --upgrade pip
  .venv-app/bin/python -m pip install -q -r packaging/requirements-app.txt
  cp packaging/requirements-app.txt "$stamp"
fi
.venv-app/bin/python -m pip check >/dev/null

# --- the one-folder app --------------------------------------------------------------------------
if ((SKIP_APP == 0)); then
  t=$(now)
  TF_CPP_MIN_LOG_LEVEL=3 .venv-app/bin/pyinstaller --noconfirm --log-level WARN \
    --workpath build/pyinstaller --distpath dist build.spec 2>&1 | grep -v -e cpu_feature_guard -e "rebuild TensorFlow" \
    -e absl::InitializeLog -e "backend.torch" -e "tensorflow-plugins" || true
  [ -x "$APP/FashionLens" ] || { echo "build.sh: PyInstaller did not build $APP" >&2; exit 1; }
  # TensorFlow's libraries ship with their symbol tables: --strip-unneeded keeps what the dynamic linker
  # needs (tests/packaging check the stripped app gives the same probabilities).
  find "$APP/_internal/tensorflow" -name "*.so*" -type f -size +4M -print0 | xargs -0 -r strip --strip-unneeded
  echo "app: $APP built and stripped in $(took "$t") s, $(($(du -sb "$APP" | cut -f1) / 1000000)) MB"
fi
[ -x "$APP/FashionLens" ] || { echo "build.sh: no $APP; run without --skip-app" >&2; exit 1; }
folder_mb=$(($(du -sb "$APP" | cut -f1) / 1000000))
mkdir -p "$OUT"

# --- .deb ----------------------------------------------------------------------------------------
t=$(now)
stage=build/deb/fashion-lens
rm -rf build/deb && mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/icons/hicolor/256x256/apps"
cp -al "$ROOT/$APP" "$stage/opt/fashion-lens" 2>/dev/null || cp -a "$APP" "$stage/opt/fashion-lens"
install -m 755 packaging/linux/fashion-lens packaging/linux/fashion-classify "$stage/usr/bin/"
install -m 644 packaging/linux/fashion-lens.desktop "$stage/usr/share/applications/"
install -m 644 resources/icons/fashion-lens.png "$stage/usr/share/icons/hicolor/256x256/apps/"
depends=$(.venv-app/bin/python packaging/linux/depends.py "$APP")
installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@DEPENDS@/$depends/" -e "s/@SIZE@/$installed_kb/" \
  packaging/linux/control.in >"$stage/DEBIAN/control"
deb="$OUT/fashion-lens_${VERSION}_${ARCH}.deb"
case "$DEB_COMPRESSOR" in
  zstd) zopts=(-Zzstd -z12) ;;  # see docs/packaging.md for the levels and compressors measured
  xz) zopts=(-Zxz -z6) ;;
  *) echo "build.sh: --deb-compressor zstd or xz" >&2; exit 2 ;;
esac
dpkg-deb --root-owner-group "${zopts[@]}" --threads-max="$THREADS" --build "$stage" "$deb" >/dev/null
deb_s=$(took "$t")
deb_mb=$(python3 -c "import os, sys; print(round(os.path.getsize(sys.argv[1]) / 1e6))" "$deb")
echo "deb: $deb, $deb_mb MB in $deb_s s ($DEB_COMPRESSOR); Depends: $depends"
rm -rf build/deb

# --- tarballs ------------------------------------------------------------------------------------
t=$(now)
tarball="$OUT/FashionLens-$VERSION-linux-x86_64.tar.zst"
tar -C dist --owner=0 --group=0 -cf - FashionLens | zstd -q -12 -T"$THREADS" -f -o "$tarball"
tar_s=$(took "$t")
tar_mb=$(python3 -c "import os, sys; print(round(os.path.getsize(sys.argv[1]) / 1e6))" "$tarball")
echo "tarball: $tarball, $tar_mb MB in $tar_s s"
if ((TAR_GZ)); then
  tar -C dist --owner=0 --group=0 -czf "$OUT/FashionLens-$VERSION-linux-x86_64.tar.gz" FashionLens
fi

# --- AppImage ------------------------------------------------------------------------------------
appimage=none
if command -v appimagetool >/dev/null; then
  appdir=build/FashionLens.AppDir
  rm -rf "$appdir" && mkdir -p "$appdir/usr/bin"
  cp -al "$ROOT/$APP/." "$appdir/usr/bin/"
  install -m 755 packaging/linux/AppRun "$appdir/AppRun"
  install -m 644 packaging/linux/fashion-lens.desktop resources/icons/fashion-lens.png "$appdir/"
  appimage="$OUT/FashionLens-$VERSION-x86_64.AppImage"
  ARCH=x86_64 appimagetool --no-appstream "$appdir" "$appimage" >/dev/null
  rm -rf "$appdir"
  echo "appimage: $appimage"
else
  echo "appimage: skipped (appimagetool is not on PATH; Debian's registry does not package it)"
fi

echo "folder_mb=$folder_mb deb_mb=$deb_mb deb_build_s=$deb_s deb_compressor=$DEB_COMPRESSOR" \
  "tarball_mb=$tar_mb tarball_s=$tar_s appimage=$([ "$appimage" = none ] && echo no || echo yes)"
