"""taco evaluate's figure: OUT/DATASET/rd.png (and .svg), beside a folder named rd there."""

import numpy as np
from PIL import Image

import taco
import taco.cli


def test_evaluate_draws_its_figure_beside_a_folder_named_rd(tmp_path, monkeypatch):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(photos / f"{i}.png")
    out = tmp_path / "out"
    (out / "photos" / "rd").mkdir(parents=True)
    rc = taco.cli.main(["evaluate", str(photos), "--classic", "jpeg", "--qualities", "jpeg=30,70",
                        "--fid", "off", "--cmmd-clip", "off", "-o", str(out), "--quiet"])
    assert rc == 0
    assert (out / "photos" / "rd.png").is_file() and (out / "photos" / "rd.svg").is_file()
    assert list((out / "photos" / "rd").iterdir()) == []
