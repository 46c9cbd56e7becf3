"""A full standard output (``>/dev/full``) after a command wrote its files was said as a bare
"no space left on device" by taco plot, evaluate, caption, demo, models and bench, which reads as
if their files were not written (review R3, 3). compress, decompress, import-captions and info
name standard output, ``<stdout>: no space left on device``: every command's stdout lines now go
through :func:`taco.cli.files.report_to` and say it so, exit status 2 as compress's."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import taco.cli
import taco.cli.demo
import taco.demo
from taco.bench.cli import report_to as bench_report_to, write_result
from taco.bench.config import BenchConfig
from taco.evaluation import caption
from taco.evaluation.cli import print_summary

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")

FULL = "<stdout>: no space left on device"
POINT = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0, "ms_ssim": 0.9, "lpips": 0.1}
JPEG = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
        "dataset": {"name": "photos", "kind": "folder", "images": 2}, "points": [POINT]}
MODEL = {**JPEG, "kind": "learned", "label": "TACO", "codec": "taco",
         "points": [{**POINT, "setting": "", "bpp": 0.3, "psnr": 29.0}]}


class FullStdout:
    """A standard output on a full disk, as ``/dev/full`` is: every write fails."""

    errors = None
    encoding = "utf-8"

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        pass


def _taco_stdout_full(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return subprocess.run([sys.executable, "-m", "taco", *args], stdin=subprocess.DEVNULL, cwd=cwd,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)


def _results(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, result in (("taco.json", MODEL), ("jpeg.json", JPEG)):
        (folder / name).write_text(json.dumps(result))
    return folder


@pytest.mark.parametrize("args", [["models"], ["models", "--json"], ["models", "elic-tiny"]])
def test_models_names_stdout(args):
    done = _taco_stdout_full(*args)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"taco models: error: {FULL}"]



def test_train_print_config_names_stdout():
    done = _taco_stdout_full("train", "--print-config")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"taco train: error: {FULL}"]


def test_info_names_stdout(tmp_path):
    image = tmp_path / "a.png"
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(image)
    assert taco.cli.main(["compress", str(image), "-m", "elic-tiny", "-o", str(tmp_path / "a.taco"), "--quiet"]) == 0
    for args in ([], ["--json"]):
        done = _taco_stdout_full("info", str(tmp_path / "a.taco"), *args)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [f"taco info: error: {FULL}"]


def test_plot_names_stdout_after_writing_its_files(tmp_path):
    _results(tmp_path / "res")
    done = _taco_stdout_full("plot", "res", "-o", "figs/", "--metrics", "psnr", "--bootstrap", "0",
                             cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"taco plot: error: {FULL}"
    assert {"rd.png", "rd.svg", "rd.bdrate.md"} <= {p.name for p in (tmp_path / "figs").iterdir()}


def test_evaluate_summary_names_stdout(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(JPEG))
    monkeypatch.setattr(sys, "stdout", FullStdout())
    with pytest.raises(OSError) as exc:
        print_summary([path])
    assert exc.value.errno == errno.ENOSPC and exc.value.filename == "<stdout>"


def _caption_folder(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    return folder


def test_caption_names_stdout_after_writing_captions(tmp_path, monkeypatch, capsys):
    folder = _caption_folder(tmp_path)

    def captioned(plan, captioner, **kwargs):  # the captions file written, then the report line
        (folder / "captions.jsonl").write_text('{"image": "a.png", "captions": ["a"]}\n')
        return SimpleNamespace(path=folder / "captions.jsonl", written=1, already=0, unreadable=[], blank=[])

    monkeypatch.setattr(caption, "Captioner", lambda *args, **kwargs: object())
    monkeypatch.setattr(caption, "run_caption_plan", captioned)
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.setattr(sys, "stdout", FullStdout())
    assert taco.cli.main(["caption", str(folder), "--device", "cpu", "--quiet"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"taco caption: error: {FULL}"]
    # nothing left to caption: that line too
    assert taco.cli.main(["caption", str(folder), "--device", "cpu", "--quiet"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"taco caption: error: {FULL}"]


def test_demo_names_stdout_after_writing_its_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(taco.demo, "run_demo", lambda **kwargs: {})
    monkeypatch.setattr(taco.cli.demo, "demo_lines", lambda result: ["bpp 0.3"])
    monkeypatch.setattr(sys, "stdout", FullStdout())
    assert taco.cli.main(["demo", "-m", "elic-tiny", "-o", str(tmp_path / "dm")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"taco demo: error: {FULL}"


@pytest.mark.parametrize("output", [None, "b.json"])
def test_bench_report_names_stdout(output, monkeypatch):
    monkeypatch.setattr(sys, "stdout", FullStdout())
    with pytest.raises(OSError) as exc:
        bench_report_to(BenchConfig(output=output))("a table")
    assert exc.value.errno == errno.ENOSPC and exc.value.filename == "<stdout>"


def test_bench_json_on_stdout_reports_on_stderr(monkeypatch, capsys):
    bench_report_to(BenchConfig(output="-"))("a table")
    assert capsys.readouterr() == ("", "a table\n")


def test_bench_writes_its_json_file_before_a_table_that_cannot_be_printed(tmp_path, monkeypatch):
    """The table was printed first: with stdout full, the measurements never reached --json FILE."""
    cfg = BenchConfig(output=str(tmp_path / "b.json"))
    monkeypatch.setattr(sys, "stdout", FullStdout())
    with pytest.raises(OSError) as exc:
        write_result(cfg, {"runs": [1.5]}, bench_report_to(cfg), "a table")
    assert exc.value.filename == "<stdout>"
    assert json.loads((tmp_path / "b.json").read_text()) == {"runs": [1.5]}


def test_bench_says_its_table_then_where_it_wrote(tmp_path, capsys):
    cfg = BenchConfig(output=str(tmp_path / "b.json"))
    write_result(cfg, {"runs": [1.5]}, bench_report_to(cfg), "a table")
    assert capsys.readouterr().out.splitlines() == ["a table", f"wrote {tmp_path / 'b.json'}"]
    cfg = BenchConfig(output="-")
    write_result(cfg, {"runs": [1.5]}, bench_report_to(cfg), "a table")
    out, err = capsys.readouterr()
    assert err == "a table\n" and json.loads(out) == {"runs": [1.5]}
