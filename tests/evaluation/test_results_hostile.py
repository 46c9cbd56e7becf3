"""Result JSONs of the right format and version whose fields are of the wrong types (a dataset's
crop that is not a string, an empty label), and caption JSONs that taco import-captions cannot
turn into a captions file taco reads: one line naming the file (and the image), status 2, never a
traceback, a file taco then refuses, or a figure with a nameless curve."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from taco.evaluation import import_captions as ic
from taco.evaluation.result_files import MalformedResult, read_result
from taco.evaluation.results import check_resume

ROOT = Path(__file__).resolve().parents[2]
POINT = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0, "ms_ssim": None, "lpips": 0.1}
RESULT = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
          "dataset": {"name": "photos", "kind": "folder", "images": 2}, "points": [POINT]}


def _error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(lines)
    assert len(lines) == 1 and lines[0].startswith(f"taco {command}: error: "), lines
    return lines[0]


def _write(folder: Path, result: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "jpeg.json"
    path.write_text(json.dumps(result))  # NaN and Infinity as JSON's extension writes them
    return path


MALFORMED = [
    ({k: v for k, v in RESULT.items() if k != "dataset"}, "it has no dataset"),
    ({**RESULT, "dataset": "x"}, "its dataset is not a JSON object with a name"),
    ({**RESULT, "points": {"a": 1}}, "its points are not a list of JSON objects"),
    ({**RESULT, "points": [1, 2]}, "its points are not a list of JSON objects"),
    ({**RESULT, "points": [{**POINT, "bpp": "abc"}]}, "point 1 has a bpp of 'abc', not a finite number above 0 or null"),
    ({**RESULT, "points": [{**POINT, "bpp": math.nan}]}, "point 1 has a bpp of nan"),
    ({**RESULT, "points": [{**POINT, "bpp": -1}]}, "point 1 has a bpp of -1"),
    ({**RESULT, "points": [POINT, {**POINT, "psnr": math.inf}]}, "point 2 has a psnr of inf, not a finite number or null"),
    ({**RESULT, "label": ["x"]}, "its label is not a string"),
    ({**RESULT, "kind": 5}, "its kind is not a string"),
    ({k: v for k, v in RESULT.items() if k != "kind"}, "it has no kind"),
    ({**RESULT, "codec": None}, "its codec is not a string"),
    ({**RESULT, "set_metrics": {"fid": 1}}, "its set_metrics' fid is not a JSON object"),
    ({**RESULT, "bpp_gap": {"mean_abs": "x"}}, "its bpp_gap's mean_abs is not a finite number"),
]


@pytest.mark.parametrize("result, says", MALFORMED)
def test_read_result_names_the_field_that_is_wrong(tmp_path, result, says):
    path = _write(tmp_path, result)
    with pytest.raises(MalformedResult) as info:
        read_result(path)
    assert str(info.value).startswith(f"{path}: not a taco evaluation result ({says}")


def test_a_run_just_started_and_a_whole_result_pass(tmp_path):
    header = {k: v for k, v in RESULT.items() if k != "points"}
    assert read_result(_write(tmp_path / "a", header)) == header
    whole = {**RESULT, "points": [POINT, {**POINT, "bpp": None, "psnr": None}], "model": None}
    assert read_result(_write(tmp_path / "b", whole)) == whole


@pytest.mark.parametrize("result, says", MALFORMED[:9])
def test_plot_refuses_a_malformed_result_in_one_line(taco_main, tmp_path, capsys, result, says):
    path = _write(tmp_path / "res", result)
    assert taco_main(["plot", str(tmp_path / "res"), "-o", str(tmp_path / "rd")]) == 2
    assert _error(capsys, "plot").startswith(f"taco plot: error: {path}: not a taco evaluation result ({says}")
    assert not list(tmp_path.glob("rd*"))


def test_plot_with_no_point_of_a_bpp_says_so(taco_main, tmp_path, capsys):
    _write(tmp_path / "res", {**RESULT, "points": [{**POINT, "bpp": None}, {"setting": "q90"}]})
    assert taco_main(["plot", str(tmp_path / "res"), "-o", str(tmp_path / "rd")]) == 2
    assert _error(capsys, "plot").startswith(f"taco plot: error: nothing to draw: no point of the results in "
                                             f"{tmp_path / 'res'} has a bpp")
    assert not list(tmp_path.glob("rd*"))


@pytest.mark.parametrize("result, says", MALFORMED[:9])
def test_check_targets_cannot_check_a_malformed_result(tmp_path, result, says):
    path = _write(tmp_path / "res", result)
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_targets.py"), str(tmp_path / "res")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2  # 1 says that a target failed
    assert run.stderr.splitlines() == [f"check_targets: {path}: not a taco evaluation result ({says}"
                                       + run.stderr.split(says, 1)[1].rstrip("\n")]


def test_check_resume_cuts_long_labels(tmp_path):
    path = _write(tmp_path, {**RESULT, "run": {"label": "L" * 1_000_000}})
    with pytest.raises(Exception) as info:
        check_resume(path, {"label": "M" * 1_000_000})
    message = str(info.value)
    assert len(message) < 300 and "holds results labelled 'LLLL" in message and "not 'MMMM" in message


def test_check_resume_lists_at_most_eight_differences(tmp_path):
    old = {f"k{i}": 0 for i in range(20)} | {"label": "x"}
    path = _write(tmp_path, {**RESULT, "run": old})
    with pytest.raises(Exception, match=r"differs in: k0, k1, k10, k11, k12, k13, k14, k15 and 12 more\)"):
        check_resume(path, {f"k{i}": 1 for i in range(20)} | {"label": "x"})


@pytest.mark.parametrize("text, says", [
    ('{"a.png": "x\\udc80y"}', "a caption of 'a.png' holds a lone surrogate"),
    ('{"a\\udc80.png": ["xy"]}', "the image name 'a\\udc80.png' holds a lone surrogate"),
])
def test_import_captions_refuses_a_lone_surrogate(taco_main, tmp_path, capsys, text, says):
    src = tmp_path / "c.json"
    src.write_text(text)
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "out.jsonl")]) == 2
    assert _error(capsys, "import-captions").startswith(f"taco import-captions: error: {src}: {says}")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("captions", ["x" * 1_000_001, ["cap"] * 200_000])
def test_import_captions_refuses_a_line_taco_would_not_read(taco_main, tmp_path, capsys, captions):
    src = tmp_path / "c.json"
    src.write_text(json.dumps({"b.png": "fine", "a.png": captions}))
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "out.jsonl")]) == 2
    assert _error(capsys, "import-captions").startswith(
        "taco import-captions: error: the captions of 'a.png' make a line of ")
    assert not (tmp_path / "out.jsonl").exists()


def test_import_captions_refuses_a_file_over_its_bound_before_reading_it(taco_main, tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.setattr(ic, "CAPTION_JSON_MAX_BYTES", 100)
    src = tmp_path / "c.json"
    src.write_text(json.dumps({"a.png": "x" * 200}))
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "out.jsonl")]) == 2
    assert _error(capsys, "import-captions") == (
        f"taco import-captions: error: {src}: 213 bytes, over the 100 taco reads from a caption JSON")
    src.write_text(json.dumps({"a.png": "x" * 50}))
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "out.jsonl")]) == 0


RESULT_WITH_CROP = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
          "dataset": {"name": "photos", "kind": "folder", "images": 2, "crop": "none"}, "points": [POINT]}


BAD = [
    ({**RESULT_WITH_CROP, "dataset": {**RESULT_WITH_CROP["dataset"], "crop": {}}}, "its dataset's crop is not a string"),
    ({**RESULT_WITH_CROP, "dataset": {**RESULT_WITH_CROP["dataset"], "crop": 7}}, "its dataset's crop is not a string"),
    ({**RESULT_WITH_CROP, "dataset": {**RESULT_WITH_CROP["dataset"], "crop": None}}, "its dataset's crop is not a string"),
    ({**RESULT_WITH_CROP, "label": ""}, "its label is empty"),
]


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
    result = {**RESULT_WITH_CROP, "label": label, "dataset": {**RESULT_WITH_CROP["dataset"], "crop": crop}}
    assert read_result(_write(tmp_path, result)) == result
