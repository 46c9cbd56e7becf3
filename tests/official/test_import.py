"""``taco import-checkpoint``: the authors' checkpoints load, and give the authors' outputs.

tests/data/official was made with the authors' own code (scripts/make_official_golden.py,
command in docs/official.md): their TACO at N=8, M=16, groups 4/4/8 (text width 32, taco's
clip-tiny), every weight moved off its initial value, saved as their train.py saves it; an input
batch, text embeddings and their eval-mode forward outputs. No code of theirs runs here.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import taco
from taco import cli
from taco.models import CheckpointError, model_fingerprint, save_checkpoint
from taco.official.checkpoint import (
    import_checkpoint,
    import_checkpoint_file,
    official_key_to_taco,
    read_official_state_dict,
)
from taco.text.base import TextTokens

DATA = Path(__file__).resolve().parents[1] / "data" / "official"
GOLDEN = DATA / "taco-tiny.pth.tar"
IO = load_file(str(DATA / "taco-tiny-io.safetensors"))


def bits(y: torch.Tensor, z: torch.Tensor) -> float:
    return float(-torch.log2(y.double()).sum() - torch.log2(z.double()).sum())


def assert_matches_their_forward(model) -> None:  # noqa: ANN001
    """Max |delta x_hat| <= 1e-4 and total rate within 1e-4 relative (issue 13)."""
    x = IO["x"].float() / 255
    text = TextTokens(IO["text"], torch.ones(IO["text"].shape[:2], dtype=torch.bool))
    with torch.no_grad():
        out = model.eval()(x, text)
    assert (out["x_hat"] - IO["x_hat"]).abs().max() <= 1e-4
    ours = bits(out["likelihoods"]["y"], out["likelihoods"]["z"])
    theirs = bits(IO["y_likelihoods"], IO["z_likelihoods"])
    assert abs(ours - theirs) <= 1e-4 * theirs
    assert (out["likelihoods"]["y"] - IO["y_likelihoods"]).abs().max() <= 1e-5


@pytest.fixture(scope="module")
def imported():
    return import_checkpoint(GOLDEN, text_encoder="clip-tiny")


def test_golden_checkpoint_gives_their_outputs(imported):
    cfg = imported.config
    assert (cfg.architecture, cfg.N, cfg.M, cfg.groups, cfg.ctx_hidden) == ("taco", 8, 16, [4, 4, 8], [16, 16])
    assert cfg.layout == "reference" and cfg.text_encoder == {"name": "clip-tiny"}
    assert imported.metadata["source_epoch"] == 49 and imported.model_id == "taco-official"
    assert_matches_their_forward(imported)


def test_saved_and_loaded_checkpoint_gives_their_outputs_and_codes(imported, tmp_path, sample_image):
    path = save_checkpoint(imported, tmp_path / "official.safetensors")
    model = taco.load(path)
    assert model_fingerprint(model) == model_fingerprint(imported)
    assert_matches_their_forward(model)
    crop = sample_image.crop((0, 0, 128, 96))
    data = taco.compress(crop, "a cat", model)
    assert taco.decompress(data, model).size == (128, 96)


def test_import_checkpoint_file_writes_what_import_checkpoint_gives(imported, tmp_path):
    """taco.official.import_checkpoint_file: import, then save_checkpoint; the file loads as the
    imported model (same fingerprint, metadata and outputs)."""
    path = import_checkpoint_file(GOLDEN, tmp_path / "official.safetensors", text_encoder="clip-tiny")
    assert path == tmp_path / "official.safetensors" and path.is_file()
    model = taco.load(path)
    assert model_fingerprint(model) == model_fingerprint(imported)
    assert model.metadata["imported_from"] == imported.metadata["imported_from"]
    assert model.config.text_encoder == {"name": "clip-tiny"}
    assert_matches_their_forward(model)


def test_every_name_maps_once(imported):
    state, _ = read_official_state_dict(GOLDEN)
    assert not any(k.startswith("module.") for k in state)
    names = {k: official_key_to_taco(k) for k in state}
    assert None not in names.values()
    assert len(set(names.values())) == len(names)
    assert set(names.values()) <= set(imported.state_dict())
    assert names["g_a.analysis_transform.8.text_feature_dim_proj.weight"] == "g_a.adapter.ca1.text_proj.weight"
    assert names["g_a.analysis_transform.14.cross_attn.in_proj_weight"] == "g_a.adapter.ca2.attn.in_proj_weight"
    assert names["g_a.analysis_transform.5.branch.2.weight"] == "g_a.base.stage2.1.conv2.weight"
    assert names["g_s.synthesis_transform.12.branch.4.bias"] == "g_s.12.conv3.bias"
    assert names["entropy_parameters_nonanchor.2.fusion.4.weight"] == \
        "latent_codec.nonanchor_parameters.2.4.weight"
    # every weight of theirs is in the model, unchanged
    ours = imported.state_dict()
    for k, v in state.items():
        if k.rsplit(".", 1)[-1] not in ("_quantized_cdf", "_offset", "_cdf_length", "scale_table"):
            assert torch.equal(ours[names[k]], v), k


def test_bare_state_dict_and_cli(tmp_path, capsys, sample_image):
    state = torch.load(GOLDEN, weights_only=True)["state_dict"]
    bare = tmp_path / "bare.pth"
    torch.save({k.removeprefix("module."): v for k, v in state.items()}, bare)
    out = tmp_path / "model.safetensors"
    assert cli.main(["import-checkpoint", str(bare), "-o", str(out), "--text-encoder", "clip-tiny"]) == 0
    assert "TACO N=8 M=16 groups [4, 4, 8]" in capsys.readouterr().out
    assert_matches_their_forward(taco.load(out))
    image = tmp_path / "cat.png"
    sample_image.crop((0, 0, 64, 64)).save(image)
    assert cli.main(["compress", str(image), "--caption", "a cat", "--model", str(out),
                     "-o", str(tmp_path / "cat.taco")]) == 0
    assert cli.main(["decompress", str(tmp_path / "cat.taco"), "--model", str(out),
                     "-o", str(tmp_path / "back.png")]) == 0


def _elic_state() -> dict[str, torch.Tensor]:
    """The golden TACO as an ELIC checkpoint of JiangWeibeta/ELIC's layout: the same g_a without
    the injector (8), extractor (14) and injector (15), renumbered."""
    state = torch.load(GOLDEN, weights_only=True)["state_dict"]
    elic_index = {i: i for i in range(8)} | {9: 8, 10: 9, 11: 10, 12: 11, 13: 12, 16: 13, 17: 14}
    out = {}
    for k, v in state.items():
        m = re.match(r"module\.g_a\.analysis_transform\.(\d+)\.(.*)", k)
        if m is None:
            out[k] = v
        elif int(m.group(1)) in elic_index:
            out[f"module.g_a.analysis_transform.{elic_index[int(m.group(1))]}.{m.group(2)}"] = v
    return out


def test_elic_checkpoint_imports_as_elic(imported, tmp_path):
    path = tmp_path / "elic.pth.tar"
    torch.save({"epoch": 3, "state_dict": _elic_state()}, path)
    elic = import_checkpoint(path)
    assert elic.config.architecture == "elic" and elic.config.text_encoder is None
    assert elic.model_id == "elic-official"  # was "custom", as every import
    ours = imported.state_dict()
    for k, v in elic.state_dict().items():
        assert torch.equal(v, ours[k.replace("g_a.", "g_a.base.", 1) if k.startswith("g_a.") else k]), k


# --------------------------------------------------------------------------- refusals


def test_checkpoint_of_another_architecture_is_one_clear_error(tmp_path):
    state = torch.load(GOLDEN, weights_only=True)["state_dict"]
    del state["module.entropy_parameters_anchor.1.fusion.2.bias"]
    state["module.entropy_parameters_anchor.1.fusion.6.weight"] = torch.zeros(3)
    state["module.g_s.extra.weight"] = torch.zeros(3)
    path = tmp_path / "other.pth.tar"
    torch.save({"state_dict": state}, path)
    with pytest.raises(CheckpointError) as e:
        import_checkpoint(path, text_encoder="clip-tiny")
    msg = str(e.value)
    assert "missing (taco names) 1: latent_codec.anchor_parameters.1.2.bias" in msg
    assert "unexpected (their names) 2: entropy_parameters_anchor.1.fusion.6.weight, g_s.extra.weight" in msg
    # taco's own (CompressAI-layout) checkpoint state is not theirs either
    own = tmp_path / "own.pth"
    torch.save(taco.create_model("elic-tiny", layout="compressai").state_dict(), own)
    with pytest.raises(CheckpointError, match="not a checkpoint of the authors' TACO or ELIC"):
        import_checkpoint(own)


def test_wrong_shape_and_wrong_text_width(tmp_path):
    state = torch.load(GOLDEN, weights_only=True)["state_dict"]
    state["module.g_s.synthesis_transform.1.bias"] = torch.zeros(9)
    path = tmp_path / "shape.pth.tar"
    torch.save({"state_dict": state}, path)
    with pytest.raises(CheckpointError, match=r"g_s\.1\.bias \(9,\) \(expected \(8,\)\)"):
        import_checkpoint(path, text_encoder="clip-tiny")
    with pytest.raises(CheckpointError, match="width 32; the text encoder 'clip' gives 512"):
        import_checkpoint(GOLDEN)  # the default, CLIP ViT-B/32


def test_a_pickle_that_weights_only_refuses_is_refused(tmp_path):
    path = tmp_path / "evil.pth.tar"
    torch.save({"state_dict": {}, "args": argparse.Namespace(lr=1e-4)}, path)
    with pytest.raises(CheckpointError, match="refused: it holds argparse.Namespace; taco never "
                       "unpickles code") as refused:
        import_checkpoint(path)
    assert "weights_only" not in str(refused.value)
    garbage = tmp_path / "garbage.pth.tar"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="a text file, not a checkpoint"):
        import_checkpoint(garbage)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        import_checkpoint(tmp_path / "missing.pth.tar")
    assert cli.main(["import-checkpoint", str(path), "-o", str(tmp_path / "x.safetensors")]) == 2
    assert not (tmp_path / "x.safetensors").exists()


def test_a_clip_model_without_clip_is_a_clear_cli_error(tmp_path, clip_checkpoint_and_photo, capsys):
    """An imported TACO needs CLIP ViT-B/32 to encode; where it is not, one line says so."""
    path, image = clip_checkpoint_and_photo
    code = cli.main(["compress", str(image), "--caption", "a cat", "--model", str(path),
                     "--clip-path", str(tmp_path / "no-clip-here")])
    assert code == 2
    assert "taco compress: error: CLIP" in capsys.readouterr().err
    assert not (tmp_path / "cat.taco").exists()


def _elic_2024_state() -> dict[str, torch.Tensor]:
    """:func:`_elic_state` with the entropy-parameter networks of JiangWeibeta/ELIC since
    b240a4c (2024-09-25): hidden widths in*2//3 + out//3 and in//3 + out*2//3 (taco's first
    import rule, out*5//3 and out*4//3, gave 13 and 10 where these are 23 and 15)."""
    state = _elic_state()
    g = torch.Generator().manual_seed(0)
    out = {}
    for k, v in state.items():
        m = re.match(r"module\.entropy_parameters_(anchor|nonanchor)\.(\d+)\.fusion\.(\d)\.(weight|bias)", k)
        if m is None:
            out[k] = v
            continue
        net = f"module.entropy_parameters_{m.group(1)}.{m.group(2)}.fusion"
        i, o = state[f"{net}.0.weight"].shape[1], state[f"{net}.4.weight"].shape[0]
        h1, h2 = i * 2 // 3 + o // 3, i // 3 + o * 2 // 3
        rows, cols = {"0": (h1, i), "2": (h2, h1), "4": (o, h2)}[m.group(3)]
        shape = (rows, cols, 1, 1) if m.group(4) == "weight" else (rows,)
        out[k] = torch.randn(*shape, generator=g) * 0.1
    return out


def test_elic_checkpoint_of_2024_widths_imports_and_codes(tmp_path, capsys, sample_image):
    """JiangWeibeta/ELIC's latest code (b240a4c) builds wider entropy-parameter networks: its
    checkpoints were refused ('tensor shapes do not fit ... anchor_parameters.0.0.weight
    (23, 32, 1, 1) (expected (13, 32, 1, 1))'). They import as param_widths='elic-2024', which
    the saved config carries, so compress and decompress rebuild the model."""
    state = _elic_2024_state()
    assert state["module.entropy_parameters_anchor.0.fusion.0.weight"].shape == (23, 32, 1, 1)
    path = tmp_path / "elic_new.pth.tar"
    torch.save({"epoch": 3, "state_dict": state}, path)
    out = tmp_path / "e.safetensors"
    assert cli.main(["import-checkpoint", str(path), "-o", str(out)]) == 0
    assert "ELIC N=8 M=16 groups [4, 4, 8], param_widths elic-2024," in capsys.readouterr().out
    model = taco.load(out)
    assert model.config.param_widths == "elic-2024" and model.model_id == "elic-official"
    ours = model.state_dict()
    for k, v in state.items():
        name = official_key_to_taco(k.removeprefix("module."), "elic")
        if k.rsplit(".", 1)[-1] not in ("_quantized_cdf", "_offset", "_cdf_length", "scale_table"):
            assert torch.equal(ours[name], v), k
    image = tmp_path / "cat.png"
    sample_image.crop((0, 0, 64, 64)).save(image)
    assert cli.main(["compress", str(image), "--model", str(out), "-o", str(tmp_path / "cat.taco")]) == 0
    assert cli.main(["decompress", str(tmp_path / "cat.taco"), "--model", str(out),
                     "-o", str(tmp_path / "back.png")]) == 0
    # the first layout still imports with the widths taco always built
    torch.save({"epoch": 3, "state_dict": _elic_state()}, tmp_path / "elic.pth.tar")
    assert import_checkpoint(tmp_path / "elic.pth.tar").config.param_widths == "elic-2023"


def test_entropy_parameter_widths_of_neither_rule_are_named(tmp_path):
    state = _elic_state()
    net = "module.entropy_parameters_nonanchor.1.fusion"
    state[f"{net}.0.weight"], state[f"{net}.0.bias"] = torch.zeros(30, 48, 1, 1), torch.zeros(30)
    state[f"{net}.2.weight"] = torch.zeros(state[f"{net}.2.weight"].shape[0], 30, 1, 1)
    path = tmp_path / "odd.pth.tar"
    torch.save({"state_dict": state}, path)
    with pytest.raises(CheckpointError) as e:
        import_checkpoint(path)
    msg = str(e.value)
    assert "latent_codec.nonanchor_parameters.1.0.weight (30, 48, 1, 1) (expected (13, 48, 1, 1))" in msg
    assert "fit neither JiangWeibeta/ELIC's released code (out*5//3, out*4//3: param_widths 'elic-2023'" in msg
    assert "(in*2//3 + out//3, in//3 + out*2//3: 'elic-2024')" in msg
