"""A result JSON whose dataset's crop is not a string ({} or 7) or whose label is empty: taco
writes neither (a crop is "none" or "center NxN"; an empty --label gives the model's own), yet
taco plot drew them, a dataset titled "(crop {})" and a curve with no name in the legend nor the
BD table. Such a file is refused now, naming it and the field, as other bad fields are."""

from __future__ import annotations

import json

import pytest

from taco.evaluation.result_files import MalformedResult, read_result

POINT = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0, "ms_ssim": None, "lpips": 0.1}
RESULT = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
          "dataset": {"name": "photos", "kind": "folder", "images": 2, "crop": "none"}, "points": [POINT]}
BAD = [
    ({**RESULT, "dataset": {**RESULT["dataset"], "crop": {}}}, "its dataset's crop is not a string"),
    ({**RESULT, "dataset": {**RESULT["dataset"], "crop": 7}}, "its dataset's crop is not a string"),
    ({**RESULT, "dataset": {**RESULT["dataset"], "crop": None}}, "its dataset's crop is not a string"),
    ({**RESULT, "label": ""}, "its label is empty"),
]


def _write(folder, result):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "jpeg.json"
    path.write_text(json.dumps(result))
    return path


@pytest.mark.parametrize("result, says", BAD)
def test_read_result_refuses_it(tmp_path, result, says):
    path = _write(tmp_path, result)
    with pytest.raises(MalformedResult) as info:
        read_result(path)
    assert str(info.value) == f"{path}: not a taco evaluation result ({says})"


@pytest.mark.parametrize("result, says", BAD)
def test_plot_refuses_it_in_one_line(taco_main, tmp_path, capsys, result, says):
    path = _write(tmp_path / "res", result)
    assert taco_main(["plot", str(tmp_path / "res"), "-o", str(tmp_path / "rd")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"taco plot: error: {path}: not a taco evaluation result ({says})"]
    assert not list(tmp_path.glob("rd*"))


@pytest.mark.parametrize("crop, label", [("none", "JPEG"), ("center 256x256", " "), ("", "taco (caption)")])
def test_what_taco_writes_is_read(tmp_path, crop, label):
    result = {**RESULT, "label": label, "dataset": {**RESULT["dataset"], "crop": crop}}
    assert read_result(_write(tmp_path, result)) == result
