"""``import_checkpoint`` names the file once, in front of every refusal of the weights it read:
the names and shapes (convert_state_dict), NaN weights (check_finite), untrained quantiles
(check_quantiles), the file's own checks (read_official_state_dict): each message is
``PATH: <the check's words>`` exactly (review SIMPLE2: one wrap where there were two)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from taco.models import CheckpointError
from taco.official import import_checkpoint

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"


def _edited(tmp_path: Path, edit) -> Path:  # noqa: ANN001
    """The golden checkpoint with ``edit(state_dict)`` applied."""
    obj = torch.load(GOLDEN, weights_only=True)
    edit(obj["state_dict"])
    path = tmp_path / "edited.pth.tar"
    torch.save(obj, path)
    return path


def _nan(state: dict) -> None:
    key = "module.g_s.synthesis_transform.2.branch.4.weight"
    state[key] = state[key].clone()
    state[key].view(-1)[0] = float("nan")


def _quantiles(state: dict) -> None:
    key = next(k for k in state if k.endswith("entropy_bottleneck.quantiles"))
    state[key] = state[key].clone().fill_(1e6)


def _drop(state: dict) -> None:
    del state["module.local_context.2.weight"]


@pytest.mark.parametrize(("edit", "words"), [
    (_drop, "no tensor 'local_context.2.weight': not a checkpoint of the authors' TACO or ELIC"),
    (_nan, "tensor g_s.2.conv3.weight holds NaN or infinite values: the weights are broken"),
    (_quantiles, "entropy_bottleneck.quantiles are not a trained entropy model's"),
])
def test_each_refusal_of_the_weights_names_the_file_once(tmp_path, edit, words):
    path = _edited(tmp_path, edit)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    text = str(err.value)
    assert type(err.value) is CheckpointError
    assert text.startswith(f"{path}: ") and text.count(str(path)) == 1
    assert words in text


def test_a_folder_and_a_missing_file_are_refused_first(tmp_path):
    with pytest.raises(CheckpointError, match=r"is a folder, not a checkpoint file$"):
        import_checkpoint(tmp_path, "clip-tiny")
    missing = tmp_path / "none.pth.tar"
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(missing, "clip-tiny")
    assert str(err.value) == f"{missing}: no such checkpoint file"


def test_a_bare_state_dict_entry_that_is_no_tensor_is_named(tmp_path):
    path = tmp_path / "bare.pth"
    torch.save({"module.a.weight": torch.zeros(2), "epoch": 3}, path)
    with pytest.raises(CheckpointError) as err:
        import_checkpoint(path, "clip-tiny")
    assert str(err.value).startswith(f"{path}: no 'state_dict' entry (the key taco reads")
    assert "its entry 'epoch' is no tensor (top-level keys: 'module.a.weight', 'epoch')" in str(err.value)
