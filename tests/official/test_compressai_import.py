"""``taco import-checkpoint`` of a CompressAI ``Elic2022Official`` checkpoint (review IO #4).

taco's ``layout="compressai"`` ELIC is ``Elic2022Official`` weight for weight but for g_a's
names: the import gives its outputs and its compressed strings; a taco model's own state dict is
told what to do instead of being sent to the import as the authors' checkpoint. The
channel-context widths are read from the state, and a state of too many channel groups, or of
groups that do not sum to M, is refused in the words of the CompressAI check.
"""

from __future__ import annotations

import pytest
import torch
from compressai.models import Elic2022Official
from PIL import Image

import taco
from taco import cli
from taco.models.config import MAX_GROUPS
from taco.official import compressai_key_to_taco, import_checkpoint, import_checkpoint_file

N, M, GROUPS = 8, 16, [2, 2, 4, 8]


@pytest.fixture(scope="module")
def reference() -> Elic2022Official:
    torch.manual_seed(0)
    net = Elic2022Official(N=N, M=M, groups=GROUPS).eval()
    with torch.no_grad():  # off the initial values, as a trained model is
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    return net


def test_every_form_imports_as_compressai_layout_elic(reference, tmp_path):
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    forms = {
        "train.pth.tar": {"epoch": 3, "state_dict": state, "loss": 1.0, "optimizer": {}},
        "module.pth": {f"module.{k}": v for k, v in state.items()},
    }
    for name, obj in forms.items():
        torch.save(obj, tmp_path / name)
    updated = Elic2022Official(N=N, M=M, groups=GROUPS)
    updated.load_state_dict(state)
    updated.update(force=True)  # tables filled: rebuilt by the import all the same
    torch.save(updated.state_dict(), tmp_path / "updated.pth")
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        want = reference(x)["x_hat"]
    for name in [*forms, "updated.pth"]:
        model = import_checkpoint(tmp_path / name)
        c = model.config
        assert (c.architecture, c.layout, c.N, c.M, c.groups, list(c.ctx_hidden)) == (
            "elic", "compressai", N, M, GROUPS, [224, 128]), name
        assert model.model_id == "elic-compressai"
        assert "Elic2022Official" in model.metadata["imported_from"]
        with torch.no_grad():
            assert torch.allclose(model(x)["x_hat"], want, atol=1e-5), name


def test_strings_are_compressais_and_the_file_codes(reference, tmp_path):
    torch.save({"state_dict": reference.state_dict()}, tmp_path / "cai.pth.tar")
    out = import_checkpoint_file(tmp_path / "cai.pth.tar", tmp_path / "cai.safetensors")
    model = taco.load(out)
    reference.update(force=True)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        theirs, ours = reference.compress(x), model.compress(x)
        assert ours["strings"] == theirs["strings"]
        crossed = model.decompress(theirs["strings"], theirs["shape"])["x_hat"]
        assert torch.equal(crossed, reference.decompress(theirs["strings"], theirs["shape"])["x_hat"])
    image = Image.new("RGB", (48, 40), (120, 30, 200))
    assert taco.decompress(taco.compress(image, None, model), model).size == (48, 40)


def test_g_a_names():
    assert compressai_key_to_taco("g_a.8.weight") == "g_a.stage3.weight"
    assert compressai_key_to_taco("g_a.13.conv1.bias") == "g_a.stage5.0.conv1.bias"
    assert compressai_key_to_taco("g_a.15.weight") is None
    assert compressai_key_to_taco("latent_codec.hyper.h_a.0.weight") == "latent_codec.hyper.h_a.0.weight"


def test_a_broken_compressai_checkpoint_is_named_as_theirs(reference, tmp_path):
    state = dict(reference.state_dict())
    del state["latent_codec.y.latent_codec.y1.context_prediction.weight"]
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(taco.CheckpointError,
                       match=r"no tensor 'latent_codec\.y\.latent_codec\.y1\.context_prediction\.weight': "
                             "not a checkpoint of CompressAI's Elic2022Official"):
        import_checkpoint(tmp_path / "broken.pth")
    state = dict(reference.state_dict())
    state["latent_codec.hyper.h_s.9.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(taco.CheckpointError, match=r"do not fit CompressAI's Elic2022Official .*"
                                                   r"unexpected \(their names\) 1: latent_codec\.hyper\.h_s\.9\.weight"):
        import_checkpoint(tmp_path / "extra.pth")


def test_tacos_own_state_dict_is_told_how_to_save_it(tmp_path, capsys):
    own = tmp_path / "own.pth"
    torch.save(taco.create_model("elic-tiny", layout="compressai").state_dict(), own)
    with pytest.raises(taco.CheckpointError, match="a taco model's own state dict .*nothing to "
                                                   r"import.*load_state_dict.*taco\.save_checkpoint"):
        import_checkpoint(own)
    # taco.load of it names both routes: the import, and the one for taco's own state dict
    with pytest.raises(taco.CheckpointError, match=r"Elic2022Official.*taco import-checkpoint.*own"):
        taco.load(own)
    assert cli.main(["import-checkpoint", str(own), "-o", str(tmp_path / "x.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("taco import-checkpoint: error: ") and "taco.save_checkpoint" in err


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
