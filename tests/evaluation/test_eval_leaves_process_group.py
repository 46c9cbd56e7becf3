"""``taco evaluate`` under torchrun joins a gloo process group for its barriers; it now leaves it
when the run returns or fails (it never did: gloo's threads, torn down at interpreter exit after
the group's objects, may abort the process). A group it did not join is left to its owner."""

from __future__ import annotations

import pytest
import torch.distributed as td

from taco.distributed import DistEnv
from taco.evaluation import evaluate
from taco.evaluation.evaluate import EvalConfig, EvaluationError, run_evaluation


@pytest.fixture
def rank0_of_two(monkeypatch):
    """Rank 0 as torchrun would start it, in a gloo group of one process (barriers return at
    once): the group's variables say a world of 1, evaluation's view of the job says 2. As
    torchrun's agent does, the fixture serves the group's store, on a port the system picks and
    the store holds (a free port found, closed and bound again later could be taken in between
    by another pytest-xdist worker)."""
    store = td.TCPStore("127.0.0.1", 0, is_master=True)
    for name, value in (("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", str(store.port)),
                        ("TORCHELASTIC_USE_AGENT_STORE", "True"), ("RANK", "0"),
                        ("WORLD_SIZE", "1")):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(evaluate, "dist_env_from_environ", lambda: DistEnv(rank=0, world_size=2))
    yield
    if td.is_initialized():
        td.destroy_process_group()


@pytest.mark.filterwarnings("ignore:.*colours converted")
def test_the_group_is_left_after_a_run(rank0_of_two, tiny_folder, tmp_path):
    cfg = EvalConfig(datasets=[str(tiny_folder)], classic=["jpeg"], qualities={"jpeg": [50]},
                     limit=1, fid="off", cmmd_clip=None, plot=False, progress=False, output=tmp_path / "ev")
    assert run_evaluation(cfg)
    assert not td.is_initialized()


def test_the_group_is_left_after_a_failure(rank0_of_two, tmp_path):
    with pytest.raises(EvaluationError, match="nothing to evaluate"):
        run_evaluation(EvalConfig(datasets=["samples"], output=tmp_path))
    assert not td.is_initialized()


def test_a_group_of_the_caller_stays(monkeypatch, tiny_folder, tmp_path):
    """A caller's own group, joined before a run that evaluation sees as distributed (rank 0 of
    2), is not evaluation's to leave."""
    monkeypatch.setattr(evaluate, "dist_env_from_environ", lambda: DistEnv(rank=0, world_size=2))
    td.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0,
                          world_size=1)
    try:
        with pytest.raises(EvaluationError, match="nothing to evaluate"):
            run_evaluation(EvalConfig(datasets=["samples"], output=tmp_path))
        assert td.is_initialized()
    finally:
        td.destroy_process_group()
