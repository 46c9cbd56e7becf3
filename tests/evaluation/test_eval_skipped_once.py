"""An unreadable image is named once, however many settings met it: taco evaluate listed it once
per quality ('unreadable: bad.png, bad.png, bad.png, ...') and skipped_images held a copy per
job."""

from __future__ import annotations

import json
import shutil

from taco.samples import SAMPLES_DIR


def test_an_unreadable_image_is_named_once(taco_main, tmp_path, capsys, broken_png):
    data = tmp_path / "photos"
    data.mkdir()
    broken_png(data / "bad.png")
    shutil.copy(SAMPLES_DIR / "skimage-coffee.png", data / "coffee.png")
    out = tmp_path / "out"
    code = taco_main(["evaluate", str(data), "--classic", "jpeg", "--qualities", "jpeg=40,50,60",
                      "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "lacks 3 per-image results (unreadable: bad.png):" in err
    result = json.loads((out / "photos" / "jpeg.json").read_text())
    assert result["skipped_images"] == ["bad.png"] and result["jobs_missing"] == 3
