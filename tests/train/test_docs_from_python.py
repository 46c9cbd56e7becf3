"""docs/training.md's "From Python" example runs as written (review H: the Python training API
was in no doc), and says what train() does to the global random generators."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch

DOCS = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def _section() -> str:
    text = DOCS.read_text(encoding="utf-8")
    return text[text.index("## From Python\n"):text.index("## Using the result\n")]


@pytest.mark.slow
def test_the_example_runs(tmp_path, monkeypatch):
    (code,) = re.findall(r"^```python\n(.*?)^```", _section(), flags=re.M | re.S)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, str(DOCS), "exec"), scope)  # noqa: S102
    result = scope["result"]
    assert result.step == 2 and result.stopped == "done"
    assert (tmp_path / "runs" / "from-python" / "checkpoint.safetensors").is_file()


def test_the_docs_say_which_global_generators_train_seeds():
    words = "Python's `random`, NumPy's and torch's"
    assert words in " ".join(_section().split())
    from taco.train import train

    assert words.replace("`", "``") in " ".join((train.__doc__ or "").split())


@pytest.mark.slow
def test_train_leaves_the_global_generators_seeded(tmp_path):
    from taco.samples import SAMPLES_DIR
    from taco.train import DataConfig, TrainConfig, train

    cfg = TrainConfig(preset="elic", model="elic-tiny", k_j=0, k_p=0, crop=64, batch_size=2, max_steps=1,
                      workers=0, progress=False, seed=5, log_interval=1, out_dir=str(tmp_path / "run"),
                      data=DataConfig(root=SAMPLES_DIR))
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    train(cfg)
    after = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    assert after != (random.random(), np.random.rand(), torch.rand(1).item())
