#!/usr/bin/env bash
# macOS: "Fashion Lens.app" (build.spec's BUNDLE step, with NSCameraUsageDescription) and a .dmg to drag
# it to Applications. Not built in this repository's CI (Linux); run on a Mac (Python 3.11, Xcode's
# command line tools) from anywhere: bash packaging/macos/build-dmg.sh -> dist/packages/*.dmg
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

# tensorflow-cpu has no macOS wheels: on a Mac the plain tensorflow wheel is the CPU build.
python3 -m venv .venv-app
sed 's/^tensorflow-cpu==/tensorflow==/' packaging/requirements-app.txt >build/requirements-macos.txt 2>/dev/null ||
  { mkdir -p build && sed 's/^tensorflow-cpu==/tensorflow==/' packaging/requirements-app.txt >build/requirements-macos.txt; }
.venv-app/bin/pip install -q -r build/requirements-macos.txt

# The app icon: an .icns made from the PNG (sips and iconutil come with macOS).
iconset=build/fashion-lens.iconset
rm -rf "$iconset" && mkdir -p "$iconset"
for size in 16 32 128 256; do
  sips -z "$size" "$size" resources/icons/fashion-lens.png --out "$iconset/icon_${size}x${size}.png" >/dev/null
  sips -z $((size * 2)) $((size * 2)) resources/icons/fashion-lens.png --out "$iconset/icon_${size}x${size}@2x.png" >/dev/null
done
iconutil -c icns "$iconset" -o resources/icons/fashion-lens.icns

.venv-app/bin/pyinstaller --noconfirm build.spec          # -> dist/Fashion Lens.app
"dist/Fashion Lens.app/Contents/MacOS/FashionLens" --self-test

# PyInstaller signs ad hoc; a release is signed with a Developer ID and notarised instead:
#   codesign --force --deep --options runtime --sign "Developer ID Application: ..." "dist/Fashion Lens.app"
#   xcrun notarytool submit dist/packages/*.dmg --keychain-profile ... --wait && xcrun stapler staple ...
stage=build/dmg
rm -rf "$stage" && mkdir -p "$stage" dist/packages
cp -R "dist/Fashion Lens.app" "$stage/"
ln -s /Applications "$stage/Applications"
hdiutil create -volname "Fashion Lens" -srcfolder "$stage" -ov -format UDZO \
  "dist/packages/FashionLens-$VERSION-macos-$(uname -m).dmg"
