"""taco.train.train() in any grad mode of its caller: inside ``torch.no_grad()`` or
``torch.inference_mode()``, or after a notebook's ``torch.set_grad_enabled(False)``, a run used
to fail at its first backward ("element 0 of tensors does not require grad") after writing
config.yaml and log.jsonl (a rerun then refused the folder). Now it trains, and the caller's
mode is as it was afterwards."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from taco.train import Trainer, load_config, train


@contextlib.contextmanager
def grad_off() -> Iterator[None]:
    """What a notebook did earlier: ``torch.set_grad_enabled(False)``, as a call (restored
    after the test, which checks the run did not turn it back on)."""
    before = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        yield
    finally:
        torch.set_grad_enabled(before)


MODES: dict[str, Callable[[], contextlib.AbstractContextManager[object]]] = {
    "no_grad": torch.no_grad,
    "inference_mode": torch.inference_mode,
    "set_grad_enabled_false": grad_off,
}


def caller_mode() -> tuple[bool, bool]:
    return torch.is_grad_enabled(), torch.is_inference_mode_enabled()


def tiny_cfg(tiny, out: Path, **extra: object):
    return load_config(None, tiny(out, model="elic-tiny", preset="elic", k_j=0,
                                  clip_model="null", **extra))


@pytest.mark.parametrize("mode", sorted(MODES))
def test_train_in_caller_grad_mode(mode: str, tmp_path: Path, tiny) -> None:
    cfg = tiny_cfg(tiny, tmp_path / "run", max_steps=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with MODES[mode]():
            inside = caller_mode()
            result = train(cfg)
            assert caller_mode() == inside  # the caller's mode, as it was
    assert inside[0] is False
    assert result.step == 2 and result.stopped == "done"
    assert result.checkpoint.is_file() and result.state.is_file()
    assert torch.isfinite(torch.tensor(result.last["loss"]))


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_resumed_in_caller_grad_mode(mode: str, tmp_path: Path, tiny) -> None:
    """The state's weights and Adam moments are loaded inside the caller's mode too: the
    resumed run trains on from them."""
    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert train(tiny_cfg(tiny, out, max_steps=1)).step == 1
        with MODES[mode]():
            inside = caller_mode()
            result = train(tiny_cfg(tiny, out, max_steps=2), resume=out)
            assert caller_mode() == inside
    assert result.step == 2 and result.stopped == "done"


def test_train_step_alone_in_inference_mode(tmp_path: Path, tiny) -> None:
    """Trainer.train_step (the benchmarks call it alone) on a batch drawn inside the
    caller's inference_mode (inference tensors): a step that changes the weights."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.inference_mode():
            trainer = Trainer(tiny_cfg(tiny, tmp_path / "run"))
        try:
            before = [p.detach().clone() for p in trainer.main_params.values()]
            with torch.inference_mode():
                batch = next(iter(trainer.batches()))
                parts = trainer.train_step(batch)
                assert torch.is_inference_mode_enabled()
            assert all(not p.is_inference() for p in trainer.model.parameters())
            assert torch.isfinite(parts["loss"]) and float(parts["grad_norm"]) > 0
            after = list(trainer.main_params.values())
            assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
        finally:
            trainer.close()
