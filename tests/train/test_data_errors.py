"""Training data that leaves nothing to train on is one line that says what to do (exit 2), not
a traceback; a text-guided model on photos without captions names `taco caption` and the
text-free preset; a joint loss over captions that are all empty is warned about."""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import pytest

from taco.cli import main as taco_main
from taco.errors import TacoWarning
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import Trainer, load_config
from taco.train.datasets import reads_text

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def train_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])


def _photos(tmp_path: Path, captions: list[dict] | None = None) -> Path:
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in sorted(SAMPLES.glob("*.png")):
        shutil.copy(p, photos / p.name)
    if captions is not None:
        (photos / "captions.jsonl").write_text("".join(json.dumps(c) + "\n" for c in captions))
    return photos


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_photos_all_smaller_than_the_crop(tmp_path, tiny, capsys):
    """The samples' shorter sides are 300-512 px: a crop of 1024 drops every one."""
    out = tmp_path / "run"
    assert train_main(["--set", *tiny(out, **ELIC), "crop=1024", "--max-steps", "1"]) == 2
    line = _one_error_line(capsys)
    assert "4 under 1024 px on the shorter side (skimage-astronaut.png" in line
    assert "--set data.small_images=upscale" in line and "crop=512" in line
    assert not out.exists()


@pytest.mark.parametrize("case", ["missing files", "empty captions", "all excluded", "no images"])
def test_nothing_left_to_train_on(tmp_path, tiny, capsys, case):
    if case == "missing files":
        root = _photos(tmp_path, [{"image": "nope.jpg", "captions": ["a photo"]}])
        extra, expected = [], "1 listed without an image file (nope.jpg)"
    elif case == "empty captions":
        names = [p.name for p in sorted(SAMPLES.glob("*.png"))]
        root = _photos(tmp_path, [{"image": n, "captions": []} for n in names])
        extra, expected = ["model=taco-minilm-tiny", "preset=taco"], "4 without captions"
    elif case == "all excluded":
        root = _photos(tmp_path, [])
        extra, expected = ['data.exclude=["*"]'], "4 excluded by ['*']"
    else:  # a folder of text files, for a model that needs no captions file
        root = tmp_path / "notes"
        root.mkdir()
        (root / "a.txt").write_text("not a photo")
        extra, expected = [], "no image files there"
    out = tmp_path / "run"
    argv = ["--set", *tiny(out, **ELIC), f"data.root={root}", *extra, "--max-steps", "1"]
    assert train_main(argv) == 2
    line = _one_error_line(capsys)
    assert "no images to use under" in line and expected in line, line


def test_a_text_model_on_photos_without_captions_says_what_to_do(tmp_path, tiny, capsys):
    photos = _photos(tmp_path)
    argv = ["--set", *tiny(tmp_path / "run", model="taco-minilm-tiny", k_j=0),
            f"data.root={photos}", "--max-steps", "1"]
    assert train_main(argv) == 2
    line = _one_error_line(capsys)
    assert f"no captions in {photos} (no captions.jsonl, no sidecar IMAGE.txt files)" in line
    assert f"taco caption {photos}" in line and "--set preset=elic model=elic-small" in line


def test_whether_the_model_reads_text_is_told_without_building_it(monkeypatch):
    """reads_text imported model_config from taco.train.model_setup, the module that builds
    models (torch.nn, the model registry's code), after model_config had moved to the torch-free
    taco.train.config: it now takes it from there."""
    monkeypatch.setitem(sys.modules, "taco.train.model_setup", None)  # importing it fails
    assert reads_text(load_config(overrides=["model=taco-tiny"])) is True
    assert reads_text(load_config(overrides=["model=elic-tiny", "preset=elic"])) is False


def test_a_joint_loss_over_empty_captions_warns(tmp_path, tiny):
    """ELIC on photos without captions trains with empty captions: a CLIP term (k_j > 0) then
    contrasts every image with the same empty text."""
    photos = _photos(tmp_path)
    overrides = tiny(tmp_path / "run", preset="elic", model="elic-tiny", **{"data.root": photos})
    with pytest.warns(TacoWarning, match="every training caption is empty"):
        Trainer(load_config(None, overrides))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(load_config(None, [*overrides, "k_j=0", f"out_dir={tmp_path / 'run2'}"]))


def test_the_smaller_crop_hint_says_a_batch_needs_batch_size_of_them(tmp_path, tiny, capsys):
    """Review M: following the crop hint could keep fewer photos than one batch; the hint says
    how many a batch needs (the samples' largest is 512 px, the others 300-480)."""
    out = tmp_path / "run"
    argv = ["--set", *tiny(out, **ELIC), "crop=1024", "batch_size=2", "--max-steps", "1"]
    assert train_main(argv) == 2
    line = _one_error_line(capsys)
    assert line.endswith("crop=512 keeps those of 512 px and more (a batch needs 2 of them, "
                         "or a smaller --set batch_size=N)"), line


def test_fewer_images_than_one_batch_says_what_to_do(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert train_main(["--set", *tiny(out, **ELIC), "batch_size=5", "--max-steps", "1"]) == 2
    line = _one_error_line(capsys)
    assert line.endswith("4 training images are fewer than one batch per process (1 x 5): "
                         "add images, or --set batch_size=N (at most 4 here)"), line


@pytest.mark.parametrize("name", ["my photos", "it's mine", "-photos"])
def test_the_taco_caption_command_suggested_works_pasted(tmp_path, monkeypatch, tiny, capsys, name):
    """``taco caption my photos`` pasted captions two folders, neither of them this one; each
    name is one word now, one starting with ``-`` no option (``./-photos``)."""
    import re
    import shlex

    from taco.cli import build_parser

    monkeypatch.chdir(tmp_path)
    photos = Path(name)
    _photos(tmp_path).rename(photos)
    argv = ["--set", *tiny(tmp_path / "run", model="taco-minilm-tiny", k_j=0),
            f"data.root={photos}", "--max-steps", "1"]
    assert train_main(argv) == 2
    line = _one_error_line(capsys)
    words = shlex.split(re.search(r"`(taco caption .*)` writes", line).group(1))[1:]
    assert Path(build_parser(words).parse_args(words).folder) == photos, line
