"""Reading summary JSONs back: every reader goes through taco.evaluation.result_files.read_result
(bounded, format and version checked) and result_rows. A result of another format or version
was read five ways (raw json.loads in the summary, the matched-bpp run and the caption-mode
comparison; taco plot checked the format only), and used as if it were this taco's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from taco import jsonfiles
from taco.evaluation import result_files
from taco.evaluation.classic import evaluate_matched, get_codec
from taco.evaluation.cli import print_summary
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import compare_caption_modes
from taco.evaluation.result_files import (
    UnsupportedResultVersion,
    read_result,
    result_csv,
    result_rows,
)
from taco.evaluation.runner import ResultsFileError

ROWS = [{"image": f"img{i}.png", "setting": "", "bpp": 0.5 + i / 10, "psnr": 30.0 + i,
         "ms_ssim": 0.95, "lpips": 0.1} for i in range(3)]
NEWER = "taco evaluation result version 2 is not supported (this taco reads version 1)"


def _edit(path: Path, **fields: object) -> Path:
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))
    return path


def _run(rd_run, folder: Path, stem: str = "m", label: str = "M") -> Path:
    write, _ = rd_run
    return write(folder, stem, label=label, kind="learned", codec="elic", rows=ROWS)


def test_a_result_and_its_rows_read_as_written(rd_run, tmp_path):
    path = _run(rd_run, tmp_path)
    assert read_result(path) == json.loads(path.read_text())
    assert result_csv(path, read_result(path)) == tmp_path / "m.csv"
    assert [(r["image"], float(r["bpp"])) for r in result_rows(path)] == [
        (r["image"], r["bpp"]) for r in ROWS]


@pytest.mark.parametrize("text, says", [
    ('{"format": "taco-eval", "version": 2}', NEWER),
    ('{"format": "taco-eval", "version": "1"}',
     "taco evaluation result version '1' is not supported (this taco reads version 1)"),
    ('{"format": "taco-shards", "version": 1}',
     "not a taco evaluation result (its format is 'taco-shards', not 'taco-eval')"),
    ('{"version": 1}', "not a taco evaluation result (its format is None, not 'taco-eval')"),
    ("[1]", "not a taco evaluation result (not a JSON object)"),
    ("[" * 100_000, "not a taco evaluation result (nested too deeply)"),
    (b'{"format": "\xff"}', "not a taco evaluation result (not UTF-8 text)"),
])
def test_another_format_or_version_is_one_line_naming_the_file(tmp_path, text, says):
    path = tmp_path / "r.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ResultsFileError) as refused:
        read_result(path)
    assert str(refused.value) == f"{path}: {says}"
    assert isinstance(refused.value, UnsupportedResultVersion) == says.startswith("taco evaluation result version")


def test_a_file_over_the_bound_is_refused_before_it_is_parsed(rd_run, tmp_path, monkeypatch):
    path = _run(rd_run, tmp_path)
    size = path.stat().st_size
    monkeypatch.setattr(result_files, "RESULT_MAX_BYTES", size - 1)
    monkeypatch.setattr(jsonfiles, "load_json", lambda text: pytest.fail("parsed"))
    with pytest.raises(ResultsFileError) as refused:
        read_result(path)
    assert str(refused.value) == (
        f"{path}: not a taco evaluation result ({size:,} bytes, over the {size - 1:,} taco reads)")


@pytest.mark.parametrize("name", ["../m.csv", "sub/m.csv", "", 3, None])
def test_a_csv_that_is_not_a_file_beside_the_json_is_refused(rd_run, tmp_path, name):
    path = _edit(_run(rd_run, tmp_path), csv=name)
    with pytest.raises(ResultsFileError, match=r"^.*m\.json: not a taco evaluation result \(its csv .* is not a file name\)$"):
        result_rows(path)


def test_the_printed_summary_refuses_another_version(rd_run, tmp_path, capsys):
    path = _run(rd_run, tmp_path)
    print_summary([path])
    assert capsys.readouterr().out.startswith("M on val (3 images): bpp 0.6000")
    _edit(path, version=2)
    with pytest.raises(UnsupportedResultVersion, match=re.escape(f"{path}: {NEWER}")):
        print_summary([path])


def test_a_matched_bpp_run_refuses_a_model_result_of_another_version(rd_run, tiny_folder, tmp_path):
    model_json = _edit(_run(rd_run, tmp_path / "val"), version=2)
    with pytest.raises(UnsupportedResultVersion, match=re.escape(f"{model_json}: {NEWER}")):
        evaluate_matched(get_codec("jpeg"), open_dataset(str(tiny_folder)), tmp_path / "out", model_json,
                         progress=False)
    assert not (tmp_path / "out").exists()


def test_the_caption_mode_comparison_refuses_another_version(rd_run, tmp_path):
    runs = {"true": _run(rd_run, tmp_path, "t"), "empty": _run(rd_run, tmp_path, "e")}
    assert compare_caption_modes(runs, resamples=10)["modes"]["empty"]["images"] == 3
    _edit(runs["empty"], version=2)
    with pytest.raises(UnsupportedResultVersion, match=re.escape(f"{runs['empty']}: {NEWER}")):
        compare_caption_modes(runs, resamples=10)


def test_plot_refuses_a_result_of_another_version_and_skips_other_json(taco_main, rd_folder, tmp_path, capsys):
    folder = rd_folder(tmp_path)
    (folder / "rd.bdrate.json").write_text('{"anchor": "JPEG"}')  # another JSON: skipped
    assert taco_main(["plot", str(folder), "-o", str(tmp_path / "fig"), "--bootstrap", "0"]) == 0
    newer = _edit(folder / "webp.json", version=2)  # left out, its curve would silently go missing
    capsys.readouterr()
    assert taco_main(["plot", str(folder), "-o", str(tmp_path / "fig"), "--bootstrap", "0"]) == 2
    assert capsys.readouterr().err.strip() == f"taco plot: error: {newer}: {NEWER}"


def test_plot_names_a_csv_that_is_not_a_file_beside_its_json(taco_main, rd_folder, tmp_path, capsys):
    folder = rd_folder(tmp_path)
    path = _edit(folder / "webp.json", csv="../webp.csv")
    argv = ["plot", str(folder), "-o", str(tmp_path / "fig"), "--anchor", "JPEG", "--bootstrap", "10"]
    assert taco_main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco plot: error: {path}: not a taco evaluation result (its csv '../webp.csv' is not a file name)")


def test_evaluate_refuses_to_resume_a_result_of_another_version(taco_main, tiny_folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "-o", str(out),
            "--limit", "1", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet"]
    assert taco_main(argv) == 0
    json_path = _edit(out / tiny_folder.name / "jpeg.json", version=2)
    capsys.readouterr()
    assert taco_main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"taco evaluate: error: {json_path}: {NEWER}; delete {json_path.with_suffix('.csv')} and {json_path}, "
        "or choose another --output")


def _nested(path: Path, depth: int, inner: str = "") -> Path:
    """A valid model result whose ``extra`` is a list nested ``depth`` deep (around ``inner``)."""
    result = {"format": "taco-eval", "version": 1, "label": "x", "kind": "model",
              "dataset": {"name": "kodak"}, "points": [{"bpp": 0.5, "psnr": 30.0}], "extra": "@"}
    path.write_text(json.dumps(result).replace('"@"', "[" * depth + inner + "]" * depth))
    return path


def test_a_result_nested_as_deeply_as_json_reads_it_is_read(tmp_path):
    """Its check for text that is not UTF-8 walked the result two calls a level: a result 600
    deep (1.3 KB), which json.loads reads, ended taco plot in a RecursionError traceback."""
    result = read_result(_nested(tmp_path / "deep.json", 600))
    assert result["label"] == "x" and isinstance(result["extra"], list)
    bad = _nested(tmp_path / "bad.json", 600, '"ok", {"k": "\\udc80"}')
    with pytest.raises(result_files.MalformedResult) as raised:
        read_result(bad)
    where = ("extra" + "[0]" * 599 + "[1].k")  # its middle cut
    assert str(raised.value).startswith(f"{bad}: not a taco evaluation result (its {where[:40]}..."
                                        f"{where[-37:]} has a lone surrogate at character 1, U+DC80")


def test_plot_reads_a_deeply_nested_result_and_refuses_one_json_cannot_read(taco_main, tmp_path, capsys):
    deep = _nested(tmp_path / "deep.json", 600)
    assert taco_main(["plot", str(deep), "-o", str(tmp_path / "fig")]) == 0
    assert (tmp_path / "fig.png").is_file()
    deeper = _nested(tmp_path / "deeper.json", 100_000)
    capsys.readouterr()
    assert taco_main(["plot", str(deeper), "-o", str(tmp_path / "fig2")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco plot: error: {deeper}: not a taco evaluation result (nested too deeply)")


@pytest.mark.parametrize(("key", "cut"), [("kk", False), ("kkk", True)])
def test_a_path_to_a_lone_surrogate_is_cut_only_past_80_characters(tmp_path, key, cut):
    bad = _nested(tmp_path / "bad.json", 24, f'"ok", {{"{key}": "\\udc80"}}')
    with pytest.raises(result_files.MalformedResult) as raised:
        read_result(bad)
    where = "extra" + "[0]" * 23 + f"[1].{key}"  # 80 characters, or 81
    shown = f"{where[:40]}...{where[-37:]}" if cut else where
    assert f"(its {shown} has a lone surrogate at character 1, U+DC80" in str(raised.value)
