"""taco.data: captioned datasets, transforms, skipping of bad images, DataLoader use."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, DistributedSampler

from taco.data import (
    KARPATHY_SPLIT_SIZES,
    Batch,
    CaptionedFolder,
    CaptionedImages,
    CaptionRecord,
    CocoCaptions,
    EmptyDatasetError,
    Sample,
    SkippedImageWarning,
    center_crop_transform,
    collate,
    folder_images,
    karpathy_split,
    no_crop,
    train_transform,
)
from taco.samples import SAMPLES_DIR as BUNDLED_SAMPLES

SHARED_VAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "val"

CAPTIONS = {
    "red.png": ["a red square", "a crimson patch"],
    "green.jpg": ["a green field"],
    "small.png": ["a tiny strip", "a small picture", "a thumbnail"],
    "corrupt.png": ["never loads"],
    "ghost.png": ["listed but the file does not exist"],
}


def _write(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(sum(colour))
    noise = rng.integers(-10, 11, (size[1], size[0], 3))
    Image.fromarray(np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)).save(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """4 listed files (one corrupt) + one listed without a file + one file without a caption."""
    _write(tmp_path / "red.png", (300, 280), (220, 20, 20))
    _write(tmp_path / "green.jpg", (320, 260), (20, 220, 20))
    _write(tmp_path / "small.png", (100, 60), (20, 20, 220))
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    _write(tmp_path / "uncaptioned.png", (64, 64), (128, 128, 128))
    (tmp_path / "notes.txt").write_text("not an image, not listed, ignored")
    with (tmp_path / "captions.jsonl").open("w") as f:
        for name, caps in CAPTIONS.items():
            f.write(json.dumps({"image": name, "captions": caps}) + "\n")
    return tmp_path


def _quiet_folder(root: Path, **kwargs) -> CaptionedFolder:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImageWarning)
        return CaptionedFolder(root, **kwargs)


def test_folder_drops_missing_and_uncaptioned_with_one_warning(folder: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = CaptionedFolder(folder)
    messages = [str(w.message) for w in caught if issubclass(w.category, SkippedImageWarning)]
    assert len(messages) == 1
    assert "1 listed without an image file (ghost.png)" in messages[0]
    assert "1 without captions (uncaptioned.png)" in messages[0]
    assert (ds.missing, ds.uncaptioned, ds.skipped) == (1, 1, 0)
    assert len(ds) == 4  # red, green, small, corrupt (unreadable only shows on load)
    assert [r.file for r in ds.records] == ["red.png", "green.jpg", "small.png", "corrupt.png"]


def test_the_old_image_extensions_name_still_answers_with_a_deprecation_warning() -> None:
    import taco.data
    from taco.suffixes import IMAGE_SUFFIXES

    with pytest.warns(DeprecationWarning, match="IMAGE_SUFFIXES"):
        assert taco.data.IMAGE_EXTENSIONS is IMAGE_SUFFIXES
    with pytest.raises(AttributeError, match="no attribute 'NOPE'"):
        taco.data.NOPE  # noqa: B018


def test_folder_images_leave_out_decoded_outputs_as_taco_compress_does(folder: Path) -> None:
    """A folder where ``taco decompress`` ran: its NAME.decoded.png beside their sources are not
    photos of the folder (not captioned, trained on or evaluated), unless a captions file lists
    one by name."""
    from taco.cli.inputs import expand_inputs
    from taco.suffixes import DECODED_SUFFIX, IMAGE_SUFFIXES

    _write(folder / "red.png.decoded.png", (64, 64), (220, 20, 20))  # red.png.taco's, whole name
    _write(folder / "green.decoded.png", (64, 64), (20, 220, 20))
    (folder / "folder.png").mkdir()
    names = ["corrupt.png", "green.jpg", "red.png", "small.png", "uncaptioned.png"]
    assert folder_images(folder) == names
    compressed, _ = expand_inputs([str(folder)], IMAGE_SUFFIXES, skip_in_folders=DECODED_SUFFIX)
    assert sorted(p.name for p in compressed) == names  # the same images as taco compress takes
    ds = _quiet_folder(folder)
    assert ds.uncaptioned == 1  # uncaptioned.png only
    plain = folder / "plain"  # no captions file, a model that reads no text: every image
    plain.mkdir()
    _write(plain / "a.png", (64, 64), (1, 2, 3))
    _write(plain / "a.decoded.png", (64, 64), (1, 2, 3))
    assert [r.file for r in _quiet_folder(plain, captions_needed=False).records] == ["a.png"]
    with (folder / "captions.jsonl").open("a") as f:
        f.write(json.dumps({"image": "green.decoded.png", "captions": ["listed by name"]}) + "\n")
    assert "green.decoded.png" in [r.file for r in _quiet_folder(folder).records]


def test_folder_samples_and_corrupt_image_skipped(folder: Path) -> None:
    ds = _quiet_folder(folder, seed=0)
    samples = []
    with pytest.warns(SkippedImageWarning, match=r"corrupt\.png") as record:
        for i in range(len(ds)):
            samples.append(ds[i])
    assert len([w for w in record if "corrupt.png" in str(w.message)]) == 1
    assert ds.skipped == 1
    # Index 3 (corrupt) is replaced by the next readable image, wrapping round to red.png.
    assert [s.name for s in samples] == ["red.png", "green.jpg", "small.png", "red.png"]
    for s in samples:
        assert isinstance(s, Sample)
        assert s.caption in CAPTIONS[s.name]
        assert s.image.dtype == torch.float32 and s.image.dim() == 3 and s.image.shape[0] == 3
        assert 0.0 <= s.image.min().item() <= s.image.max().item() <= 1.0
    assert samples[0].image.shape == (3, 280, 300)  # default transform: no crop
    red = samples[0].image.mean(dim=(1, 2))
    assert red[0] > 0.8 and red[1] < 0.2  # the right pixels, channel order RGB

    # Known-bad files are not reloaded (or re-warned) in the same process.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ds[3].name == "red.png"
    assert ds.skipped == 1


def test_captions_drawn_from_the_images_own_list(folder: Path) -> None:
    ds = _quiet_folder(folder, transform=train_transform(32))
    drawn = {ds[2].caption for _ in range(60)}
    assert drawn == set(CAPTIONS["small.png"])  # 3 captions, 60 draws: all seen


def test_caption_index_is_deterministic(folder: Path) -> None:
    ds = _quiet_folder(folder, caption_index=0)
    assert [ds[i].caption for i in range(3)] == [CAPTIONS[n][0] for n in CAPTIONS][:3]
    with pytest.raises(ValueError) as caught:
        _quiet_folder(folder, caption_index=1)  # green.jpg and corrupt.png have a single caption
    assert str(caught.value) == ("caption_index=1 is out of range for 2 images, "
                                 "e.g. ['green.jpg', 'corrupt.png']")


def test_seeded_randomness_is_reproducible(folder: Path) -> None:
    a = _quiet_folder(folder, transform=train_transform(64), seed=7)
    b = _quiet_folder(folder, transform=train_transform(64), seed=7)
    torch.manual_seed(1)
    first = [a[2] for _ in range(2)]
    torch.manual_seed(2)
    second = b[2]
    assert torch.equal(first[0].image, second.image) and first[0].caption == second.caption
    assert torch.equal(first[0].image, first[1].image)  # same (seed, epoch, index)
    b.set_epoch(1)
    crops = {b[0].image.sum().item()}
    for epoch in range(2, 6):
        b.set_epoch(epoch)
        crops.add(b[0].image.sum().item())
    assert len(crops) > 1  # the epoch changes the draw


def test_crop_256_from_100x60_image(folder: Path) -> None:
    img = Image.open(folder / "small.png").convert("RGB")
    for transform in (train_transform(256), center_crop_transform(256)):
        assert transform(img).shape == (3, 256, 256)
    out = _quiet_folder(folder, transform=train_transform(256))[2]
    assert out.name == "small.png" and out.image.shape == (3, 256, 256)
    assert out.image[2].mean() > 0.7  # still the blue image, upscaled (not padded with black)
    assert no_crop()(img).shape == (3, 60, 100)


def test_min_side_drops_small_images_at_construction(folder: Path) -> None:
    """The paper's training rule: images under 256 px on the shorter side are not used."""
    with pytest.warns(SkippedImageWarning, match="1 under 256 px on the shorter side"):
        ds = CaptionedFolder(folder, transform=train_transform(256), min_side=256)
    # small.png (100x60) dropped; corrupt.png's header cannot be read, nor the file: dropped too
    assert [r.file for r in ds.records] == ["red.png", "green.jpg"]
    assert ds.too_small == 1 and ds.min_side == 256 and ds.unreadable == 1
    assert _quiet_folder(folder, min_side=60).too_small == 0  # the shorter side counts, >= keeps
    assert _quiet_folder(folder, min_side=61).too_small == 1
    readable = [CaptionRecord(f, ("a caption",)) for f in ("red.png", "green.jpg", "small.png")]
    with pytest.raises(EmptyDatasetError, match=r": 3 under 1000 px on the shorter side \(red.png, "
                       r"green.jpg, small.png\)$") as raised:
        CaptionedImages(folder, readable, min_side=1000)
    assert raised.value.too_small == 3 and raised.value.largest_small_side == 280
    with pytest.raises(ValueError, match="min_side must be positive"):
        _quiet_folder(folder, min_side=0)


def test_an_empty_dataset_is_one_error_that_says_why(folder: Path, tmp_path: Path) -> None:
    """Nothing left to use: an EmptyDatasetError (a user error of the command line: one line)
    that names the reasons and a few files, never a warning for it besides; a warning names the
    first three files of each reason and says there are more."""
    records = [CaptionRecord(f"gone-{i}.png", ("c",)) for i in range(5)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(EmptyDatasetError, match=r"5 listed without an image file \(gone-0.png, "
                           r"gone-1.png, gone-2.png, \.\.\.\)$"):
            CaptionedImages(folder, records)
        with pytest.raises(EmptyDatasetError, match=r"2 without captions \(red.png, green.jpg\)$"):
            CaptionedImages(folder, [CaptionRecord("red.png", ()), CaptionRecord("green.jpg", ())])
        empty = tmp_path / "notes"
        empty.mkdir()
        (empty / "a.txt").write_text("no image")
        with pytest.raises(EmptyDatasetError, match=r"no images to use under .*notes.: no image "
                           r"files there \(.apng, .avif, .bmp, "):
            CaptionedFolder(empty, captions_needed=False)
    from taco.cli.common import is_user_error

    assert is_user_error(EmptyDatasetError("x")) and issubclass(EmptyDatasetError, ValueError)


def test_exclude_drops_matching_records_at_construction(folder: Path) -> None:
    """``exclude``: shell-style patterns on the file path or name, dropped before anything is
    read and reported in the one warning; excluding everything is a clear error."""
    with pytest.warns(SkippedImageWarning, match=r"1 excluded by \['gr\*'\]"):
        ds = CaptionedFolder(folder, exclude=["gr*"])
    assert "green.jpg" not in [r.file for r in ds.records] and ds.excluded == 1
    assert _quiet_folder(folder, exclude=["*.png"]).excluded == 5  # listed or not, file or not
    assert _quiet_folder(folder, exclude=["Green*"]).excluded == 0  # case-sensitive
    nested = [CaptionRecord("sub/lomiri-a.jpg", ("c",)), CaptionRecord("sub/b.jpg", ("c",))]
    with pytest.warns(SkippedImageWarning):
        kept = CaptionedImages(folder, nested, exclude=["lomiri-*"], check_files=False)
    assert [r.file for r in kept.records] == ["sub/b.jpg"]  # the name matches in a subfolder
    with pytest.raises(EmptyDatasetError, match=r"2 excluded by \['\*'\] \(sub/lomiri-a.jpg, sub/b.jpg\)"):
        CaptionedImages(folder, nested, exclude=["*"], check_files=False)


def test_a_training_set_says_conversions_in_training_words(tmp_path: Path) -> None:
    """Training printed compress's words for a photo it converts ('coded with 8-bit precision
    (decoded as 16-bit grey, ...)', 'the image is coded, and decodes, as RGB'): it neither codes
    nor decodes, and says what it reads; a dataset that is not a training set keeps the words."""
    from taco.data import training_words
    from taco.train.config import load_config
    from taco.train.datasets import build_train_dataset

    grey = (np.arange(64 * 64).reshape(64, 64) * 8).astype(np.uint16)
    Image.fromarray(grey).save(tmp_path / "g16.png")
    Image.new("RGB", (64, 64), (10, 200, 30)).convert("P").save(tmp_path / "pal.png")
    Image.new("RGB", (64, 64), (10, 200, 30)).convert("P").save(tmp_path / "coded.png")  # the name kept
    for name in ("g16", "pal", "coded"):
        (tmp_path / f"{name}.txt").write_text("a photo")

    def said(ds: CaptionedImages) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(len(ds)):
                ds[i]
        return sorted(str(w.message) for w in caught)

    cfg = load_config(None, ["model=elic-tiny", "k_j=0", "crop=64", f"data.root={tmp_path}"])
    assert said(build_train_dataset(cfg)) == [
        "coded.png: the palette is not kept: the image is read as RGB",
        "g16.png: 16-bit grey samples are read with 8-bit precision",
        "pal.png: the palette is not kept: the image is read as RGB"]
    assert said(CaptionedFolder(tmp_path)) == [
        "coded.png: the palette is not kept: the image is coded, and decodes, as RGB",
        "g16.png: 16-bit grey samples are coded with 8-bit precision (decoded as 16-bit grey, 8 "
        "significant bits)",
        "pal.png: the palette is not kept: the image is coded, and decodes, as RGB"]
    assert training_words("x.png: colours converted from its 'P' profile to sRGB (it decodes as "
                          "sRGB; the alpha channel is dropped)") == (
        "x.png: colours converted from its 'P' profile to sRGB; the alpha channel is dropped")
    assert training_words("x.tif: it has 2 pages; using the first one") == (
        "x.tif: it has 2 pages; using the first one")


def test_train_transform_crops_and_flips() -> None:
    row = np.tile((np.arange(300) % 256).astype(np.uint8)[None, :, None], (280, 1, 3))
    img = Image.fromarray(row)
    torch.manual_seed(0)
    outs = [train_transform(256, hflip=True)(img) for _ in range(20)]
    assert all(o.shape == (3, 256, 256) for o in outs)
    increasing = {bool(o[0, 0, 1] > o[0, 0, 0]) for o in outs}
    assert increasing == {True, False}  # some crops flipped, some not
    starts = {round(o[0, 0, 0].item() * 255) for o in outs if o[0, 0, 1] > o[0, 0, 0]}
    assert len(starts) > 1  # crop position varies
    unflipped = [train_transform(256)(img) for _ in range(5)]  # the paper's default: no flips
    assert all(o[0, 0, 1] > o[0, 0, 0] for o in unflipped)
    centre = center_crop_transform(256)(img)
    assert round(centre[0, 0, 0].item() * 255) == 22  # (300 - 256) // 2


def test_collate(folder: Path) -> None:
    ds = _quiet_folder(folder, transform=center_crop_transform(64), caption_index=0)
    batch = collate([ds[0], ds[1]])
    assert isinstance(batch, Batch)
    assert batch.images.shape == (2, 3, 64, 64)
    assert batch.captions == ["a red square", "a green field"]
    assert batch.names == ["red.png", "green.jpg"]
    with pytest.raises(ValueError, match="different sizes"):
        collate([_quiet_folder(folder)[0], _quiet_folder(folder)[1]])


def test_everything_unreadable_raises(tmp_path: Path) -> None:
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(b"")
    ds = CaptionedImages(tmp_path, [CaptionRecord("a.png", ("x",)), CaptionRecord("b.png", ("y",))])
    with pytest.warns(SkippedImageWarning), pytest.raises(RuntimeError, match="no readable image"):
        ds[0]
    assert ds.skipped == 2
    with pytest.raises(RuntimeError, match="no readable image"):
        ds[1]


def test_max_retries_bounds_the_search(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.png").write_bytes(b"")
    _write(tmp_path / "good.png", (8, 8), (1, 2, 3))
    records = [CaptionRecord(f"{i}.png", ("c",)) for i in range(5)] + [
        CaptionRecord("good.png", ("c",))
    ]
    ds = CaptionedImages(tmp_path, records, max_retries=3)
    with pytest.warns(SkippedImageWarning), pytest.raises(RuntimeError, match="3 unreadable"):
        ds[0]
    with pytest.warns(SkippedImageWarning):
        assert ds[0].name == "good.png"  # 0-2 known bad, 3 and 4 fail, then good
    assert ds.skipped == 5


def test_jsonl_errors(tmp_path: Path) -> None:
    (tmp_path / "captions.jsonl").write_text('{"image": "a.png", "captions": ["x"]}\n{oops\n')
    with pytest.raises(ValueError, match=r"captions\.jsonl:2"):
        CaptionedFolder(tmp_path)
    with pytest.raises(FileNotFoundError, match="other.jsonl"):
        CaptionedFolder(tmp_path, captions_file="other.jsonl")


def test_dataloader_two_workers(folder: Path) -> None:
    ds = _quiet_folder(folder, transform=train_transform(32), seed=3)
    pickle.loads(pickle.dumps(ds))
    loader = DataLoader(ds, batch_size=2, num_workers=2, collate_fn=collate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImageWarning)
        batches = list(loader)
    assert [b.images.shape for b in batches] == [(2, 3, 32, 32)] * 2
    names = [n for b in batches for n in b.names]
    assert names == ["red.png", "green.jpg", "small.png", "red.png"]
    # Seeded draws do not depend on the worker that made them.
    assert torch.equal(batches[0].images[0], ds[0].image)
    assert batches[0].captions[0] == ds[0].caption


def test_distributed_sampler(folder: Path) -> None:
    ds = _quiet_folder(folder, transform=center_crop_transform(16))
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=False)
        loader = DataLoader(ds, batch_size=2, sampler=sampler, collate_fn=collate)
        seen += [i for i in sampler]
        with pytest.warns(SkippedImageWarning) if rank == 1 else warnings.catch_warnings():
            assert sum(len(b.names) for b in loader) == 2  # rank 1 gets index 3, corrupt.png
    assert sorted(seen) == [0, 1, 2, 3]


# ------------------------------------------------------------------------------------- COCO


def _coco_json(path: Path) -> None:
    images = [
        {"id": 42, "file_name": "COCO_train2014_000000000042.jpg", "height": 60, "width": 80},
        {"id": 7, "file_name": "COCO_train2014_000000000007.jpg", "height": 60, "width": 80},
        {"id": 9, "file_name": "COCO_train2014_000000000009.jpg", "height": 60, "width": 80},
        {"id": 5, "file_name": "COCO_train2014_000000000005.jpg", "height": 60, "width": 80},
    ]
    anns = [{"id": 100 + k, "image_id": 42, "caption": f"forty-two #{k} "} for k in range(5)]
    anns += [{"id": 200 + k, "image_id": 7, "caption": f"seven #{k}"} for k in range(6)]
    anns += [{"id": 300, "image_id": 5, "caption": "five, whose file is missing"}]
    anns += [{"id": 400, "image_id": 999, "caption": "no such image"}]
    path.write_text(json.dumps({"info": {}, "images": images, "annotations": anns}))


def test_coco_captions(tmp_path: Path) -> None:
    images = tmp_path / "train2014"
    images.mkdir()
    for image_id in (42, 7, 9):
        _write(images / f"COCO_train2014_{image_id:012d}.jpg", (80, 60), (image_id, 0, 0))
    _coco_json(tmp_path / "captions_train2014.json")
    with pytest.warns(SkippedImageWarning, match="1 listed without an image file.*1 without"):
        ds = CocoCaptions(images, tmp_path / "captions_train2014.json", train_transform(32))
    assert len(ds) == 2  # 9 has no caption, 5 has no file
    assert [r.file for r in ds.records] == [
        "COCO_train2014_000000000007.jpg",
        "COCO_train2014_000000000042.jpg",
    ]
    assert ds.records[1].captions == tuple(f"forty-two #{k}" for k in range(5))
    assert len(ds.records[0].captions) == 6  # every caption kept
    drawn = {ds[1].caption for _ in range(80)}
    assert drawn == set(ds.records[1].captions)
    assert ds[0].image.shape == (3, 32, 32)


def test_coco_bad_json(tmp_path: Path) -> None:
    (tmp_path / "ann.json").write_text(json.dumps({"images": [{"id": 1}], "annotations": []}))
    with pytest.raises(ValueError, match="not a COCO captions file"):
        CocoCaptions(tmp_path, tmp_path / "ann.json")


def test_karpathy_split(tmp_path: Path) -> None:
    def entry(i: int, split: str) -> dict:
        folder = "train2014" if split == "train" else "val2014"
        return {
            "filepath": folder,
            "filename": f"COCO_{folder}_{i:012d}.jpg",
            "split": split,
            "cocoid": i,
            "sentences": [{"raw": f"caption {i}.{k}", "tokens": []} for k in range(5)],
        }

    splits = ["train", "restval", "val", "restval", "test", "restval"]
    data = {"dataset": "coco", "images": [entry(i, s) for i, s in enumerate(splits)]}
    (tmp_path / "dataset_coco.json").write_text(json.dumps(data))
    restval = karpathy_split(tmp_path / "dataset_coco.json")
    assert [r.file for r in restval] == [f"val2014/COCO_val2014_{i:012d}.jpg" for i in (1, 3, 5)]
    assert restval[0].captions == tuple(f"caption 1.{k}" for k in range(5))
    assert len(karpathy_split(tmp_path / "dataset_coco.json", "train")) == 1
    assert KARPATHY_SPLIT_SIZES["restval"] == 30_504
    with pytest.raises(ValueError, match="unknown split"):
        karpathy_split(tmp_path / "dataset_coco.json", "minival")

    (tmp_path / "val2014").mkdir()
    for i in (1, 3):
        _write(tmp_path / "val2014" / f"COCO_val2014_{i:012d}.jpg", (300, 260), (9, 9, 9))
    with pytest.warns(SkippedImageWarning, match="1 listed without"):
        ds = CaptionedImages(tmp_path, restval, center_crop_transform(256), caption_index=0)
    assert len(ds) == 2 and ds[1].caption == "caption 3.0"
    assert ds[0].image.shape == (3, 256, 256)


# ------------------------------------------------------------------------------- real photos


def _check_real_folder(root: Path) -> None:
    ds = CaptionedFolder(root, transform=center_crop_transform(256), caption_index=0)
    assert len(ds) > 0 and ds.skipped == 0
    sample = ds[0]
    assert sample.image.shape == (3, 256, 256)
    assert sample.caption and (root / sample.name).is_file()


def test_bundled_samples() -> None:
    _check_real_folder(BUNDLED_SAMPLES)


@pytest.mark.skipif(not SHARED_VAL.is_dir(), reason=f"{SHARED_VAL} not present")
def test_shared_photos_val() -> None:
    _check_real_folder(SHARED_VAL)


def position_image(w: int, h: int) -> Image.Image:
    """Red = x, green = y, blue = 255: each pixel says where it is (blue is 0 in any padding)."""
    img = Image.new("RGB", (w, h))
    img.putdata([(x, y, 255) for y in range(h) for x in range(w)])
    return img


@pytest.mark.parametrize("w, h", [(40, 24), (24, 40), (30, 16)])
def test_the_center_crop_of_a_non_square_image_is_its_centre_inside_it(w, h):
    crop = 16
    t = center_crop_transform(crop)(position_image(w, h))
    assert tuple(t.shape) == (3, crop, crop)
    assert bool((t[2] == 1.0).all())  # every pixel from the image, none from outside it
    left, top = (w - crop) // 2, (h - crop) // 2
    assert round(float(t[0, 0, 0]) * 255) == left and round(float(t[1, 0, 0]) * 255) == top
    assert round(float(t[0, -1, -1]) * 255) == left + crop - 1
    assert round(float(t[1, -1, -1]) * 255) == top + crop - 1


@pytest.mark.parametrize("w, h", [(16, 20), (20, 16), (16, 16)])
def test_a_random_crop_takes_a_side_exactly_the_crop_size(w, h):
    torch.manual_seed(0)
    for _ in range(5):
        t = train_transform(16)(position_image(w, h))
        assert tuple(t.shape) == (3, 16, 16) and bool((t[2] == 1.0).all())


def test_karpathy_captions_are_stripped(tmp_path):
    split = tmp_path / "dataset_coco.json"
    split.write_text(json.dumps({"images": [
        {"filepath": "val2014", "filename": "x.jpg", "split": "restval",
         "sentences": [{"raw": "  A dog on a beach.\n"}, {"raw": " \n"}, {"raw": "\tTwo cats. "}]}]}))
    records = karpathy_split(split)
    assert records[0].captions == ("A dog on a beach.", "Two cats.")


def test_a_dataset_s_header_check_says_the_cap_without_the_python_way(tmp_path) -> None:
    """``min_side`` reads each image's header at construction: an image whose header Pillow will
    not open (its bomb check) is read by load_image, over the cap: dropped as unreadable, its
    reason the size and the cap alone, as on load."""
    import struct
    import zlib

    from PIL import Image

    from taco.captions_file import CaptionRecord
    from taco.data import CaptionedImages

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 20000, 10000, 1, 0, 0, 0, 0)  # over Pillow's bomb check too
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                                        + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    Image.new("RGB", (64, 64)).save(tmp_path / "small.png")
    records = [CaptionRecord("huge.png", ("x",)), CaptionRecord("small.png", ("y",))]
    from taco.data import SkippedImageWarning

    with pytest.warns(SkippedImageWarning, match="huge.png: a 20000x10000 image"):
        dataset = CaptionedImages(tmp_path, records, min_side=16)
    assert dataset.unreadable == 1
    assert dataset.read_error == "a 20000x10000 image (200,000,000 pixels), over the cap of 100,000,000"


def test_read_reason_keeps_any_other_reason() -> None:
    from taco.data import read_reason
    from taco.images import ImageReadError

    assert read_reason(ImageReadError("a.png", "file is empty (0 bytes)")) == "file is empty (0 bytes)"
