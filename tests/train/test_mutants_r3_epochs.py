"""Review M3: the note that the epochs end the run before --max-steps is not given when they end
it exactly at max_steps, and the epochs it suggests are rounded up (enough for max_steps)."""

from __future__ import annotations

from taco.cli import main as taco_main

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}  # 4 photos in batches of 2: 2 steps an epoch


def test_no_note_when_the_epochs_end_the_run_exactly_at_max_steps(tmp_path, tiny, capsys):
    assert taco_main(["train", "--set", *tiny(tmp_path / "run", epochs=2, **ELIC), "--max-steps", "4"]) == 0
    err = capsys.readouterr().err
    assert "before max_steps" not in err and "done: 4 steps" in err


def test_the_suggested_epochs_are_rounded_up(tmp_path, tiny, capsys):
    assert taco_main(["train", "--set", *tiny(tmp_path / "run", epochs=2, **ELIC), "--max-steps", "5"]) == 0
    err = capsys.readouterr().err
    assert ("note: 2 epochs of 2 steps end the run at step 4, before max_steps=5 (--max-steps); "
            "to train 5 steps, raise epochs (--set epochs=3)") in err
