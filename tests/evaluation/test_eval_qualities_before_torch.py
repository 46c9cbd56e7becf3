"""Review F4: ``taco evaluate --qualities NAME=Q,...`` refuses a quality a ``--model`` does not
have, and a NAME that is neither a ``--classic`` codec nor a model, before torch loads (the
model's qualities read from its config or its checkpoint's header), in the words the check of
the loaded models says; ``--caption-mode`` given twice is refused, not the last kept.

Each command runs in a fresh interpreter that reports ``sys.modules`` afterwards
(tests/conftest.py's ``probe``)."""

from __future__ import annotations

import pytest

from taco.cli import main
from taco.models import create_model, save_checkpoint

LAMBDAS = [0.0004, 0.0016, 0.009]


def refused(probe, tmp_path, *args: str) -> str:
    """The error of ``taco evaluate samples ARGS``, checked to come before torch and any output."""
    r = probe(tmp_path, "evaluate", "samples", "-o", str(tmp_path / "out"), "--quiet", *args)
    assert r["code"] == 2, r["stderr"]
    assert "torch" not in r["modules"]
    assert not (tmp_path / "out").exists()
    return r["stderr"].strip()


@pytest.mark.parametrize("model, qualities, message", [
    ("taco-minilm-small-q4", "taco-minilm-small-q4=9",
     "--qualities taco-minilm-small-q4=...: taco-minilm-small-q4 is a single-rate model "
     "(--qualities chooses among a variable-rate model's qualities)"),
    ("elic-vr", "elic-vr=0", "--qualities elic-vr=...: 0 outside elic-vr's qualities 1..7"),
    ("elic-vr", "ELIC-VR=2,9", "--qualities elic-vr=...: 9 outside elic-vr's qualities 1..7"),
    ("elic-vr", "elic-vr=", "--qualities elic-vr= names no quality: elic-vr has qualities 1..7"),
    ("elic-vr", "foo=3", "--qualities foo=...: 'foo' is neither a --classic codec nor a --model of this run"),
])
def test_a_quality_a_built_in_model_lacks_is_refused_before_torch(probe, tmp_path, model, qualities, message):
    assert refused(probe, tmp_path, "-m", model, "--qualities", qualities) == f"taco evaluate: error: {message}"


@pytest.mark.parametrize("qualities, message", [
    ("jpeg=0", "--qualities jpeg=...: 0 outside JPEG's qualities 1..100"),
    ("BPG=52,30", "--qualities bpg=...: 52 outside BPG's qualities 0..51"),
    ("jpeg=", "--qualities jpeg= names no quality: JPEG has qualities 1..100"),
    ("jpeg=50,50", "--qualities jpeg=50,50: JPEG has qualities 1..100; give each at most once"),
])
def test_a_quality_a_classic_codec_lacks_is_refused_before_torch(probe, tmp_path, qualities, message):
    """Review ST2: a classic codec's sweep was checked only by run_evaluation, after torch loaded
    (bpg: whether or not bpgenc is here)."""
    err = refused(probe, tmp_path, "--classic", "jpeg,bpg", "--qualities", qualities)
    assert err.splitlines()[-1] == f"taco evaluate: error: {message}"


@pytest.fixture()
def vr_checkpoint(tmp_path):
    return save_checkpoint(create_model("elic-tiny", seed=0, qualities=LAMBDAS), tmp_path / "vr.safetensors")


def test_a_checkpoint_named_by_its_model_id_is_checked_from_its_header(probe, tmp_path, vr_checkpoint):
    err = refused(probe, tmp_path, "-m", str(vr_checkpoint), "--qualities", "elic-tiny+custom=1,4")
    assert err == "taco evaluate: error: --qualities elic-tiny+custom=...: 4 outside elic-tiny+custom's qualities 1..3"


def test_a_quality_the_checkpoint_has_is_not_refused_early(tmp_path, vr_checkpoint, capsys):
    # the run goes on to load the model, and to refuse caption mode empty for a model without
    # text, which only the loaded model says
    code = main(["evaluate", "samples", "-o", str(tmp_path / "out"), "--quiet", "-m", str(vr_checkpoint),
                 "--qualities", "elic-tiny+custom=1", "--caption-mode", "empty", "--no-plot",
                 "--cmmd-clip", "off", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "takes no text" in err and "--qualities" not in err


@pytest.mark.parametrize("times, said", [(2, "twice"), (3, "3 times")])
def test_caption_mode_given_twice_is_refused(probe, tmp_path, times, said):
    modes = ["--caption-mode", "true", "--caption-mode", "empty", "--caption-mode", "fixed:NA"][:2 * times]
    err = refused(probe, tmp_path, "-m", "elic-tiny", *modes)
    assert err == (f"taco evaluate: error: --caption-mode given {said}: it names the one mode to run; to "
                   "run several, list them in --compare-caption-modes (e.g. --compare-caption-modes "
                   "true,shuffled)")
