"""``taco evaluate DIR -o PARENT``: the output folder PARENT/NAME is the dataset's own folder.

A reviewer found ``taco evaluate photos --classic jpeg ... -o .`` exit 0 having written
``jpeg.csv``/``.json``, ``rd.svg`` and ``rd.bdrate.*`` among the photos and replaced a photo named
``rd.png`` with the RD figure (the rerun then refused: its ``rd.png`` had become a new image). It
is refused now in one line before any work, exit 2, the folder as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from taco.evaluation.evaluate import EvalConfig, EvaluationError, run_evaluation

pytestmark = pytest.mark.filterwarnings("ignore:.*colours converted from its")

ARGS = ["evaluate", "--fid", "off", "--cmmd-clip", "off", "--quiet", "--classic", "jpeg",
        "--qualities", "jpeg=30,70"]


def _photos(folder_factory, root: Path) -> tuple[Path, dict[str, bytes]]:
    photos = folder_factory(root / "photos", size=32)
    first = sorted(photos.glob("*.png"))[0]
    (photos / "rd.png").write_bytes(first.read_bytes())  # a photo of the name the figure takes
    return photos, {p.name: p.read_bytes() for p in photos.iterdir()}


@pytest.mark.parametrize("how", ["parent", "dot"])
def test_evaluate_refuses_an_output_folder_that_is_the_dataset(eval_main, tmp_path, folder_factory, capsys,
                                                               monkeypatch, how):
    photos, before = _photos(folder_factory, tmp_path)
    if how == "dot":
        monkeypatch.chdir(tmp_path)
        code = eval_main([*ARGS, "-o", ".", "photos"])
    else:
        code = eval_main([*ARGS, "-o", str(tmp_path), str(photos)])
    err = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("taco evaluate: error: the output folder "), err
    assert err[0].endswith("is the dataset's own folder (" + ("photos" if how == "dot" else str(photos))
                           + "): give another --output"), err
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before  # nothing written, rd.png kept


def test_library_refuses_it_before_any_work(tmp_path, folder_factory):
    photos, before = _photos(folder_factory, tmp_path)
    cfg = EvalConfig(datasets=[str(photos)], classic=["jpeg"], qualities={"jpeg": [50]}, output=tmp_path,
                     fid="off", progress=False)
    with pytest.raises(EvaluationError, match="is the dataset's own folder"):
        run_evaluation(cfg)
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before


def test_another_name_of_the_folder_is_caught(tmp_path, folder_factory):
    """By identity: PARENT/photos reached through a link to the parent is the same folder."""
    photos, before = _photos(folder_factory, tmp_path)
    os.symlink(tmp_path, tmp_path / "again")
    cfg = EvalConfig(datasets=[str(photos)], classic=["jpeg"], qualities={"jpeg": [50]},
                     output=tmp_path / "again", fid="off", progress=False)
    with pytest.raises(EvaluationError, match="is the dataset's own folder"):
        run_evaluation(cfg)
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before


def test_an_output_folder_beside_the_dataset_still_runs(eval_main, tmp_path, folder_factory, capsys):
    photos, _ = _photos(folder_factory, tmp_path)
    assert eval_main([*ARGS, "-o", str(tmp_path / "ev"), str(photos)]) == 0, capsys.readouterr().err
    assert (tmp_path / "ev" / "photos" / "jpeg.json").is_file()


def test_a_coco_root_named_as_the_output_folder_is_caught(tmp_path):
    """coco40k:ROOT codes the images of ROOT/val2014, but its results would still go into ROOT
    itself (OUT/coco40k with ROOT named coco40k and -o its parent): refused as the dataset's own."""
    import json

    from PIL import Image

    root = tmp_path / "coco40k"
    anns: dict[str, list] = {"images": [], "annotations": []}
    for i in range(2):
        name = f"COCO_val2014_{i:012d}.jpg"
        (root / "val2014").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (48, 40), (120, 80, 40)).save(root / "val2014" / name)
        anns["images"].append({"id": i, "file_name": name})
        anns["annotations"].append({"image_id": i, "caption": f"a photo {i}"})
    (root / "annotations").mkdir()
    (root / "annotations" / "captions_val2014.json").write_text(json.dumps(anns))
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    cfg = EvalConfig(datasets=[f"coco40k:{root}"], classic=["jpeg"], qualities={"jpeg": [50]}, output=tmp_path,
                     fid="off", progress=False)
    with pytest.raises(EvaluationError, match="is the dataset's own folder"):
        run_evaluation(cfg)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
