"""The wheel's package data (pyproject.toml) holds taco's assets and nothing a command left
beside them: ``taco compress taco/assets/samples/skimage-chelsea.png`` (configs/smoke.yaml's
comment once said so) wrote skimage-chelsea.taco there, which .gitignore hides and the old
pattern ``assets/**/*`` shipped. Checked with setuptools' own matching (build_py), on a tree of
empty files named as taco/assets is plus such outputs, without building a wheel."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from taco.suffixes import DECODED_SUFFIX

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "tool"]["setuptools"]["package-data"]["taco"]

#: What commands run on the shipped samples leave beside them (and one in each asset folder).
OUTPUTS = ("assets/samples/skimage-chelsea.taco", "assets/samples/skimage-chelsea" + DECODED_SUFFIX,
           "assets/samples/skimage-chelsea.png.taco", "assets/models/skimage-coffee.taco",
           "assets/lpips/x" + DECODED_SUFFIX, "assets/cat.taco")


def _is_output(name: str) -> bool:
    return name.endswith((".taco", DECODED_SUFFIX))


def _assets() -> list[str]:
    """taco/assets's files as a checkout or sdist has them, relative to taco/ (outputs and
    hidden files left out)."""
    package = ROOT / "taco"
    return sorted(p.relative_to(package).as_posix() for p in (package / "assets").rglob("*")
                  if p.is_file() and not p.name.startswith(".") and not _is_output(p.name))


def _shipped(package: Path) -> set[str]:
    """The package data setuptools puts in the wheel from ``package`` (pyproject.toml's
    patterns, relative to it). MANIFEST.in grafts no part of taco/, so the manifest adds nothing
    under it but modules and the files these patterns match."""
    from setuptools.command.build_py import build_py
    from setuptools.dist import Distribution

    dist = Distribution({"name": "taco-codec", "packages": ["taco"],
                         "package_data": {"taco": PATTERNS}})
    cmd = build_py(dist)
    cmd.ensure_finalized()
    cmd.manifest_files = {}  # the sdist manifest's files under taco: .py and these same patterns
    return {Path(f).relative_to(package).as_posix() for f in cmd.find_data_files("taco", str(package))}


def test_every_asset_ships_and_no_command_output_does(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    package = tmp_path / "taco"
    assets = _assets()
    assert "assets/samples/skimage-chelsea.png" in assets
    for name in ("py.typed", *assets, *OUTPUTS):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).touch()
    shipped = _shipped(package)
    missing = sorted(set(assets) - shipped)
    assert not missing, f"not shipped (name them in pyproject.toml's package-data, or remove them): {missing}"
    assert shipped == {"py.typed", *assets}, sorted(shipped - {"py.typed", *assets})


def test_smoke_config_writes_its_output_under_runs() -> None:
    """The smoke config's comment codes a sample with -o under runs/smoke/ (ignored, and not in
    the package), not beside the sample in taco/assets/samples."""
    comment = [line for line in (ROOT / "configs" / "smoke.yaml").read_text().splitlines()
               if line.startswith("#")]
    text = " ".join(line.lstrip("# ").rstrip("\\ ") for line in comment)
    assert "taco compress taco/assets/samples/" in text
    assert " -o runs/smoke/" in text
