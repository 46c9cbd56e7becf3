"""``taco evaluate --crop 64`` writes OUT/DATASET-crop64/ (results.dataset_dir): --help and
docs/evaluation.md said OUT/DATASET/ only, and ``taco plot OUT/DATASET`` then said just "no such
file or folder". Both say the suffix now, and plot names the folder that is there."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_plot_names_a_cropped_sibling(taco_main, tmp_path, capsys):
    (tmp_path / "eval1" / "samples-crop64").mkdir(parents=True)
    (tmp_path / "eval1" / "samples-other").mkdir()
    assert taco_main(["plot", str(tmp_path / "eval1" / "samples")]) == 2
    err = capsys.readouterr().err
    assert f"did you mean {tmp_path / 'eval1' / 'samples-crop64'}?" in err
    assert "samples-other" not in err and len(err.strip().splitlines()) == 1
    assert taco_main(["plot", str(tmp_path / "eval1" / "kodak")]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_help_and_docs_name_the_crop_suffix(taco_main, capsys) -> None:
    with pytest.raises(SystemExit):
        taco_main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "OUTPUT/DATASET-cropN/" in text
    docs = " ".join((ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8").split())
    assert "`OUTPUT/DATASET-cropN/`" in docs
