"""``resume_source`` on a --resume path with no state: a folder elsewhere that does not exist (a
typo) is an error, not a clean start; the run's own folder, not made yet, is a clean start."""

from __future__ import annotations

import pytest

from taco.train.checkpoints import resume_source
from taco.train.state import TrainStateError
from taco.train.trainer import STATE_FILE


def test_resume_of_a_missing_folder_elsewhere_is_an_error(tmp_path):
    """--resume .../typo_run (no such folder, not the out_dir) must not start from step 0."""
    out_dir = tmp_path / "new"
    typo = tmp_path / "typo_run"
    with pytest.raises(TrainStateError) as exc:
        resume_source(out_dir, str(typo))
    assert str(exc.value) == f"--resume: {typo} does not exist"
    assert not out_dir.exists() and not typo.exists()


@pytest.mark.parametrize("as_text", [True, False])
def test_resume_of_the_runs_own_folder_before_it_exists_starts_from_step_0(tmp_path, as_text):
    """The run's folder, not made yet (killed before it was), is named as a folder: a clean
    start with the 'nothing to resume' message, not a missing state file."""
    out_dir = tmp_path / "fresh"
    state, message = resume_source(out_dir, str(out_dir) if as_text else out_dir)
    assert state is None
    assert message is not None and message.startswith(f"nothing to resume in {out_dir} (no {STATE_FILE}")
    assert message.endswith("starting from step 0")
