"""Session 37, LA: defects left from session 36.

1. ``taco import-captions -`` and :func:`taco.cli.files.refuse_stdin` worded the refusal of
   ``-`` twice, in two places; both now take it from :func:`taco.messages.stdin_refused`.
3. A folder whose only images are ``taco decompress``'s outputs beside their sources (which
   ``taco caption`` and ``taco evaluate`` leave out on purpose) said "no images in DIR" / "no
   images found" without saying why: it now names the decoded outputs it skipped.
4. ``taco plot RESULTS >&-``: what plot prints (the BD-rate table, the files written) is in the
   files it writes, so a closed stdout leaves it alone as it leaves ``taco compress -o FILE``
   (tests/test_closed_streams.py): exit 0, the files written, nothing said.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from taco.cli.files import refuse_stdin
from taco.errors import TacoError
from taco.evaluation.caption_plan import NoImagesError, plan_captions
from taco.evaluation.datasets import DatasetError, open_dataset
from taco.evaluation.import_captions import CaptionImportError, read_caption_json
from taco.messages import decoded_skipped, stdin_refused

ROOT = Path(__file__).resolve().parents[2]
WORDS = "-: taco plot does not read standard input: name a file (./- for a file named -)"


def test_the_refusal_of_dash_is_worded_in_one_place(tmp_path, monkeypatch):
    assert stdin_refused("plot") == WORDS
    with pytest.raises(TacoError) as cli:
        refuse_stdin(["-"], "plot")
    assert str(cli.value) == WORDS
    monkeypatch.chdir(tmp_path)  # no file named - here
    with pytest.raises(CaptionImportError) as lib:
        read_caption_json("-")
    assert str(lib.value) == stdin_refused("import-captions")


@pytest.fixture
def decoded_only(tmp_path: Path) -> Path:
    """A folder where taco decompress ran and the photos were taken away: a.taco, b.taco and
    their a.decoded.png, b.decoded.png."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.taco").write_bytes(b"x")
        Image.new("RGB", (8, 8)).save(folder / f"{name}.decoded.png")
    return folder


SKIPPED = ("; skipped 2 decoded outputs (*.decoded.png) of taco decompress beside their sources "
           "(a.decoded.png, b.decoded.png)")


def test_caption_names_the_decoded_outputs_it_skipped(decoded_only):
    with pytest.raises(NoImagesError) as exc:
        plan_captions(decoded_only)
    assert str(exc.value).startswith(f"no images in {decoded_only} (looked for ")
    assert str(exc.value).endswith(SKIPPED), exc.value


def test_evaluate_names_the_decoded_outputs_it_skipped(decoded_only):
    with pytest.raises(DatasetError) as exc:
        open_dataset(str(decoded_only))
    assert str(exc.value) == f"{decoded_only}: no images found{SKIPPED}"


def test_an_empty_folder_says_no_more_than_before(tmp_path):
    assert decoded_skipped(set()) == ""
    assert decoded_skipped({"x.decoded.png"}) == (
        "; skipped 1 decoded output (*.decoded.png) of taco decompress beside its source (x.decoded.png)")
    with pytest.raises(DatasetError) as exc:
        open_dataset(str(tmp_path))
    assert str(exc.value) == f"{tmp_path}: no images found"


def test_plot_with_stdout_closed_writes_its_files_as_compress_does(tmp_path, rd_folder):
    results = rd_folder(tmp_path)
    r = subprocess.run([sys.executable, "-m", "taco", "plot", str(results), "-o", f"{tmp_path / 'figs'}/",
                        "--metrics", "psnr", "--bootstrap", "0"],
                       stdout=None, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       preexec_fn=lambda: os.close(1), timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"})
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    table = (tmp_path / "figs" / "rd.bdrate.md").read_text(encoding="utf-8")
    assert "BD-rate" in table  # what it would have printed is in its file
    assert json.loads((tmp_path / "figs" / "rd.bdrate.json").read_text(encoding="utf-8"))
    assert (tmp_path / "figs" / "rd.png").is_file()
