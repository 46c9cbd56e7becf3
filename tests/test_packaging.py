"""What a wheel or sdist of taco must carry: its licence and the third-party licences of what it
ships, the models' provenance, ``py.typed``, one version, and an sdist whose tests run.

The fast tests read pyproject.toml, MANIFEST.in and the files they name; the slow one builds the
wheel (no network: the venv's own setuptools) and looks inside it.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import taco
from taco.models.registry import PRETRAINED

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "taco" / "assets"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def test_licence_is_apache_and_its_files_exist() -> None:
    assert PROJECT["license"] == "Apache-2.0"  # a PEP 639 expression, not the deprecated table
    assert not any(c.startswith("License ::") for c in PROJECT.get("classifiers", []))
    for pattern in PROJECT["license-files"]:
        assert sorted(ROOT.glob(pattern)), f"license-files {pattern!r} matches no file"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_every_third_party_licence_text_is_shipped_and_indexed() -> None:
    notices = (ASSETS / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    texts = sorted((ASSETS / "licenses").iterdir())
    assert {p.name for p in texts} >= {"torchvision-0.29.1-LICENSE.txt", "lpips-0.1.4-LICENSE.txt",
                                       "scikit-image-0.26.0-LICENSE.txt"}
    for p in texts:
        assert f"licenses/{p.name}" in notices, f"{p.name} is not named in THIRD_PARTY_NOTICES.md"
        text = p.read_text(encoding="utf-8")  # the text (BSD or MIT), not a name
        assert "Redistribution and use" in text or "Permission is hereby granted" in text, p.name
    globs = PROJECT["license-files"]
    assert "taco/assets/THIRD_PARTY_NOTICES.md" in globs and "taco/assets/licenses/*" in globs


def test_every_asset_folder_says_where_its_files_come_from() -> None:
    for folder in ("clip", "lpips", "models", "samples"):
        assert (ASSETS / folder / "SOURCES.md").is_file(), folder


def test_models_sources_names_every_shipped_model_with_its_hash() -> None:
    sources = (ASSETS / "models" / "SOURCES.md").read_text(encoding="utf-8")
    shipped = sorted(p.name for p in (ASSETS / "models").glob("*.safetensors"))
    assert shipped == sorted(e.file for e in PRETRAINED.values())
    for entry in PRETRAINED.values():
        row = next((line for line in sources.splitlines() if f"`{entry.file}`" in line), None)
        assert row is not None, f"models/SOURCES.md has no row for {entry.file}"
        assert entry.sha256 in row, f"models/SOURCES.md: {entry.file}'s SHA-256 is not the registry's"
    assert "Apache License 2.0" in sources  # the terms the weights are offered under


def test_version_has_one_source() -> None:
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "taco.version.__version__"
    # setuptools reads it without importing taco: a literal assignment in taco/version.py
    tree = ast.parse((ROOT / "taco" / "version.py").read_text(encoding="utf-8"))
    values = [n.value.value for n in tree.body if isinstance(n, ast.Assign)
              and [getattr(t, "id", None) for t in n.targets] == ["__version__"]
              and isinstance(n.value, ast.Constant)]
    assert values == [taco.__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+", taco.__version__)


def test_typed_marker_is_package_data() -> None:
    assert (ROOT / "taco" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["taco"]


def test_tomli_declared_where_tomllib_is_missing() -> None:
    """taco/train/config.py reads TOML configs with tomli on Python 3.10: one before 2.4, which
    reads TOML 1.1 (a trailing comma in an inline table, \\e) where 3.11-3.13's tomllib reads TOML
    1.0, so that a config read on 3.10 reads alike on a later Python."""
    assert "import tomli" in (ROOT / "taco" / "train" / "config.py").read_text(encoding="utf-8")
    assert any(re.fullmatch(r"tomli>=2,<2\.4; python_version < '3.11'", d)
               for d in PROJECT["dependencies"])


def test_sdist_carries_what_the_tests_read() -> None:
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    grafted = {line.split()[1] for line in manifest if line.startswith("graft ")}
    assert grafted >= {"tests", "configs", "scripts", "data", "docs"}
    assert any(line.startswith("include ") and "LICENSE" in line.split() for line in manifest)


@pytest.mark.slow
def test_wheel_carries_licences_notices_and_marker(tmp_path: Path) -> None:
    """A wheel built from a copy of this tree (the venv's setuptools, no network; the build's
    by-products stay out of the checkout)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "taco", src / "taco",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-v", "-w", str(tmp_path), str(src)],  # -v: the backend's warnings
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    log = r.stdout + r.stderr
    assert "DeprecationWarning" not in log, log[log.find("DeprecationWarning") - 500:][:2000]
    (wheel,) = tmp_path.glob("taco_codec-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read(f"taco_codec-{taco.__version__}.dist-info/METADATA").decode()
    info = f"taco_codec-{taco.__version__}.dist-info/licenses/"
    assert {info + "LICENSE", info + "taco/assets/THIRD_PARTY_NOTICES.md"} <= names
    assert {"taco/py.typed", "taco/assets/THIRD_PARTY_NOTICES.md",
            "taco/assets/models/SOURCES.md", "taco/assets/samples/skimage-chelsea.png"} <= names
    assert {f"taco/assets/licenses/{p.name}" for p in (ASSETS / "licenses").iterdir()} <= names
    assert "License-Expression: Apache-2.0" in metadata
    assert f"Version: {taco.__version__}" in metadata
