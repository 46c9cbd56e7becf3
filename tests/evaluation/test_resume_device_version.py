"""A model run's results pin the device kind and the taco version they were coded with: a resume
on another device (a GPU's files can differ from the CPU's) or after an upgrade is refused like
any other configuration change, rather than mixing old rows with new ones. Results written
before these were recorded still resume."""

from __future__ import annotations

import json

import pytest

from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import evaluate_model, load_model
from taco.evaluation.runner import ResultsFileError
from taco.version import __version__


@pytest.fixture(scope="module")
def elic_tiny():
    return load_model("elic-tiny")


def test_resume_on_another_device_or_version_is_refused(elic_tiny, tiny_folder, tmp_path):
    model, info = elic_tiny
    dataset = open_dataset(str(tiny_folder), limit=1)
    path = evaluate_model(model, info, dataset, tmp_path, progress=False)
    first = json.loads(path.read_text())
    assert first["run"]["device"] == "cpu" and first["run"]["taco_version"] == __version__
    evaluate_model(model, info, dataset, tmp_path, progress=False)  # the same setup resumes
    for key, other in (("device", "cuda (NVIDIA H100 80GB HBM3)"), ("taco_version", "0.0.1")):
        path.write_text(json.dumps({**first, "run": {**first["run"], key: other}}))
        with pytest.raises(ResultsFileError, match=f"differs in: {key}"):
            evaluate_model(model, info, dataset, tmp_path, progress=False)
    older = {k: v for k, v in first["run"].items() if k not in ("device", "taco_version")}
    path.write_text(json.dumps({**first, "run": older}))  # written before they were recorded
    again = json.loads(evaluate_model(model, info, dataset, tmp_path, progress=False).read_text())
    assert again["timing"]["images_timed"] == 0 and again["run"]["device"] == "cpu"
