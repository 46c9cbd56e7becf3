"""Shared helpers for the training tests: tiny models and the bundled sample photos."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.samples import SAMPLES_DIR as SAMPLES


@pytest.fixture
def samples() -> Path:
    """The 4 captioned photos shipped with taco (captions.jsonl beside them)."""
    return SAMPLES


@pytest.fixture(scope="session")
def tiny():
    """``tiny(out_dir, **extra)`` -> ``key=value`` overrides for a few-second taco-tiny run."""
    return tiny_overrides


def tiny_overrides(out_dir: Path, **extra: object) -> list[str]:
    """``key=value`` overrides for a few-second run of taco-tiny on the 4 sample photos."""
    values: dict[str, object] = {
        "model": "taco-tiny",
        "data.root": SAMPLES,
        "crop": 64,
        "batch_size": 2,
        "workers": 0,
        "k_j": 0.0025,
        "clip_model": "tiny",
        "log_interval": 1,
        "ckpt_interval": 2,
        "progress": "false",
        "out_dir": out_dir,
    }
    values.update(extra)
    return [f"{k}={v}" for k, v in values.items()]
