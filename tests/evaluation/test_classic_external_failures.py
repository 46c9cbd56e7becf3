"""An external encoder or decoder that exits 0 without writing its output, or runs past
taco's limit, is an ExternalCodecError naming the tool (it was a 'no such file' about a deleted
temporary, or a traceback)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from PIL import Image

import taco.evaluation.classic as classic
from taco.errors import TacoError
from taco.evaluation.classic import ExternalCodecError, get_codec


def _fake_binaries(folder: Path, scripts: dict[str, str], monkeypatch) -> None:  # noqa: ANN001
    folder.mkdir()
    for name, body in scripts.items():
        path = folder / name
        path.write_text(f"#!{sys.executable}\nimport sys, shutil, time\nargs = sys.argv[1:]\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


COPY = "shutil.copy(args[-1], args[args.index('-o') + 1])"
PHOTO = Image.new("RGB", (16, 16), (10, 120, 200))


@pytest.mark.parametrize("enc, dec, message", [
    ("pass", COPY, "bpgenc exited 0 but wrote no bitstream"),
    (COPY, "pass", "bpgdec exited 0 but wrote no image"),
    (COPY, "open(args[args.index('-o') + 1], 'wb').close()",
     "bpgdec exited 0 but wrote no image (an empty file)"),
])
def test_a_tool_that_writes_nothing_is_named(tmp_path, monkeypatch, enc, dec, message):
    _fake_binaries(tmp_path / "bin", {"bpgenc": enc, "bpgdec": dec}, monkeypatch)
    with pytest.raises(ExternalCodecError) as info:
        get_codec("bpg").code(PHOTO, 30)
    assert str(info.value) == message
    assert isinstance(info.value, TacoError) and isinstance(info.value, RuntimeError)


def test_a_tool_past_the_limit_is_named_with_the_limit(tmp_path, monkeypatch):
    _fake_binaries(tmp_path / "bin", {"bpgenc": "time.sleep(30)", "bpgdec": COPY}, monkeypatch)
    monkeypatch.setattr(classic, "EXTERNAL_TIMEOUT_S", 0.5)
    with pytest.raises(ExternalCodecError, match=r"^bpgenc did not finish within 0.5 s "):
        get_codec("bpg").code(PHOTO, 30)
