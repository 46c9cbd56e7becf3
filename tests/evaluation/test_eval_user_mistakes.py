"""``taco evaluate``'s answers to a mistaken DATASET or --limit, and its summary's caveats: an
unreliable FID says so on stdout, one image is "1 image"."""

from __future__ import annotations

import json

import numpy as np
import pytest

from taco.evaluation.cli import print_summary
from taco.evaluation.datasets import DatasetError, open_dataset


def _summary(tmp_path, capsys, point, mode="256x256 patches, grid + grid shifted by 128 px"):
    result = {"format": "taco-eval", "version": 1, "label": "m", "kind": "classic",
              "dataset": {"name": "photos"}, "points": [point],
              "set_metrics": {"fid": {"computed": True, "mode": mode}}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(result))
    print_summary([path])
    return capsys.readouterr().out.splitlines()[0]


def test_an_fid_from_too_few_samples_says_so_on_stdout(tmp_path, capsys):
    """An FID from 3-6 patches was printed as an ordinary number (only the JSON said
    "reliable": false); the image count said "(1 images)"."""
    point = {"images": 1, "bpp": 0.4, "fid": 451.581, "fid_samples": 3}
    assert _summary(tmp_path, capsys, point) == (
        "m on photos (1 image): bpp 0.4000, fid 451.5810 (3 patches, unreliable)")
    point = {"images": 2, "bpp": 0.4, "fid": 139.4, "fid_samples": 2}
    assert _summary(tmp_path, capsys, point, mode="whole images resized to 299x299").endswith(
        "(2 images): bpp 0.4000, fid 139.4000 (2 images, unreliable)")
    point = {"images": 1, "bpp": 0.4, "fid": 500.0, "fid_samples": 1}
    assert _summary(tmp_path, capsys, point).endswith("fid 500.0000 (1 patch, unreliable)")
    point = {"images": 2048, "bpp": 0.4, "fid": 3.5, "fid_samples": 2048}  # enough: no caveat
    assert _summary(tmp_path, capsys, point, mode="whole images resized to 299x299").endswith(
        "(2,048 images): bpp 0.4000, fid 3.5000")


def test_limit_below_one_names_the_flag_and_the_library_its_parameter(taco_main, tiny_folder,
                                                                     tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        taco_main(["evaluate", str(tiny_folder), "-m", "elic-tiny", "--limit", "0",
                   "-o", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "taco evaluate: error: argument --limit: must be at least 1, got 0")
    assert not (tmp_path / "out").exists()
    with pytest.raises(DatasetError, match=r"^limit must be at least 1, got -2$"):
        open_dataset(str(tiny_folder), limit=-2)


@pytest.mark.parametrize("limit, kind", [(2.0, "float"), (True, "bool"), ("2", "str")])
def test_a_limit_that_is_no_integer_is_a_type_error(tiny_folder, limit, kind):
    """limit=2.0 was a TypeError about slice indices, limit=True taken as 1 image."""
    with pytest.raises(TypeError, match=rf"^open_dataset: limit must be an integer \(how many images\) or None "
                                        rf"\(every image\), not {kind}$"):
        open_dataset(str(tiny_folder), limit=limit)


def test_a_numpy_limit_is_taken_as_an_int(tiny_folder):
    ds = open_dataset(str(tiny_folder), limit=np.int64(1))
    assert len(ds) == 1 and type(ds.limit) is int  # recorded in the results JSON


@pytest.mark.parametrize("name, says", [
    ("r.taco", "a .taco file, not a dataset (a folder of images, kodak:DIR, clic:DIR, coco30k:ROOT, "
               "coco40k:ROOT or samples); `taco info` and `taco decompress` read .taco files"),
    ("photo.png", "an image file, not a dataset (a folder of images, kodak:DIR, clic:DIR, "
                  "coco30k:ROOT, coco40k:ROOT or samples); put the image in a folder of its own"),
    ("notes.txt", "a file, not a dataset (a folder of images, kodak:DIR, clic:DIR, coco30k:ROOT, "
                  "coco40k:ROOT or samples)"),
])
def test_a_file_given_as_the_dataset_says_what_a_dataset_is(taco_main, tiny_folder, tmp_path,
                                                             capsys, name, says):
    """A file given as DATASET was 'no such folder' (an image file did not work either)."""
    path = tmp_path / name
    path.write_bytes((tiny_folder / "skimage-coffee.png").read_bytes() if name.endswith(".png") else b"x")
    assert taco_main(["evaluate", str(path), "-m", "elic-tiny", "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"error: {path}: {says}")
    with pytest.raises(DatasetError, match="not a dataset"):  # kodak:FILE the same
        open_dataset(f"kodak:{path}")


@pytest.mark.parametrize("kind, where", [("kodak", "DIR"), ("clic", "DIR"), ("folder", "DIR"),
                                         ("coco30k", "ROOT"), ("coco40k", "ROOT")])
def test_a_kind_naming_no_folder_is_refused(taco_main, tiny_folder, tmp_path, monkeypatch, capsys,
                                            kind, where):
    """``kodak:"$UNSET"`` is ``kodak:``: its empty folder was ``Path("")``, the current folder,
    whose photos were evaluated and filed as the Kodak set (the coco ones failed later, on a
    missing ``dataset_coco.json``)."""
    says = f"{kind}: names no folder: give {kind}:{where} (the current folder is {kind}:.)"
    monkeypatch.chdir(tiny_folder)  # a folder of photos, as in the report
    with pytest.raises(DatasetError) as info:
        open_dataset(f"{kind}:")
    assert str(info.value) == says
    out = tmp_path / "out"
    assert taco_main(["evaluate", f"{kind}:", "-m", "elic-tiny", "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"taco evaluate: error: {says}"
    assert not out.exists()


def test_an_empty_dataset_name_is_refused_by_the_library_too(tiny_folder, monkeypatch):
    """The command line's path_arg refuses ``taco evaluate ""``; open_dataset("") opened the
    current folder."""
    monkeypatch.chdir(tiny_folder)
    with pytest.raises(DatasetError, match=r"^empty dataset name: give a folder, KIND:DIR or samples "
                                           r"\(the current folder is \.\)$"):
        open_dataset("")
    assert len(open_dataset("samples:")) == len(open_dataset("samples"))  # samples names no folder
