"""The .deb's Depends: the system libraries the one-folder app links to but does not bundle.

Reads every ELF file's NEEDED entries and version references (objdump -p), keeps the libraries
that are not inside the folder, finds the Debian package that holds each (ldconfig -p, dpkg -S), and
asks for glibc at least as new as the newest GLIBC_x.y symbol version referenced. Adds what Qt needs
without linking to it (fontconfig's configuration and a font). Prints one Depends line.
Run: python packaging/linux/depends.py dist/FashionLens
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# Qt finds fonts through fontconfig (bundled) and its configuration (not); xkb keymaps for typing.
GLIBC_LIB = re.compile(r"(ld-linux.*|lib(c|m|dl|pthread|rt|util|resolv|anl|mvec)\.so\.\d+)$")
EXTRA = ["fontconfig-config", "fonts-dejavu-core | fonts-liberation2 | fonts-freefont-ttf", "xkb-data"]


def elf_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def main(folder: Path) -> None:
    files = elf_files(folder)
    bundled = {p.name for p in folder.rglob("*")}
    needed: set[str] = set()
    glibc = (2, 17)
    for i in range(0, len(files), 200):
        out = subprocess.run(
            ["objdump", "-p", *map(str, files[i : i + 200])], capture_output=True, text=True, check=True
        ).stdout
        needed.update(re.findall(r"^\s+NEEDED\s+(\S+)", out, re.M))
        for major, minor in re.findall(r"\bGLIBC_(\d+)\.(\d+)\b", out):
            glibc = max(glibc, (int(major), int(minor)))
    system = sorted(needed - bundled)
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s+(\S+) \(libc6,x86-64[^)]*\) => (\S+)$", cache, re.M))
    packages: set[str] = set()
    for lib in system:
        if GLIBC_LIB.match(lib):
            continue  # libc6, asked for with its version below
        if lib not in paths:
            sys.exit(f"depends.py: {lib} is needed but not on this system; install it and rebuild")
        owner = subprocess.run(["dpkg", "-S", str(Path(paths[lib]).resolve())], capture_output=True, text=True)
        if owner.returncode != 0:  # /lib -> /usr/lib merged: dpkg may know the other spelling
            alt = paths[lib].replace("/usr/lib/", "/lib/", 1) if paths[lib].startswith("/usr") else "/usr" + paths[lib]
            owner = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", f"*/{lib}"], capture_output=True, text=True)
        if owner.returncode != 0:
            sys.exit(f"depends.py: no Debian package owns {paths[lib]}")
        packages.add(owner.stdout.split(":")[0].strip())
    packages.discard("libc6")
    print(", ".join([f"libc6 (>= {glibc[0]}.{glibc[1]})", *sorted(packages), *EXTRA]))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
