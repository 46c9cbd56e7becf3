"""taco evaluate's and taco plot's outputs that are a loop of symbolic links (``ln -s rd.png
rd.png``), with --force or without: one line naming the file, exit 2, no traceback, as taco
compress and decompress now say it (tests/test_link_loops.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX symbolic links")

LOOP = "too many levels of symbolic links"


def _loop(path: Path) -> Path:
    path.symlink_to(path.name)
    return path


def _one_line_error(capsys, command: str, path: Path) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"taco {command}: error: {path}: {LOOP}"), err
    assert not any("Traceback" in line for line in err), err


@pytest.mark.parametrize("name", ["jpeg.json", "jpeg.csv"])
def test_an_evaluate_result_that_loops_is_one_line(taco_main, tiny_folder, tmp_path, capsys, name):
    out = tmp_path / "ev"
    (out / "photos").mkdir(parents=True)
    loop = _loop(out / "photos" / name)
    assert taco_main(["evaluate", str(tiny_folder), "-o", str(out), "--classic", "jpeg", "--qualities",
                      "jpeg=50", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet"]) == 2
    _one_line_error(capsys, "evaluate", loop)
    assert loop.is_symlink()


@pytest.mark.parametrize("force", [[], ["-f"]], ids=["plain", "force"])
def test_a_plot_output_that_loops_is_one_line(taco_main, rd_folder, tmp_path, capsys, force):
    folder = rd_folder(tmp_path / "runs")
    loop = _loop(tmp_path / "rd.png")
    assert taco_main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--bootstrap", "0", *force]) == 2
    _one_line_error(capsys, "plot", loop)
    assert loop.is_symlink()
