"""Review Q: ``taco compress`` refuses a quality or a size target that ``--model`` cannot take
(-q with a single-rate model, --max-bytes / --target-bpp with one, -q out of range) before torch
loads, before the images are read and before the untrained-weights note, in the words the
loaded model's check says (taco.codec.coding_quality); the model's rates are read from its
config or its checkpoint's header (taco.models.rates.named_rates)."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.models.rates import named_rates
from taco.resolve import DEFAULT_MODEL
from taco.samples import SAMPLES_DIR

CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"
SINGLE = (f"model {DEFAULT_MODEL!r} has a single rate (one model per λ): it takes no quality "
          "(got 3); its rates are separate models, chosen by name: ")


def refused(probe, tmp_path: Path, *args: str) -> str:
    """The error line of ``taco compress CHELSEA ARGS``, checked to come before torch and any note."""
    r = probe(tmp_path, "compress", str(CHELSEA), "-o", str(tmp_path / "x.taco"), *args)
    assert r["code"] == 2, r["stderr"]
    assert "torch" not in r["modules"]
    assert "note:" not in r["stderr"]
    assert not (tmp_path / "x.taco").exists()
    return r["stderr"]


def test_quality_of_single_rate_model_refused_before_torch(probe, tmp_path: Path) -> None:
    assert f"taco compress: error: {SINGLE}" in refused(probe, tmp_path, "-q", "3")


@pytest.mark.parametrize("option", [["--max-bytes", "3000"], ["--target-bpp", "0.5"]])
def test_size_target_of_single_rate_model_refused_before_torch(probe, tmp_path: Path, option: list[str]) -> None:
    err = refused(probe, tmp_path, *option)
    assert (f"taco compress: error: {option[0]} needs a variable-rate model, which codes one "
            f"analysis at any of its qualities; model {DEFAULT_MODEL!r} has a single rate") in err


def test_quality_out_of_range_refused_before_the_untrained_note(probe, tmp_path: Path) -> None:
    err = refused(probe, tmp_path, "-m", "elic-vr", "-q", "9")
    assert "taco compress: error: quality must be an integer 1..7 for model 'elic-vr', got 9" in err


def test_checkpoint_named_by_its_header_model_id(probe, tmp_path: Path) -> None:
    from taco.models import create_model, save_checkpoint

    path = save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "mine.safetensors", model_id="mine")
    err = refused(probe, tmp_path, "-m", str(path), "-q", "2")
    assert ("taco compress: error: model 'mine' has a single rate (one model per λ): it takes no "
            "quality (got 2)\n") in err
    assert named_rates(path) == ("mine", None)


def test_named_rates_read_without_weights() -> None:
    assert named_rates(DEFAULT_MODEL) == (DEFAULT_MODEL, None)
    model_id, lambdas = named_rates("taco-minilm-vr")
    assert model_id == "taco-minilm-vr" and lambdas is not None and len(lambdas) == 7


def test_a_model_that_cannot_be_looked_up_is_refused_as_before(probe, tmp_path: Path) -> None:
    r = probe(tmp_path, "compress", str(CHELSEA), "-m", "no-such-model", "-q", "3")
    assert r["code"] == 2 and "torch" not in r["modules"]
    assert "no-such-model" in r["stderr"] and "single rate" not in r["stderr"]
