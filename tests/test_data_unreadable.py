"""A training folder whose files are not readable images: ``taco train`` ends in one line that
names the folder, the files tried and the first read error (exit 2), not a traceback, with or
without DataLoader workers."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from torch.utils.data import DataLoader

from taco.cli import main as taco_main
from taco.data import (
    CaptionedFolder,
    CaptionedImages,
    CaptionRecord,
    SkippedImageWarning,
    UnreadableImagesError,
)
from taco.errors import TacoError
from taco.samples import SAMPLES_DIR as SAMPLES


def _unreadable_folder(root: Path) -> Path:
    """Three ``.jpg`` files that are text and one zero-byte PNG."""
    root.mkdir()
    for i in range(3):
        (root / f"p{i}.jpg").write_text(f"not an image {i}")
    (root / "z.png").write_bytes(b"")
    return root


def test_the_error_is_a_taco_error_and_still_a_runtime_error(tmp_path: Path) -> None:
    root = _unreadable_folder(tmp_path / "photos")
    ds = CaptionedImages(root, [CaptionRecord(p.name, ("c",)) for p in sorted(root.iterdir())])
    with pytest.warns(SkippedImageWarning), pytest.raises(UnreadableImagesError) as raised:
        ds[0]
    assert isinstance(raised.value, TacoError) and isinstance(raised.value, RuntimeError)
    assert str(raised.value) == (
        f"no readable image found in '{root}': all 4 files tried are unreadable (the first, "
        "p0.jpg: not an image file Pillow can identify); replace or remove the unreadable files, "
        "or use a folder of images")


@pytest.mark.slow  # torch's DataLoader takes 5 s to stop the worker after its error
def test_a_worker_s_error_keeps_its_one_line(tmp_path: Path) -> None:
    """torch re-raises a worker's error with the worker's traceback as its message."""
    root = _unreadable_folder(tmp_path / "photos")
    ds = CaptionedImages(root, [CaptionRecord(p.name, ("c",)) for p in sorted(root.iterdir())])
    batches = iter(DataLoader(ds, batch_size=2, num_workers=1, collate_fn=list))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImageWarning)
        with pytest.raises(UnreadableImagesError) as raised:
            next(batches)
    message = str(raised.value)
    assert message.startswith(f"no readable image found in '{root}': all 4 files tried")
    assert "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize("small_images", ["drop", "upscale"])
@pytest.mark.parametrize("workers", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_taco_train_says_it_in_one_line(tmp_path, capsys, workers, small_images) -> None:
    """``small_images=drop`` reads each header first; ``upscale`` meets them on load. With a
    worker, torch takes seconds to stop it after its error."""
    root = _unreadable_folder(tmp_path / "photos")
    argv = ["train", "--set", f"data.root={root}", "model=elic-tiny", "preset=elic", "k_j=0",
            "max_steps=2", "crop=64", "batch_size=2", f"workers={workers}",
            f"data.small_images={small_images}", "progress=false", "--out-dir", str(tmp_path / "run")]
    assert taco_main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("taco train: error: ")
    assert f"'{root}'" in lines[0] and "4" in lines[0]
    assert "p0.jpg: not an image file Pillow can identify" in lines[0]
    assert "replace or remove the unreadable files" in lines[0]


def test_taco_train_on_device_says_it_in_one_line(tmp_path, capsys) -> None:
    """data_on_device decodes every image first (no DataLoader): a folder of nothing readable
    was a ValueError traceback ("no readable training images") there."""
    root = _unreadable_folder(tmp_path / "photos")
    argv = ["train", "--set", f"data.root={root}", "model=elic-tiny", "preset=elic", "k_j=0",
            "max_steps=2", "crop=64", "batch_size=2", "data.small_images=upscale",
            "data_on_device=true", "progress=false", "--out-dir", str(tmp_path / "run")]
    assert taco_main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == (
        f"taco train: error: no readable image found in '{root}': all 4 files tried are "
        "unreadable (the first, p0.jpg: not an image file Pillow can identify); replace or "
        "remove the unreadable files, or use a folder of images")


def _photos_and_unreadable(root: Path) -> Path:
    """The 4 sample photos beside the 4 unreadable files of :func:`_unreadable_folder`."""
    _unreadable_folder(root)
    for photo in sorted(SAMPLES.glob("*.png")):
        shutil.copy(photo, root / photo.name)
    return root


def test_min_side_drops_unreadable_files_at_construction(tmp_path: Path) -> None:
    """Headers are read for ``min_side`` anyway: a file that cannot be read is dropped there, said
    once, and is not counted in ``len``, so no DataLoader worker meets (and warns about) it."""
    root = _photos_and_unreadable(tmp_path / "photos")
    with pytest.warns(SkippedImageWarning) as caught:
        ds = CaptionedFolder(root, captions_needed=False, min_side=64)
    assert [str(w.message) for w in caught] == [
        f"CaptionedFolder('{root}'): skipping 4 unreadable (p0.jpg, p1.jpg, p2.jpg, ...; "
        "p0.jpg: not an image file Pillow can identify)"]
    assert len(ds) == 4 and ds.unreadable == 4
    assert [r.file for r in ds.records] == [p.name for p in sorted(SAMPLES.glob("*.png"))]
    assert ds.dropped["unreadable"] == ["p0.jpg", "p1.jpg", "p2.jpg", "z.png"]


def test_taco_train_counts_only_readable_images(tmp_path, capsys) -> None:
    """The run's summary line says how many images train: not the unreadable files."""
    root = _photos_and_unreadable(tmp_path / "photos")
    argv = ["train", "--set", f"data.root={root}", "model=elic-tiny", "preset=elic", "k_j=0",
            "max_steps=1", "crop=64", "batch_size=2", "workers=0", "progress=false",
            "--out-dir", str(tmp_path / "run")]
    assert taco_main(argv) == 0
    out = capsys.readouterr()
    summary = [line for line in (out.out + out.err).splitlines() if "steps/epoch" in line]
    assert len(summary) == 1 and "; 4 images, 2 steps/epoch x 1 process x batch 2" in summary[0], summary
    assert summary[0].endswith(f"; 1 step -> {tmp_path / 'run'}"), summary  # a one-step run: no "1 steps"
    assert "done: 1 step (0.50 epochs)" in out.out + out.err
    assert (out.out + out.err).count("p0.jpg: not an image") == 1  # the warning at construction
