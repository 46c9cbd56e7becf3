"""A training image that is converted (here: an Adobe RGB profile to sRGB, or an animation's first
frame taken) is said once for the whole run, also with DataLoader workers re-created every epoch."""

from __future__ import annotations

import functools
import shutil
import warnings

import numpy as np
from PIL import Image
from torch.utils.data import DataLoader

from taco.data import CaptionedFolder, collate, train_transform
from taco.samples import SAMPLES_DIR


def _log_warnings(path, worker_id: int) -> None:
    """A worker's warnings, appended to ``path`` (a worker inherits pytest's recording, lost)."""
    def show(message, category, filename, lineno, file=None, line=None):
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{category.__name__}: {message}\n")

    warnings.simplefilter("always")
    warnings.showwarning = show


def test_a_converted_image_is_said_once_over_epochs_of_workers(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(SAMPLES_DIR / "skimage-rocket.png", photos / "rocket.png")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)).save(photos / "plain.png")
    dataset = CaptionedFolder(photos, transform=train_transform(64), captions_needed=False, seed=0)
    said = tmp_path / "said.txt"
    loader = DataLoader(dataset, batch_size=1, num_workers=2, collate_fn=collate,
                        worker_init_fn=functools.partial(_log_warnings, said))
    for epoch in range(3):  # workers are re-created each epoch
        dataset.set_epoch(epoch)
        assert len(list(loader)) == 2
    lines = said.read_text(encoding="utf-8").splitlines()
    assert lines == ["ColourProfileConvertedWarning: rocket.png: colours converted from its "
                     "'Adobe RGB (1998)' profile to sRGB (it decodes as sRGB)"]


def test_without_workers_too(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(SAMPLES_DIR / "skimage-rocket.png", photos / "rocket.png")
    dataset = CaptionedFolder(photos, transform=train_transform(64), captions_needed=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            dataset[0]
    assert [str(w.message) for w in caught] == [
        "rocket.png: colours converted from its 'Adobe RGB (1998)' profile to sRGB "
        "(it decodes as sRGB)"]


def test_a_file_read_warning_is_said_once_too(tmp_path):
    """load_image's own conversion warning (an animation: its first frame) was outside the
    once-per-file rule and came back at every load."""
    photos = tmp_path / "photos"
    photos.mkdir()
    frames = [Image.new("RGB", (80, 80), c) for c in ((200, 10, 10), (10, 200, 10))]
    frames[0].save(photos / "anim.webp", save_all=True, append_images=frames[1:], lossless=True)
    dataset = CaptionedFolder(photos, transform=train_transform(64), captions_needed=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            dataset[0]
    assert [str(w.message) for w in caught] == ["anim.webp: it has 2 frames; using the first one"]


def test_threads_reading_a_dataset_leave_the_warnings_filter_alone(tmp_path):
    """The conversion warnings were caught with warnings.catch_warnings, the whole process's:
    four threads reading the dataset left an "always" filter and a dead recorder in place, so
    every later warning of the process went nowhere. They are now kept per thread
    (taco.images.ConversionNotes)."""
    from concurrent.futures import ThreadPoolExecutor

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        Image.new("RGBA", (70, 70), (i * 40, 90, 20, 128)).save(photos / f"a{i}.png")
    dataset = CaptionedFolder(photos, transform=train_transform(64), captions_needed=False)
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda k: dataset[k % 4], range(200)))
        assert warnings.filters == before
        warnings.warn("still heard", UserWarning, stacklevel=1)
    assert warnings.filters == filters
    said = [str(w.message) for w in caught]
    assert said[-1] == "still heard"
    assert sorted(said[:-1]) == sorted(f"a{i}.png: the alpha channel of this RGBA image is dropped "
                                       "(TACO codes RGB only)" for i in range(4)), said


def test_an_unreadable_image_is_said_once_over_epochs_of_workers(tmp_path):
    """Each worker, re-created each epoch, said the same unreadable file again."""
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)).save(photos / name)
    (photos / "bad.jpg").write_text("not an image")
    dataset = CaptionedFolder(photos, transform=train_transform(64), captions_needed=False, seed=0)
    said = tmp_path / "said.txt"
    loader = DataLoader(dataset, batch_size=1, num_workers=2, collate_fn=collate,
                        worker_init_fn=functools.partial(_log_warnings, said))
    for epoch in range(3):
        dataset.set_epoch(epoch)
        assert len(list(loader)) == 3
    lines = said.read_text(encoding="utf-8").splitlines()
    assert lines == ["SkippedImageWarning: skipping unreadable image bad.jpg: not an image file "
                     "Pillow can identify"]
