"""Mutation round 10 (import of CompressAI's Elic2022Official): the channel-context widths are
read from the state, and a state of too many channel groups, or of groups that do not sum to M,
is refused in the words of the CompressAI check."""
from __future__ import annotations

import pytest
import torch
from compressai.models import Elic2022Official

import taco
from taco.models.config import MAX_GROUPS
from taco.official import compressai_key_to_taco, import_checkpoint

N, M, GROUPS = 8, 16, [2, 2, 4, 8]


def _compressai_names(state: dict) -> dict:
    """A layout='compressai' taco state under CompressAI's names (g_a.{i} for taco's stages)."""
    stages = {}
    for i in range(20):
        name = compressai_key_to_taco(f"g_a.{i}.x")
        if name is not None:
            stages[name[: -len(".x")]] = i
    out = {}
    for k, v in state.items():
        if k.startswith("g_a."):
            stage = max((s for s in stages if k.startswith(s + ".")), key=len)
            k = f"g_a.{stages[stage]}.{k[len(stage) + 1:]}"
        out[k] = v
    return out


def test_the_channel_context_widths_are_read_from_the_state(tmp_path):
    source = taco.create_model("elic-tiny", layout="compressai", seed=0)
    assert list(source.config.ctx_hidden) != [224, 128]
    torch.save(_compressai_names(source.state_dict()), tmp_path / "cai.pth")
    model = import_checkpoint(tmp_path / "cai.pth")
    assert list(model.config.ctx_hidden) == list(source.config.ctx_hidden)
    assert model.config.groups == source.config.groups


@pytest.fixture(scope="module")
def state() -> dict:
    torch.manual_seed(0)
    return dict(Elic2022Official(N=N, M=M, groups=GROUPS).state_dict())


def test_one_group_over_the_most_is_refused(state, tmp_path):
    state = dict(state)
    state[f"latent_codec.y.latent_codec.y{MAX_GROUPS}.context_prediction.weight"] = torch.zeros(2, 2, 5, 5)
    torch.save(state, tmp_path / "many.pth")
    with pytest.raises(taco.CheckpointError, match=rf"{MAX_GROUPS + 1} channel groups, over the {MAX_GROUPS}"):
        import_checkpoint(tmp_path / "many.pth")


def test_groups_that_do_not_sum_to_m_are_refused(state, tmp_path):
    state = dict(state)
    state["latent_codec.hyper.h_a.0.weight"] = torch.zeros(N, M + 4, 3, 3)
    torch.save(state, tmp_path / "sum.pth")
    with pytest.raises(taco.CheckpointError, match=r"do not sum to M=20 \(from h_a\): not a checkpoint of "
                                                   "CompressAI's Elic2022Official"):
        import_checkpoint(tmp_path / "sum.pth")
