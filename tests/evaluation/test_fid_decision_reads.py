"""`taco evaluate --limit N` with --fid auto decides whole-image FID vs patches on the whole
set's size; with a crop, counting that set read one image header per file (30k on coco30k)
to answer whether it reaches fid_min_images. Now it reads no more headers than the answer
needs, and the decision and the results written are those the exact count gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

import taco.data
import taco.evaluation.measure
from taco.data import count_usable
from taco.evaluation import EvalConfig, open_dataset, run_evaluation
from taco.evaluation.measure import SetMetrics

CROP = 32
pytestmark = pytest.mark.filterwarnings("ignore::taco.data.SkippedImageWarning")


class FakeInception:
    """Stands in for the Inception network: per-channel means and variances as features."""

    source = "fake (test)"

    def __init__(self, device: torch.device) -> None:
        pass

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        flat = images.flatten(2)  # (N, 3, HW)
        return torch.cat([flat.mean(-1), flat.var(-1)], dim=1).float()  # (N, 6)


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """12 captioned images: the even ones 16 px (under the crop), the odd ones 48 px: 6 usable."""
    root = tmp_path / "mixed"
    root.mkdir()
    lines = []
    for i in range(12):
        side = 48 if i % 2 else 16
        Image.new("RGB", (side, side), (20 * i, 100, 200 - 10 * i)).save(root / f"im{i:02}.png")
        lines.append(json.dumps({"image": f"im{i:02}.png", "captions": [f"photo {i}"]}) + "\n")
    (root / "captions.jsonl").write_text("".join(lines))
    return root


@pytest.fixture
def header_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The image headers taco.data reads, by file name."""
    reads: list[str] = []
    real = taco.data.open_image

    def counting(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        reads.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(taco.data, "open_image", counting)
    monkeypatch.setattr(taco.evaluation.measure, "InceptionFeatures", FakeInception)
    return reads


def _fid(folder: Path, out: Path, **kw) -> dict:  # noqa: ANN003
    cfg = EvalConfig(datasets=[str(folder)], classic=["jpeg"], qualities={"jpeg": [50]}, crop=CROP,
                     cmmd_clip=None, output=str(out), plot=False, progress=False, **kw)
    (path,) = [p for p in run_evaluation(cfg) if p.name == "jpeg.json"]
    result = json.loads(path.read_text())
    fid = result["set_metrics"]["fid"]
    return {k: fid.get(k) for k in ("computed", "mode", "min_images_for_whole_image_fid", "reason")}


@pytest.mark.parametrize(("min_images", "fid", "reads"), [
    (3, "auto", 4 + 2),    # the 2 kept of 4, then im04 (small) and im05: 3 reached
    (7, "auto", 4 + 8),    # 6 usable < 7: every header, as the exact count needs
    (2, "auto", 4),        # the limited set alone has 2: no header after it
    (3, "patches", 4),     # not auto: no count at all
    (3, "full", 4),
])
def test_a_limited_run_reads_only_the_headers_its_fid_decision_needs(
        mixed_folder, tmp_path, header_reads, min_images, fid, reads):
    """Before, every run with --limit opened the whole set again: 4 + 12 header reads each."""
    limited = _fid(mixed_folder, tmp_path / "limited", limit=4, fid=fid, fid_min_images=min_images)
    assert len(header_reads) == reads
    # the decision and what is recorded are those of the exact whole-set count (6 usable images)
    exact = SetMetrics(n_images=6, fid=fid, fid_min_images=min_images, extractor=FakeInception("cpu"))
    if exact.fid_mode == "full":
        assert limited["computed"] and limited["mode"].startswith("whole images")
    else:  # patches of 32 px crops: none, so no FID (and no Inception)
        assert not limited["computed"] and limited["reason"].startswith(
            f"the --crop {CROP} px crops are smaller than 256 px")
    header_reads.clear()
    assert _fid(mixed_folder, tmp_path / "whole", fid=fid, fid_min_images=min_images) == limited
    assert len(header_reads) == 12  # a run without a limit reads each header once, as before


def test_full_size_counts_the_whole_set_up_to_a_bound(mixed_folder, header_reads):
    """EvalDataset.full_size is len(open_dataset(...)) without the limit, exact below the bound."""
    whole = len(open_dataset(str(mixed_folder), crop=CROP))
    header_reads.clear()
    ds = open_dataset(str(mixed_folder), crop=CROP, limit=4)
    assert len(ds) == 2 and len(header_reads) == 4
    assert ds.full_size() == whole == 6
    assert [ds.full_size(at_most=k) for k in (1, 3, 6, 7, 100)] == [2, 3, 6, 6, 6]
    assert open_dataset(str(mixed_folder), crop=CROP).full_size(at_most=1) == 6  # no limit: len


def test_count_usable_keeps_the_rule_of_captioned_images(mixed_folder, header_reads):
    """Missing and unreadable files and those under min_side are not counted, as
    CaptionedImages(min_side=...) drops them; no header is read past at_most."""
    (mixed_folder / "broken.png").write_bytes(b"not a png")
    files = [f"im{i:02}.png" for i in range(12)] + ["broken.png", "gone.png"]
    assert count_usable(mixed_folder, files, CROP) == 6
    assert count_usable(mixed_folder, files, None) == 13  # without min_side: those that exist
    header_reads.clear()
    assert count_usable(mixed_folder, files, CROP, at_most=2) == 2
    assert header_reads == ["im00.png", "im01.png", "im02.png", "im03.png"]
    assert count_usable(mixed_folder, files, CROP, at_most=0) == 0
    with pytest.raises(ValueError, match="min_side"):
        count_usable(mixed_folder, files, 0)
