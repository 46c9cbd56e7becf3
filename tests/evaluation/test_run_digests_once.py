"""Every evaluation run (a classic codec's, a matched one's, a model's) takes the dataset's
digests once: its content for ``run`` and what an earlier taco recorded for the JSON's
``dataset`` and a resume. A classic run used to take them twice (a second full pass over the
dataset's files), and a resume of a finished run does the same: once."""

from __future__ import annotations

import json

import pytest

from taco.evaluation import evaluate_model, load_model, open_dataset
from taco.evaluation.classic import evaluate_codec, evaluate_matched, get_codec
from taco.evaluation.datasets import EvalDataset

pytestmark = pytest.mark.filterwarnings("ignore:.*colours converted")


@pytest.fixture
def digest_passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times EvalDataset.digests was called (one entry a call)."""
    calls: list[int] = []
    real = EvalDataset.digests

    def counted(self: EvalDataset):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(self)

    monkeypatch.setattr(EvalDataset, "digests", counted)
    return calls


def test_classic_run_hashes_the_dataset_once(tiny_folder, tmp_path, digest_passes):
    jpeg, dataset = get_codec("jpeg"), open_dataset(str(tiny_folder))
    path = evaluate_codec(jpeg, dataset, tmp_path, qualities=[50], progress=False)
    assert len(digest_passes) == 1
    first = json.loads(path.read_text())
    assert first["complete"] and first["dataset"]["names_sizes"] and first["run"]["dataset"]["content"]

    digest_passes.clear()  # a resume with nothing left to code: once too, and the same record
    again = json.loads(evaluate_codec(jpeg, dataset, tmp_path, qualities=[50], progress=False).read_text())
    assert len(digest_passes) == 1
    assert again["run"] == first["run"] and again["dataset"] == first["dataset"]


def test_matched_run_hashes_the_dataset_once(bmp_folder, model_result, tmp_path, digest_passes):
    dataset = open_dataset(str(bmp_folder(tmp_path / "bmp")))
    model_json = model_result(tmp_path / "out", {"a.bmp": 1.0, "b.bmp": 2.0})
    path = evaluate_matched(get_codec("jpeg"), dataset, tmp_path / "out", model_json, progress=False)
    assert len(digest_passes) == 1
    result = json.loads(path.read_text())
    assert result["run"]["matched_to_fingerprint"] == "1234" and result["complete"]


def test_model_run_hashes_the_dataset_once(tiny_folder, tmp_path, digest_passes):
    model, info = load_model("elic-tiny")
    dataset = open_dataset(str(tiny_folder), limit=1)
    evaluate_model(model, info, dataset, tmp_path, progress=False)
    assert len(digest_passes) == 1
