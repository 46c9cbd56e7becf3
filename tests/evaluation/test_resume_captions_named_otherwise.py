"""A model run's results resume when the same captions file is named another
way (``--captions ./caps.jsonl``, then its absolute path, from another folder, or an identical
copy), also results written by an earlier taco that recorded the name as typed in
``run.dataset.caption_source``; and a dataset whose files lost their modification times (``cp
-r``, tar, zip) is refused in words that say so and how to give them back."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from taco.evaluation.classic import evaluate_codec, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import evaluate_model, load_model
from taco.evaluation.runner import ResultsFileError

#: taco.evaluation.results.NAMES_SIZES: the result's dataset digest of names, sizes and captions
NAMES_SIZES = "names_sizes"


@pytest.fixture(scope="module")
def tiny_model():
    return load_model("taco-tiny")


def _captioned(tmp_path: Path, folder_factory) -> tuple[Path, Path]:
    """A folder of 4 photos without captions of its own, and a captions file beside it."""
    root = folder_factory(tmp_path / "photos")
    caps = tmp_path / "caps.jsonl"
    (root / "captions.jsonl").rename(caps)
    return root, caps


def _model_run(model_info, root: Path, captions: str, out: Path) -> dict:
    model, info = model_info
    path = evaluate_model(model, info, open_dataset(str(root), captions_file=captions), out,
                          progress=False)
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_same_captions_file_named_another_way_resumes(tiny_model, tmp_path, folder_factory,
                                                          monkeypatch):
    root, caps = _captioned(tmp_path, folder_factory)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    first = _model_run(tiny_model, Path("photos"), "./caps.jsonl", out)
    assert first["complete"] and first["timing"]["images_timed"] == 4
    assert "caption_source" not in first["run"]["dataset"]  # the name as typed is not compared
    assert first["dataset"]["caption_source"] == "./caps.jsonl (first caption)"  # but recorded

    copy = tmp_path / "elsewhere" / "copy.jsonl"
    copy.parent.mkdir()
    shutil.copyfile(caps, copy)
    monkeypatch.chdir(copy.parent)  # another cwd, an absolute path; then an identical copy
    for named in (str(caps), str(copy), "./copy.jsonl"):
        again = _model_run(tiny_model, root, named, out)
        assert again["complete"] and again["timing"]["images_timed"] == 0, named  # nothing coded again
        assert again["dataset"]["caption_source"].startswith(named)

    edited = tmp_path / "edited.jsonl"  # other captions are still another configuration
    edited.write_text(caps.read_text(encoding="utf-8").replace('"captions": ["', '"captions": ["a ', 1),
                      encoding="utf-8")
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        _model_run(tiny_model, root, str(edited), out)


def test_results_that_recorded_the_captions_file_as_typed_resume(tiny_model, tmp_path,
                                                                 folder_factory, monkeypatch):
    root, caps = _captioned(tmp_path, folder_factory)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    _model_run(tiny_model, Path("photos"), "./caps.jsonl", out)
    json_path = next(out.glob("taco-tiny-*.json"))
    data = json.loads(json_path.read_text(encoding="utf-8"))
    # as 03e1c6b wrote it: run.dataset held caption_source after crop; no names_sizes digest
    ds = data["run"]["dataset"]
    data["run"]["dataset"] = {"name": ds["name"], "kind": ds["kind"], "crop": ds["crop"],
                              "caption_source": "./caps.jsonl (first caption)", "content": ds["content"]}
    del data["dataset"][NAMES_SIZES]
    json_path.write_text(json.dumps(data), encoding="utf-8")

    monkeypatch.chdir(root)
    again = _model_run(tiny_model, root, "../caps.jsonl", out)
    assert again["complete"] and again["timing"]["images_timed"] == 0
    assert "caption_source" not in again["run"]["dataset"]

    data["run"]["dataset"]["name"] = "other"  # the rest of an old key is still compared
    json_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResultsFileError, match=r"differs in: dataset\)"):
        _model_run(tiny_model, root, str(caps), out)


def _jpeg(root: Path, out: Path) -> dict:
    path = evaluate_codec(get_codec("jpeg"), open_dataset(str(root)), out, qualities=[50], progress=False)
    return json.loads(path.read_text(encoding="utf-8"))


def _with_fractional_times(root: Path) -> None:
    for i, photo in enumerate(sorted(root.iterdir())):
        t = 1_700_000_000_123_456_789 + i * 1_000_000_000
        os.utime(photo, ns=(t, t))


def _as_tar_keeps_them(root: Path) -> None:
    """Every file's modification time cut to the whole second, as tar (ustar, GNU) keeps it."""
    for photo in root.iterdir():
        t = photo.stat().st_mtime_ns // 1_000_000_000 * 1_000_000_000
        os.utime(photo, ns=(t, t))


def test_a_dataset_that_lost_its_files_times_is_refused_in_those_words(tmp_path, folder_factory):
    root = folder_factory(tmp_path / "a" / "photos")
    _with_fractional_times(root)
    out = tmp_path / "out"
    first = _jpeg(root, out)
    assert len(first["dataset"][NAMES_SIZES]) == 16
    kept = tmp_path / "c" / "photos"
    shutil.copytree(root, kept, copy_function=shutil.copy2)  # cp -a: times kept to the ns
    moved = tmp_path / "b" / "photos"
    shutil.copytree(root, moved, copy_function=shutil.copyfile)  # cp -r: no times kept
    _as_tar_keeps_them(root)  # and the original as tar unpacks it
    for folder in (moved, root):
        with pytest.raises(ResultsFileError) as caught:
            _jpeg(folder, out)
        message = str(caught.value)
        assert "images of the same names, byte sizes and captions" in message
        assert "only their modification times differ" in message and "another configuration" not in message
        assert "rsync -a ORIGINAL/ COPY/" in message and "choose another --output" in message
        assert "\n" not in message

    assert _jpeg(kept, out)["complete"]  # the copy that kept them resumes


def test_a_dataset_copied_to_a_fat_drive_is_refused_as_one_that_lost_its_times(tmp_path, folder_factory):
    """FAT keeps modification times to 2 s (odd seconds cut to even): only a cut to the whole
    second was recognised, and the refusal was the bland "another configuration (differs in:
    dataset)". It says the times differ, and the way out that works there (rsync -a cannot give
    them back on such a drive)."""
    root = folder_factory(tmp_path / "a" / "photos")
    _with_fractional_times(root)
    out = tmp_path / "out"
    _jpeg(root, out)
    fat = tmp_path / "fat" / "photos"
    shutil.copytree(root, fat, copy_function=shutil.copy2)
    for photo in fat.iterdir():  # as FAT keeps them
        t = photo.stat().st_mtime_ns // 2_000_000_000 * 2_000_000_000
        os.utime(photo, ns=(t, t))
    with pytest.raises(ResultsFileError) as caught:
        _jpeg(fat, out)
    message = str(caught.value)
    assert "only their modification times differ" in message and "another configuration" not in message
    assert ("on a FAT/exFAT drive, which keeps times only to 1-2 s, they cannot be given back: there, "
            f"as for other photos, delete {out / 'jpeg.csv'} and {out / 'jpeg.json'}, or choose another --output"
            ) in message


def test_other_changes_are_still_another_configuration(tmp_path, folder_factory):
    root = folder_factory(tmp_path / "photos")
    out = tmp_path / "out"
    _jpeg(root, out)
    photo = next(root.glob("*.png"))
    data = photo.read_bytes()
    later = photo.stat().st_mtime_ns + 5_000_000_000
    os.utime(photo, ns=(later, later))  # one photo modified (maybe replaced), the others not
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        _jpeg(root, out)
    for other in root.glob("*.png"):  # every photo's time cut to the second, and one replaced
        t = other.stat().st_mtime_ns // 1_000_000_000 * 1_000_000_000 + (3_000_000_000 if other == photo else 0)
        os.utime(other, ns=(t, t))
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        _jpeg(root, out)
    photo.write_bytes(data + b"\0")  # another byte size: not the same images
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        _jpeg(root, out)

    root2 = folder_factory(tmp_path / "two" / "photos")
    _jpeg(root2, tmp_path / "out2")
    json_path = tmp_path / "out2" / "jpeg.json"
    data = json.loads(json_path.read_text(encoding="utf-8"))
    del data["dataset"][NAMES_SIZES]  # written before it was recorded: the message as it was
    json_path.write_text(json.dumps(data), encoding="utf-8")
    os.utime(next(root2.glob("*.png")), ns=(1, 1))
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        _jpeg(root2, tmp_path / "out2")
