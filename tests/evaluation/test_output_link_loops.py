"""taco evaluate's and taco plot's outputs that are a loop of symbolic links (``ln -s rd.png
rd.png``), with --force or without: one line naming the file, exit 2, no traceback, as taco
compress and decompress now say it (tests/test_link_loops.py)."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX symbolic links")

@pytest.mark.parametrize("name", ["jpeg.json", "jpeg.csv"])
def test_an_evaluate_result_that_loops_is_one_line(taco_main, tiny_folder, tmp_path, link_loops, capsys, name):
    """A result's name is taco's own in its dataset folder: a loop there is a symbolic link,
    refused as any link is before any work (tests/evaluation/test_own_files_links.py)."""
    out = tmp_path / "ev"
    (out / "photos").mkdir(parents=True)
    loop = link_loops.make(out / "photos" / name)
    assert taco_main(["evaluate", str(tiny_folder), "-o", str(out), "--classic", "jpeg", "--qualities",
                      "jpeg=50", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"taco evaluate: error: {loop} is a symbolic link (to {name}): "), err
    assert not any("Traceback" in line for line in err), err
    assert loop.is_symlink()


@pytest.mark.parametrize("force", [[], ["-f"]], ids=["plain", "force"])
def test_a_plot_output_that_loops_is_one_line(taco_main, rd_folder, tmp_path, link_loops, force):
    folder = rd_folder(tmp_path / "runs")
    loop = link_loops.make(tmp_path / "rd.png")
    assert taco_main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--bootstrap", "0", *force]) == 2
    link_loops.assert_refused("plot", loop)
    assert loop.is_symlink()
