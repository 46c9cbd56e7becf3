"""One rule for an image's captions (taco.captions_file.CaptionLookup), used by taco compress,
taco evaluate and taco train alike: a captions file named on purpose alone, else the image's
sidecar IMAGE.txt, else its folder's captions.jsonl."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taco.captions_file import CaptionLookup, CaptionsFileError, folder_captions, has_captions
from taco.cli.common import CLIError
from taco.cli.inputs import CaptionSource, uncaptioned_note
from taco.data import CaptionedFolder, SkippedImageWarning
from taco.evaluation.datasets import DatasetError, open_dataset

pytestmark = pytest.mark.filterwarnings("ignore::taco.data.SkippedImageWarning")  # d.png, uncaptioned

NAMES = ("a.png", "b.png", "c.png", "d.png")


def _photo(path: Path) -> None:
    rng = np.random.default_rng(len(path.name))
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)


def _jsonl(path: Path, captions: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"image": n, "captions": [c]}) + "\n" for n, c in captions.items()),
                    encoding="utf-8")
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """Four photos: a.png in named.jsonl, a and b with sidecars, a, b and c in captions.jsonl,
    d captioned nowhere."""
    root = tmp_path / "photos"
    root.mkdir()
    for name in NAMES:
        _photo(root / name)
    _jsonl(root / "named.jsonl", {"a.png": "named a"})
    (root / "a.txt").write_text("sidecar a\n", encoding="utf-8")
    (root / "b.txt").write_text("  sidecar b  \n", encoding="utf-8")
    _jsonl(root / "captions.jsonl", {"a.png": "folder a", "b.png": "folder b", "c.png": "folder c"})
    return root


def _sidecars_only(tmp_path: Path) -> Path:
    root = tmp_path / "sidecars"
    root.mkdir()
    for name in NAMES[:3]:
        _photo(root / name)
        (root / name).with_suffix(".txt").write_text(f"a photo called {name[0]}", encoding="utf-8")
    return root


# the expected captions: by the named file alone; without one, sidecars, then captions.jsonl
NAMED = {"a.png": "named a"}
DEFAULT = {"a.png": "sidecar a", "b.png": "sidecar b", "c.png": "folder c"}


def _compress_captions(root: Path, named: str | None) -> dict[str, str | None]:
    source = CaptionSource(None, named)
    return {n: source(root / n) for n in NAMES}


def _eval_captions(root: Path, named: str | None) -> dict[str, str]:
    ds = open_dataset(str(root), captions_file=named)
    return {r.file: r.captions[0] for r in ds.listing}


def _train_captions(root: Path, named: str | None) -> dict[str, str]:
    with pytest.warns(UserWarning, match=f"{3 if named else 1} without captions"):  # b, c, d / d
        ds = CaptionedFolder(root, named)
    return {r.file: r.captions[0] for r in ds.records}


def test_the_rule(photos):
    """A named file is the only source; without one a sidecar wins over the folder's
    captions.jsonl, which captions the images without a sidecar."""
    named, default = CaptionLookup(photos / "named.jsonl"), CaptionLookup()
    assert [named.find(photos, n) for n in NAMES] == [(("named a",), "named"), None, None, None]
    assert [default.find(photos, n) for n in NAMES] == [
        (("sidecar a",), "sidecar"), (("sidecar b",), "sidecar"), (("folder c",), "folder"), None]


def test_a_named_file_is_the_only_source(photos, tmp_path, capsys):
    """A named file lists a.png, not b.png; b has a sidecar and the folder's captions.jsonl
    lists it: b has no caption (a caption-source study mixes in no other source's captions)."""
    named = photos / "named.jsonl"
    assert CaptionLookup(named).find(photos, "b.png") is None
    assert CaptionSource(None, str(named))(photos / "b.png") is None
    assert "b.png" not in _eval_captions(photos, str(named))
    assert "b.png" not in _train_captions(photos, str(named))
    assert folder_captions(photos, NAMES, named).counts == {"named": 1}
    # compress codes b without a caption, and its note points at the named file, not a sidecar
    from taco.cli import main

    out = tmp_path / "out"
    assert main(["compress", str(photos / "a.png"), str(photos / "b.png"), "--captions", str(named),
                 "-m", "taco-tiny", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{photos / 'b.png'} has no caption, so it is coded without one" in err
    assert f"--captions {named}, the only source of captions when given, has none for it" in err
    assert "sidecar" not in err
    assert "a sidecar b.txt" in uncaptioned_note([photos / "b.png"], [None])  # none named


@pytest.mark.parametrize("reader", [_compress_captions, _eval_captions, _train_captions],
                         ids=["compress", "evaluate", "train"])
def test_every_command_finds_captions_by_the_one_rule(photos, reader):
    named = str(photos / "named.jsonl")
    found = reader(photos, named)
    assert {n: c for n, c in found.items() if c is not None} == NAMED
    found = reader(photos, None)
    assert {n: c for n, c in found.items() if c is not None} == DEFAULT


def test_a_folder_captioned_by_sidecars_alone_evaluates_and_trains_with_them(tmp_path):
    root = _sidecars_only(tmp_path)
    ds = open_dataset(str(root))
    assert ds.captioned and ds.caption_source == "sidecar IMAGE.txt files (3 images)"
    assert [r.captions for r in ds.listing] == [("a photo called a",), ("a photo called b",),
                                                ("a photo called c",)]
    train = CaptionedFolder(root)
    assert [r.captions for r in train.records] == [r.captions for r in ds.listing]
    assert has_captions(root, ["a.png"]) and not has_captions(root, ["x.png"])


def test_evaluate_says_where_each_images_captions_came_from(photos):
    assert _eval_captions(photos, None) == DEFAULT  # d.png (uncaptioned) is skipped
    assert open_dataset(str(photos)).caption_source == (
        "sidecar IMAGE.txt files (2 images), captions.jsonl (1 image; first caption)")
    assert open_dataset(str(photos), captions_file="named.jsonl").caption_source == "named.jsonl (first caption)"


def test_a_named_file_that_is_not_there_is_an_error_not_other_captions(photos):
    with pytest.raises(DatasetError, match="no-such.jsonl: no such captions file"):
        open_dataset(str(photos), captions_file="no-such.jsonl")
    with pytest.raises(FileNotFoundError, match="no-such.jsonl"):
        CaptionedFolder(photos, "no-such.jsonl")
    with pytest.raises(CLIError, match="no-such.jsonl: no such captions file$"):
        CaptionSource(None, str(photos / "no-such.jsonl"))


def test_no_captions_anywhere(tmp_path):
    root = tmp_path / "bare"
    root.mkdir()
    _photo(root / "a.png")
    ds = open_dataset(str(root))
    assert not ds.captioned and "no captions.jsonl, no sidecar IMAGE.txt files" in ds.caption_source
    with pytest.raises(FileNotFoundError, match="no captions in .*no captions.jsonl, no sidecar"):
        CaptionedFolder(root)
    # a model that reads no text: every image, with an empty caption
    assert [r.captions for r in CaptionedFolder(root, captions_needed=False).records] == [("",)]


def test_an_empty_sidecar_holds_no_caption(photos):
    (photos / "a.txt").write_text(" \n", encoding="utf-8")
    assert CaptionSource(None, None)(photos / "a.png") == "folder a"  # it was "" (no note said so)
    assert CaptionLookup().find(photos, "a.png") == (("folder a",), "folder")
    (photos / "captions.jsonl").unlink()
    assert CaptionSource(None, None)(photos / "a.png") is None
    assert CaptionLookup().find(photos, "a.png") is None


def test_a_sidecar_keeps_its_whole_text_but_not_a_byte_order_mark(tmp_path):
    (tmp_path / "a.txt").write_bytes("\ufefftwo\nlines \n".encode())  # as Windows Notepad writes it
    assert CaptionSource(None, None)(tmp_path / "a.png") == "two\nlines"
    assert CaptionLookup().find(tmp_path, "a.png") == (("two\nlines",), "sidecar")


@pytest.mark.parametrize("bad", [b"caf\xe9 not utf-8", None], ids=["not UTF-8", "unreadable"])
def test_a_bad_sidecar_is_a_clear_error_naming_it_everywhere(photos, bad, monkeypatch):
    """compress and train stop on it; evaluate leaves its image out, saying why in the same words
    (every codec then compares the same images)."""
    sidecar = photos / "b.txt"
    if bad is None:  # as a file without read permission (root reads any file, so a stand-in)
        open_path = Path.open

        def refused(self, *args, **kwargs):
            if self.name == "b.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return open_path(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refused)
    else:
        sidecar.write_bytes(bad)
    why = "Permission denied" if bad is None else "not readable UTF-8 text"  # not its text's fault
    message = f"{sidecar}: cannot read the caption ({why})"
    with pytest.raises(CLIError) as compress:
        CaptionSource(None, None)(photos / "b.png")
    with pytest.warns(SkippedImageWarning, match=re.escape(message)):
        dataset = open_dataset(str(photos))
    assert "b.png" not in [r.file for r in dataset.images.records]
    with pytest.raises(CaptionsFileError) as train:
        CaptionedFolder(photos)
    assert str(compress.value) == str(train.value) == message
    # a named file, the only source, never reads the sidecar, whether it captions b.png or not
    assert CaptionSource(None, str(photos / "named.jsonl"))(photos / "b.png") is None
    _jsonl(photos / "named.jsonl", {"b.png": "named b"})
    assert CaptionSource(None, str(photos / "named.jsonl"))(photos / "b.png") == "named b"


def test_a_folder_is_listed_once_not_stat_per_image(tmp_path, monkeypatch):
    import taco.captions_file as captions_file

    names = [f"{i:03d}.png" for i in range(200)]
    for name in names[::2]:
        (tmp_path / name).with_suffix(".txt").write_text(name, encoding="utf-8")
    listed = []
    real_scandir = os.scandir
    monkeypatch.setattr(captions_file.os, "scandir", lambda p: listed.append(p) or real_scandir(p))
    monkeypatch.setattr(Path, "is_file", lambda self: pytest.fail(f"stat of {self}"))
    found = folder_captions(tmp_path, names)
    assert found.counts == {"sidecar": 100} and len(listed) == 1


def test_the_captions_file_setting_says_not_given_by_default():
    """evaluate's and training's captions-file settings default to "none named", so sidecars count."""
    from taco.evaluation.evaluate import EvalConfig
    from taco.train.config import TrainConfig

    assert EvalConfig(datasets=["samples"]).captions_file is None
    assert TrainConfig().data.captions is None and TrainConfig().val.captions is None


def test_taco_train_takes_a_folder_captioned_by_sidecars(tmp_path):
    """The training run's check for captions counts sidecars (it asked for captions.jsonl)."""
    from taco.train.config import load_config
    from taco.train.trainer import training_data

    root = _sidecars_only(tmp_path)
    cfg = load_config(None, ["model=taco-minilm-tiny", f"data.root={root}", "crop=64",
                             f"val.root={root}", "val.crop=64"])
    train, val = training_data(cfg, validation=True)
    assert sorted(c for r in train.records for c in r.captions) == [
        "a photo called a", "a photo called b", "a photo called c"]
    assert val is not None and len(val) == 3


class _Captioner:
    name = "stub"

    def __call__(self, images):
        return ["machine words"] * len(images)


def test_taco_caption_leaves_sidecar_captions_alone_in_captions_jsonl(tmp_path):
    """Into the folder's captions.jsonl, an image with a sidecar caption is not captioned again
    (its sidecar wins there); into a named file (a caption-source study) every image is."""
    from taco.evaluation.caption import caption_folder

    root = _sidecars_only(tmp_path)
    _photo(root / "d.png")
    report = caption_folder(root, _Captioner(), progress=False)
    assert (report.written, report.already) == (1, 3)
    assert [json.loads(line)["image"] for line in (root / "captions.jsonl").read_text().splitlines()] == ["d.png"]
    assert caption_folder(root, _Captioner(), output="captions-stub.jsonl", progress=False).written == 4


def test_a_captions_file_missing_here_but_in_an_input_folder_is_named(tmp_path, monkeypatch):
    """``taco compress small --captions captions.jsonl`` reads the file here (unlike evaluate and
    train, inside the dataset folder): missing here but in ``small``, the refusal names that one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "captions.jsonl").write_text('{"image": "a.png", "captions": ["a cat"]}\n')
    with pytest.raises(CLIError) as info:
        CaptionSource(None, "captions.jsonl", folders=["elsewhere", "small"])
    assert str(info.value) == ("captions.jsonl: no such captions file (small/captions.jsonl exists: "
                               "give that path)")
    with pytest.raises(CLIError, match="captions.jsonl: no such captions file$"):  # in no input folder
        CaptionSource(None, "captions.jsonl", folders=["elsewhere"])
    odd = tmp_path / "a\nb"
    odd.mkdir()
    (odd / "caps.jsonl").write_text("")
    with pytest.raises(CLIError) as info:  # a folder's name is shown escaped, on one line
        CaptionSource(None, "caps.jsonl", folders=[odd.name])
    assert str(info.value) == r"caps.jsonl: no such captions file (a\nb/caps.jsonl exists: give that path)"
    assert CaptionSource(None, "small/captions.jsonl", folders=["small"]).captions_file == "small/captions.jsonl"


def test_taco_compress_names_the_captions_file_in_the_folder_given(tmp_path, monkeypatch, capsys):
    """``taco compress small --captions captions.jsonl`` with only small/captions.jsonl: the
    refusal says which path to give; ``--captions-file`` is the same option, as in taco evaluate."""
    from taco.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "small").mkdir()
    _photo(tmp_path / "small" / "a.png")
    (tmp_path / "small" / "captions.jsonl").write_text('{"image": "a.png", "captions": ["a cat"]}\n')
    for option in ("--captions", "--captions-file"):
        assert main(["compress", "small", option, "captions.jsonl", "-o", "o1/"]) == 2
        assert capsys.readouterr().err.strip() == (
            "taco compress: error: captions.jsonl: no such captions file (small/captions.jsonl "
            "exists: give that path)")
    assert not (tmp_path / "o1").exists()


def test_only_a_file_in_an_input_folder_is_named_for_a_missing_captions_file(tmp_path, monkeypatch):
    """A folder of that name inside an input folder, or an input that is a file, is no captions
    file to point to: the refusal ends as it does without one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "captions.jsonl").mkdir()
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    for folders in (["small"], ["photo.png"]):
        with pytest.raises(CLIError, match="captions.jsonl: no such captions file$"):
            CaptionSource(None, "captions.jsonl", folders=folders)


@pytest.mark.parametrize("name", ["my photos", "it's mine", "-photos"])
def test_no_captions_names_a_taco_caption_command_that_works_pasted(tmp_path, monkeypatch, name):
    """An evaluation's caption source said ``write captions.jsonl with `taco caption my
    photos```, two folders pasted: the folder is one word now (``./-photos``: no option)."""
    import shlex

    from taco.cli import build_parser

    monkeypatch.chdir(tmp_path)
    Path(name).mkdir()
    _photo(Path(name) / "a.png")
    ds = open_dataset(name)
    words = shlex.split(re.search(r"`(taco caption .*)`", ds.caption_source).group(1))[1:]
    assert Path(build_parser(words).parse_args(words).folder) == Path(name), ds.caption_source
