"""``taco compress --clip-path DIR`` with a model whose text encoder is not CLIP (taco-tiny's
clip-tiny, the default taco-minilm's minilm) or that reads no text (elic) was ignored without a
word, exit 0 (review R7-D, session 37). Now one note says --clip-path is unused and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from taco.cli import main


@pytest.mark.parametrize(("model", "why"), [
    ("taco-tiny", "taco-tiny's text encoder is clip-tiny"),
    ("elic", "elic reads no text (a text-free model)"),
])  # fmt: skip
def test_an_unused_clip_path_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str,
                                     why: str) -> None:
    src = tmp_path / "small.png"
    Image.new("RGB", (32, 32), (90, 120, 30)).save(src)
    out = tmp_path / "x.taco"
    assert main(["compress", str(src), "-o", str(out), "-m", model, "--caption", "a field",
                 "--clip-path", str(tmp_path / "nonexistent")]) == 0
    err = capsys.readouterr().err
    assert err.count("--clip-path is unused") == 1, err
    assert f"taco compress: note: --clip-path is unused: {why}" in err, err
    assert out.is_file()


def test_no_clip_path_no_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "small.png"
    Image.new("RGB", (32, 32), (90, 120, 30)).save(src)
    assert main(["compress", str(src), "-o", str(tmp_path / "x.taco"), "-m", "taco-tiny",
                 "--caption", "a field"]) == 0
    assert "--clip-path" not in capsys.readouterr().err
