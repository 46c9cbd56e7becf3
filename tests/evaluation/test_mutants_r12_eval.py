"""Mutation round 12 (session 38's new code) in taco.evaluation: what the s38 tests left open in
the classic codecs' timing, the FID auto count and the caption-mode comparison's model record."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import torch
from PIL import Image

import taco
from taco.cli import main
from taco.evaluation import classic, evaluate as evaluate_module
from taco.evaluation.measure import SetMetrics

BAD = os.fsdecode(b"\xff")  # "\udcff"


def test_classic_timings_are_ms_of_the_encoder_and_the_decoder_alone(monkeypatch) -> None:  # noqa: ANN001
    """With a clock that moves 1 s per reading, Pillow's save and its open each took 1 s:
    1000 ms each (the decoder's time starts where the encoder's ends)."""
    ticks = iter(range(100))
    monkeypatch.setattr(classic, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    image = Image.new("RGB", (32, 32), (40, 90, 160))
    data, decoded, timings = classic.get_codec("jpeg").code_timed(image, 50)
    assert data and decoded.size == (32, 32)
    assert timings == {"encode_ms": 1000.0, "decode_ms": 1000.0}


class FakeInception:
    source = "fake (test)"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return images.flatten(2).mean(-1).float()


def test_fid_auto_with_min_images_one_counts_a_two_image_set_whole(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """--fid auto --fid-min-images 1 --limit 1 on two images: the set's size is counted past the
    limit up to 2 (FID over whole images needs 2), so auto decides on a set of 2 (whole images),
    not 'the set has 1 image' from a count that stopped at 1."""
    seen = []

    def recording(**kw):  # noqa: ANN003, ANN202
        probe = SetMetrics(**kw, extractor=FakeInception())  # no Inception built
        seen.append((kw["n_images"], probe.fid_mode, probe.fid_reason))
        return SetMetrics(**{**kw, "fid": "off"})

    monkeypatch.setattr(evaluate_module, "SetMetrics", recording)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        Image.new("RGB", (64, 48), (40 * i, 120, 150)).save(folder / f"{i}.png")
    rc = main(["evaluate", str(folder), "--classic", "jpeg", "--qualities", "jpeg=50", "--fid-min-images", "1",
               "--limit", "1", "--cmmd-clip", "off", "--no-plot", "--quiet", "-o", str(tmp_path / "out")])
    assert rc == 0
    assert seen and seen[0][1] == "full", seen
    assert seen[0][0] >= 2


def test_caption_mode_comparison_records_a_non_utf8_model_path_escaped(tmp_path: Path, walls: Path) -> None:
    """The caption-modes JSON copies the model record as the results JSON does: a model under
    $'\\xffrun' is written escaped (\\xff), not as a lone surrogate JSON cannot hold."""
    run = tmp_path / (BAD + "run")
    taco.save_checkpoint(taco.create_model("taco-tiny", seed=1), run / "checkpoint.safetensors")
    rc = main(["evaluate", str(walls), "-m", str(run), "--fid", "off", "--cmmd-clip", "off", "--no-plot",
               "--compare-caption-modes", "true,shuffled", "-o", str(tmp_path / "ev"), "--quiet"])
    assert rc == 0
    (written,) = (tmp_path / "ev").rglob("*.caption-modes.json")
    text = written.read_bytes().decode("utf-8")
    assert "\\\\xffrun" in text and "\\udcff" not in text
    assert "\\xffrun" in json.loads(text)["model"]["spec"]
