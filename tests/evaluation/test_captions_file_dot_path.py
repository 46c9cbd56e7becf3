"""``--captions-file ./NAME`` is a path of its own (relative to the current folder), not a name
inside the dataset folder: ``Path("./x.jsonl").parts`` is ``("x.jsonl",)``, so the folder part
has to be read from the string as typed (taco.evaluation.datasets.captions_file_is_path)."""

from __future__ import annotations

import pytest

import taco.cli
from taco.evaluation.datasets import DatasetError, captions_file_is_path, open_dataset


@pytest.mark.parametrize(("name", "is_path"), [
    ("ofa.jsonl", False), ("captions-blip2.jsonl", False),
    ("./ofa.jsonl", True), ("sub/ofa.jsonl", True), ("../ofa.jsonl", True),
    ("/data/ofa.jsonl", True), ("~/ofa.jsonl", True),
])
def test_captions_file_is_path(name, is_path):
    assert captions_file_is_path(name) is is_path


def test_dot_slash_captions_file_is_read_from_the_current_folder(tiny_folder, tmp_path, monkeypatch):
    (tiny_folder / "captions.jsonl").rename(tmp_path / "ofa.jsonl")
    monkeypatch.chdir(tmp_path)
    ds = open_dataset(f"clic:{tiny_folder}", captions_file="./ofa.jsonl")
    assert ds.captioned and len(ds) == 4
    assert ds.all_captions[0][0].startswith("A smiling astronaut")
    # a bare name is still a file inside the dataset folder, where there is none
    with pytest.raises(DatasetError, match=f"{tiny_folder}/ofa.jsonl: no such captions file"):
        open_dataset(f"clic:{tiny_folder}", captions_file="ofa.jsonl")


def test_dot_slash_captions_file_means_one_dataset_per_call(tiny_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.chdir(tiny_folder)
    rc = taco.cli.main(["evaluate", str(tiny_folder), f"kodak:{tiny_folder}", "-m", "elic-tiny",
                        "-o", str(tmp_path / "out"), "--captions-file", "./captions.jsonl"])
    assert rc == 2
    assert "is a path, which would caption every dataset alike" in capsys.readouterr().err


def test_a_missing_path_that_is_inside_the_dataset_folder_says_so(tiny_folder, tmp_path, monkeypatch):
    """``--captions sub/blip.jsonl`` is a path of its own (from the current folder); where it is
    missing and the dataset folder holds ``sub/blip.jsonl``, the refusal gives that path."""
    (tiny_folder / "sub").mkdir()
    (tiny_folder / "captions.jsonl").rename(tiny_folder / "sub" / "blip.jsonl")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as info:
        open_dataset(f"clic:{tiny_folder.name}", captions_file="sub/blip.jsonl")
    assert str(info.value) == (f"sub/blip.jsonl: no such captions file ({tiny_folder.name}/sub/blip.jsonl "
                               "exists: give that path)")
    with pytest.raises(DatasetError, match="no such captions file$"):  # in neither
        open_dataset(f"clic:{tiny_folder.name}", captions_file="other/blip.jsonl")
    ds = open_dataset(f"clic:{tiny_folder.name}", captions_file=f"{tiny_folder.name}/sub/blip.jsonl")
    assert ds.captioned and len(ds) == 4


def test_a_folder_given_as_the_captions_file_says_it_is_a_folder(tiny_folder, tmp_path, monkeypatch):
    """``--captions sub`` naming a folder was ``ROOT/sub: no such captions file``: it exists, as a
    folder. Its captions.jsonl, where it holds one, is the path to give (from the current folder)."""
    monkeypatch.chdir(tmp_path)
    root = tiny_folder.name  # relative, as typed
    (tiny_folder / "sub").mkdir()
    with pytest.raises(DatasetError) as info:  # a bare name: inside the dataset folder
        open_dataset(root, captions_file="sub")
    assert str(info.value) == f"{root}/sub: a folder, not a captions file"
    (tiny_folder / "captions.jsonl").rename(tiny_folder / "sub" / "captions.jsonl")
    with pytest.raises(DatasetError) as info:
        open_dataset(root, captions_file="sub")
    assert str(info.value) == (f"{root}/sub: a folder, not a captions file "
                               f"({root}/sub/captions.jsonl exists: give that path)")
    with pytest.raises(DatasetError) as info:  # a path of its own
        open_dataset(root, captions_file=f"./{root}/sub")
    assert str(info.value) == (f"{root}/sub: a folder, not a captions file "
                               f"({root}/sub/captions.jsonl exists: give that path)")
    ds = open_dataset(root, captions_file=f"{root}/sub/captions.jsonl")  # the path it gave
    assert ds.captioned and len(ds) == 4
    # the official coco30k protocol reads its images' list from the captions file: the same
    with pytest.raises(DatasetError, match=r"/sub: a folder, not a captions file \(.*sub/captions.jsonl exists"):
        open_dataset(f"coco30k:{root}", captions_file="sub", coco30k_protocol="official")


def test_a_folder_given_as_the_captions_file_on_the_command_line(tiny_folder, tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.chdir(tmp_path)
    (tiny_folder / "sub").mkdir()
    (tiny_folder / "captions.jsonl").rename(tiny_folder / "sub" / "captions.jsonl")
    out = tmp_path / "out"
    assert taco.cli.main(["evaluate", tiny_folder.name, "-m", "elic-tiny", "-o", str(out),
                          "--captions", "sub"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"taco evaluate: error: {tiny_folder.name}/sub: a folder, not a captions file "
        f"({tiny_folder.name}/sub/captions.jsonl exists: give that path)")
