"""``taco demo`` with a variable-rate model says the quality it coded at (its default), as the
JPEG/WebP/AVIF lines say theirs; it coded at quality 4 of 7 and said nothing of it."""

from __future__ import annotations

from PIL import Image

import taco
from taco.cli import main
from taco.demo import run_demo, sample_dir


def test_the_demo_says_the_quality_a_variable_rate_model_coded_at(tmp_path, capsys):
    photo = tmp_path / "cat.png"
    with Image.open(sample_dir() / "skimage-chelsea.png") as im:
        im.resize((64, 48)).save(photo)
    lambdas = [0.0002, 0.0004, 0.0009, 0.0018, 0.0035, 0.0067, 0.013]
    vr = taco.save_checkpoint(taco.create_model("elic-tiny", seed=0, qualities=lambdas), tmp_path / "vr.safetensors")
    r = run_demo(str(vr), str(photo), "", out_dir=tmp_path / "a")
    assert (r["quality"], r["qualities"]) == (4, 7) == (taco.info(r["files"][0]).header.quality, 7)
    assert main(["demo", "--image", str(photo), "-m", str(vr), "-o", str(tmp_path / "b")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("taco file"))
    assert line.endswith(" bpp, quality 4 of 7)")
    single = run_demo("elic-tiny", str(photo), "", out_dir=tmp_path / "c")
    assert (single["quality"], single["qualities"]) == (0, 0)
    assert main(["demo", "--image", str(photo), "-m", "elic-tiny", "-o", str(tmp_path / "d")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("taco file"))
    assert line.endswith(" bpp)")
