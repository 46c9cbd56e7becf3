"""A training image that is converted (here: an Adobe RGB profile to sRGB) is said once for the
whole run, in training's words, also with DataLoader workers re-created every epoch."""

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
    assert lines == ["ImageConversionWarning: rocket.png: colours converted from its "
                     "'Adobe RGB (1998)' profile to sRGB (it is trained as sRGB)"]


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
        "(it is trained as sRGB)"]


def test_every_conversion_is_said_in_training_words():
    from taco.data import training_words

    assert [training_words(m) for m in (
        "a.png: the palette is not kept: the image is coded, and decodes, as RGB",
        "a.png: I;16 samples are coded with 8-bit precision (decoded back to I;16, 8 significant bits)",
        "a.png: float samples are clamped to 0..255 and coded as 8-bit integers (decoded as 8-bit grey, L)",
        "a.png: the alpha channel of this RGBA image is dropped (TACO codes RGB only)",
        "a.png: HSV is converted to RGB; it decodes as RGB",
    )] == [
        "a.png: the palette is not kept: the image is trained as RGB",
        "a.png: I;16 samples are trained with 8-bit precision",
        "a.png: float samples are clamped to 0..255 and trained as 8-bit integers",
        "a.png: the alpha channel of this RGBA image is dropped (TACO trains on RGB only)",
        "a.png: HSV is converted to RGB; it is trained as RGB",
    ]
