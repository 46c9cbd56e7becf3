"""An output that is a loop of symbolic links (``ln -s loop.taco loop.taco``): taco compress and
decompress crashed with a traceback (RuntimeError: Symlink loop, from Path.resolve in
taco.cli.files.plan_outputs), with --force or without. Now each command refuses it in one line
naming it, exit 2, before any work (evaluate's and plot's: tests/evaluation/test_output_link_loops.py)."""

from __future__ import annotations

import sys

import pytest

from taco.cli import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX symbolic links")

CODE = ["--caption", "", "-m", "elic-tiny"]


@pytest.fixture
def coded(photos, tmp_path):
    assert main(["compress", str(photos / "a.png"), *CODE, "-o", str(tmp_path / "a.taco"), "--quiet"]) == 0
    return tmp_path / "a.taco"


@pytest.mark.parametrize("force", [[], ["-f"]], ids=["plain", "force"])
def test_compress_to_a_looping_link_is_one_line(photos, tmp_path, link_loops, force):
    loop = link_loops.make(tmp_path / "loop.taco")
    assert main(["compress", str(photos / "a.png"), *CODE, "-o", str(loop), *force]) == 2
    link_loops.assert_refused("compress", loop)
    assert loop.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["loop.taco", "photos"]


def test_compress_beside_its_source_to_a_looping_link_is_one_line(photos, link_loops):
    loop = link_loops.make(photos / "a.taco")
    assert main(["compress", str(photos / "a.png"), *CODE, "-f"]) == 2
    link_loops.assert_refused("compress", loop)


@pytest.mark.parametrize("force", [[], ["-f"]], ids=["plain", "force"])
def test_decompress_to_a_looping_link_is_one_line(coded, tmp_path, link_loops, force):
    loop = link_loops.make(tmp_path / "loop.png")
    assert main(["decompress", str(coded), "-m", "elic-tiny", "-o", str(loop), *force]) == 2
    link_loops.assert_refused("decompress", loop)
    out = tmp_path / "out"
    out.mkdir()
    loop = link_loops.make(out / "a.png")  # into a folder, where one output is a loop
    assert main(["decompress", str(coded), "-m", "elic-tiny", "-o", f"{out}/", *force]) == 2
    link_loops.assert_refused("decompress", loop)


@pytest.mark.parametrize("output", ["{}", "{}/", "{}/x.png", "{}/sub/"])
def test_an_output_folder_that_loops_is_one_line(coded, tmp_path, capsys, link_loops, output):
    loop = link_loops.make(tmp_path / "ld")
    assert main(["decompress", str(coded), "-m", "elic-tiny", "-o", output.format(loop)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (err[-1].startswith("taco decompress: error: ") and link_loops.reason in err[-1]
            and str(loop) in err[-1]), err
    assert not any("Traceback" in line for line in err), err
