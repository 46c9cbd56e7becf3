"""taco decompress checks each (model, fingerprint) of a batch once, not once per file (the
library's decode checks each file again: 2.5 ms a check was ~10 % of a small file's decode). Both
ask the one check, :func:`taco.resolve.decode_problems`: the command with its wording (``cli``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import taco.resolve
from taco.cli import main


def test_a_batch_checks_its_model_once(tmp_path: Path, monkeypatch) -> None:
    images = []
    for i in range(3):
        image = tmp_path / f"p{i}.png"
        Image.fromarray(np.full((16, 16, 3), 40 * i, np.uint8)).save(image)
        images.append(str(image))
    assert main(["compress", *images, "-m", "elic-tiny", "-o", str(tmp_path / "t"), "--quiet"]) == 0
    calls = []
    real = taco.resolve.made_with_problem

    def counted(*args, **kwargs):
        calls.append(kwargs["cli"])
        return real(*args, **kwargs)

    monkeypatch.setattr(taco.resolve, "made_with_problem", counted)
    files = sorted(str(p) for p in (tmp_path / "t").glob("*.taco"))
    assert len(files) == 3
    assert main(["decompress", *files, "-o", str(tmp_path / "d"), "--quiet"]) == 0
    assert calls.count(True) == 1  # the command's, before any file decodes
    assert calls.count(False) == 3  # the library's, at each file
    assert len(list((tmp_path / "d").glob("*.png"))) == 3
