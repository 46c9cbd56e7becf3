"""``kodak:DIR`` (``clic:DIR``) took any folder and labelled it kodak (clic), so ``taco plot``'s
automatic paper references for Kodak were drawn beside 2 of its 24 images. A folder that is not
the paper's set is now recorded so (``dataset.paper_set``: false), said in a note, and gets no
automatic references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

import taco.cli
from taco.evaluation.datasets import CLIC_TEST_IMAGES, KODAK_IMAGES, not_the_paper_set, open_dataset
from taco.evaluation.plot import plot_results, reference_kind

KODAK = [f"{stem}.png" for stem in KODAK_IMAGES]


def _kodak(root: Path, names: list[str]) -> Path:
    root.mkdir()
    for name in names:
        Image.new("RGB", (8, 8), (90, 120, 150)).save(root / name)
    return root


def test_which_folders_are_the_paper_set():
    assert not_the_paper_set("kodak", KODAK) is None
    assert not_the_paper_set("kodak", [n.replace(".png", ".jpg") for n in KODAK]) is None
    assert "2 images are not exactly kodim01 ... kodim24" in not_the_paper_set("kodak", KODAK[:2])
    assert not_the_paper_set("kodak", [*KODAK[:23], "kodim25.png"]) is not None
    assert not_the_paper_set("clic", [f"{i}.png" for i in range(CLIC_TEST_IMAGES)]) is None
    assert "30 images, not the 428" in not_the_paper_set("clic", [f"{i}.png" for i in range(30)])
    assert not_the_paper_set("folder", KODAK[:2]) is None


def test_the_dataset_records_it(tmp_path):
    assert open_dataset(f"kodak:{_kodak(tmp_path / 'all', KODAK)}").describe()["paper_set"] is True
    two = open_dataset(f"kodak:{_kodak(tmp_path / 'two', KODAK[:2])}")
    assert two.describe()["paper_set"] is False
    assert open_dataset(f"kodak:{tmp_path / 'all'}", limit=2).describe()["paper_set"] is True  # the folder's
    assert "paper_set" not in open_dataset(str(tmp_path / "two")).describe()


def _result(paper_set: bool | None) -> dict:
    dataset = {"name": "kodak", "kind": "kodak", "images": 2, "crop": "none"}
    if paper_set is not None:
        dataset["paper_set"] = paper_set
    return {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
            "dataset": dataset, "points": [{"setting": "q50", "bpp": 0.5, "psnr": 30.0}]}


@pytest.mark.parametrize(("paper_set", "drawn"), [(True, True), (None, True), (False, False)])
def test_auto_references_only_beside_the_paper_set(tmp_path, paper_set, drawn):
    (tmp_path / "jpeg.json").write_text(json.dumps(_result(paper_set)))
    assert reference_kind(_result(paper_set)) == ("kodak" if drawn else None)
    svg = [p for p in plot_results(tmp_path, tmp_path / "rd") if p.suffix == ".svg"][0].read_text()
    assert ("ELIC (paper), kodak" in svg) == drawn
    forced = [p for p in plot_results(tmp_path, tmp_path / "forced", reference="kodak") if p.suffix == ".svg"]
    assert "ELIC (paper), kodak" in forced[0].read_text()


def test_evaluate_says_so_and_records_it(tmp_path, monkeypatch, capsys, folder_factory):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    folder = folder_factory(tmp_path / "kodak-two")
    common = ["--classic", "jpeg", "--qualities", "jpeg=50", "--fid", "off", "--cmmd-clip", "off", "--quiet",
              "--no-plot"]
    assert taco.cli.main(["evaluate", f"kodak:{folder}", *common, "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "4 images are not exactly kodim01 ... kodim24, the Kodak set, so its results do not count " \
           "as the paper's kodak set" in err
    result = json.loads((tmp_path / "out" / "kodak" / "jpeg.json").read_text())
    assert result["dataset"]["paper_set"] is False
    assert taco.cli.main(["evaluate", f"kodak:{folder}", *common, "--limit", "2", "-o", str(tmp_path / "o2")]) == 0
    assert "kodim01" not in capsys.readouterr().err  # a --limit run is a subset by choice
