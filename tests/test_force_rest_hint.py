"""A --force batch that stopped must not be told to go on with --skip-existing: the outputs it
had not reached yet are an earlier run's (another model's, or junk), which --skip-existing keeps."""

from __future__ import annotations

from pathlib import Path

from taco.cli.files import STDOUT, rest_hint


def test_a_stopped_force_batch_is_told_to_run_again_as_it_was(tmp_path: Path) -> None:
    hint = rest_hint([tmp_path / "a.taco"], force=True)
    assert hint.startswith("run the same command again to do the rest")
    assert "instead of --force" not in hint


def test_a_stopped_batch_without_force_goes_on_with_skip_existing(tmp_path: Path) -> None:
    assert rest_hint([tmp_path / "a.taco"], force=False) == (
        "run the same command with --skip-existing to do the rest")
    assert rest_hint([STDOUT], force=True) == ""
