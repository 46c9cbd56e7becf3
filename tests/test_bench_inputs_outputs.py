"""``taco bench --images`` takes any path that exists (a folder, a pipe, a device: the image
reader says what is wrong with it, or reads a pipe), ``-`` reads standard input as ``taco
compress -`` does, and ``--json -`` writes the JSON to standard output, nothing else there."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from taco import cli
from taco.bench import latency
from taco.bench.inputs import image_path, load_inputs
from taco.images import FOLDER_NOT_IMAGE, ImageReadError


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 30, 90)).save(buf, format="PNG")
    return buf.getvalue()


class _Stdin:
    """A piped standard input: not a terminal, its bytes in ``buffer``."""

    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)

    def isatty(self) -> bool:
        return False


def test_a_folder_is_the_image_readers_refusal_not_a_missing_sample(tmp_path):
    # in load_image's words, and before the model loads (image_path imports no torch)
    with pytest.raises(ImageReadError, match=f"^cannot read image '{tmp_path}': {FOLDER_NOT_IMAGE}$"):
        image_path(str(tmp_path))
    with pytest.raises(ImageReadError, match=FOLDER_NOT_IMAGE):
        load_inputs([str(tmp_path)], 0)


def test_a_folder_or_dangling_link_of_a_samples_name_does_not_hide_the_sample(tmp_path, monkeypatch):
    from taco.samples import SAMPLES_DIR

    monkeypatch.chdir(tmp_path)
    (tmp_path / "skimage-chelsea.png").mkdir()
    (tmp_path / "skimage-coffee.png").symlink_to(tmp_path / "gone")
    assert image_path("skimage-chelsea.png") == SAMPLES_DIR / "skimage-chelsea.png"
    assert image_path("skimage-coffee.png") == SAMPLES_DIR / "skimage-coffee.png"
    (tmp_path / "other.png").symlink_to(tmp_path / "gone")  # no sample: load_image says what it is
    assert image_path("other.png") == Path("other.png")


def test_a_pipe_is_read(tmp_path):
    """``--images <(cat x.png)``: /dev/fd/N, a pipe, read as a stream."""
    r, w = os.pipe()
    data = _png()

    def feed():
        with os.fdopen(w, "wb") as f:
            f.write(data)

    t = threading.Thread(target=feed)
    t.start()
    try:
        [(name, x, caption)] = load_inputs([f"/dev/fd/{r}"], 0)
    finally:
        t.join()
        os.close(r)
    assert name == str(r) and caption == "a photo"
    assert tuple(x.shape[:2]) == (1, 3)


def test_a_missing_name_is_still_no_file_and_not_a_sample(tmp_path):
    with pytest.raises(ImageReadError, match="no such file, and not a sample"):
        image_path(str(tmp_path / "nosuch.png"))


def test_dash_reads_standard_input(monkeypatch):
    monkeypatch.setattr("sys.stdin", _Stdin(_png()))
    [(name, x, caption)] = load_inputs(["-"], 0)
    assert name == "<stdin>" and caption == "a photo"
    assert x.shape[0] == 1 and x.shape[1] == 3


def test_dash_beside_other_images_is_refused_as_compress_refuses_it(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", _Stdin(_png()))
    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: pytest.fail("the bench ran"))
    assert cli.main(["bench", "--quick", "--device", "cpu", "--images", "-", "skimage-astronaut.png"]) == 2
    assert capsys.readouterr().err.strip() == "taco bench: error: - (standard input) must be the only input"


def test_json_dash_writes_the_json_to_standard_output_and_the_table_to_stderr(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: {"results": [1.5]})
    monkeypatch.setattr("taco.bench.report.format_table", lambda result: "the table")
    assert cli.main(["bench", "--quick", "--device", "cpu", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"results": [1.5]}
    assert "the table" in err and "wrote" not in out + err
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(("option", "typo", "meant"), [
    ("--taco-model", "taco-minilm-smal", "taco-minilm-small"),
    ("--elic-model", "elic-smal", "elic-small"),
])
def test_a_mistyped_architecture_gets_did_you_mean(option, typo, meant, capsys):
    assert cli.main(["bench", "--quick", "--device", "cpu", option, typo]) == 2
    err = capsys.readouterr().err.strip()
    assert f"(did you mean '{meant}'" in err and len(err.splitlines()) == 1, err
