"""--max-steps is an upper bound: the epochs may end the run first (4 photos in batches of 2 are
2 steps an epoch), and then a note at the start says so and how to train max_steps steps (the
epochs it suggests rounded up); no note when they end it exactly at max_steps."""

from __future__ import annotations

import pytest

from taco.cli import main as taco_main
from taco.train import load_config

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def test_the_epochs_end_the_run_before_max_steps_and_a_note_says_so(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(out, epochs=2, **ELIC), "--max-steps", "10"]) == 0
    err = capsys.readouterr().err
    assert ("note: 2 epochs of 2 steps end the run at step 4, before max_steps=10 (--max-steps); "
            "to train 10 steps, raise epochs (--set epochs=5)") in err
    assert "done: 4 steps" in err


def test_no_note_when_max_steps_ends_the_run(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(out, epochs=2, **ELIC), "--max-steps", "3"]) == 0
    err = capsys.readouterr().err
    assert "before max_steps" not in err and "done: 3 steps" in err
    assert load_config(None, tiny(out, epochs=2, max_steps=3)).max_steps == 3


def test_the_help_says_it_is_an_upper_bound(capsys):
    with pytest.raises(SystemExit):
        taco_main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--max-steps N stop after at most N steps (the epochs may end the run first" in text


def test_one_epoch_ends_the_run(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(out, epochs=1, **ELIC), "--max-steps", "3"]) == 0
    assert ("note: 1 epoch of 2 steps ends the run at step 2, before max_steps=3 (--max-steps); "
            "to train 3 steps, raise epochs (--set epochs=2)") in capsys.readouterr().err


def test_no_note_when_the_epochs_end_the_run_exactly_at_max_steps(tmp_path, tiny, capsys):
    assert taco_main(["train", "--set", *tiny(tmp_path / "run", epochs=2, **ELIC), "--max-steps", "4"]) == 0
    err = capsys.readouterr().err
    assert "before max_steps" not in err and "done: 4 steps" in err


def test_the_suggested_epochs_are_rounded_up(tmp_path, tiny, capsys):
    assert taco_main(["train", "--set", *tiny(tmp_path / "run", epochs=2, **ELIC), "--max-steps", "5"]) == 0
    err = capsys.readouterr().err
    assert ("note: 2 epochs of 2 steps end the run at step 4, before max_steps=5 (--max-steps); "
            "to train 5 steps, raise epochs (--set epochs=3)") in err
