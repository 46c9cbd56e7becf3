"""A model's scale levels (ELIC.set_scale_levels): the table y is coded with survives update,
every checkpoint form and load, files coded with it decode exactly, and 64-level models (the
built-ins) are as they were."""

from __future__ import annotations

import pytest
import torch
from compressai.entropy_models import GaussianConditional
from compressai.latent_codecs import CheckerboardLatentCodec
from compressai.models.base import get_scale_table

import taco
from taco.bitstream import rans, unpack
from taco.codec import coding_codec, pad_to_multiple
from taco.images import image_to_tensor
from taco.models import create_model, fast_codec, load, model_fingerprint, save_checkpoint
from taco.models.checkpoint import MAX_SCALE_TABLE_ENTRIES
from taco.models.entropy import portable_scale_table

#: (architecture, overrides): both entropy layouts and a variable-rate model, at tiny widths
CASES = {
    "compressai": ("elic-tiny", {"layout": "compressai"}),
    "reference": ("elic-tiny", {}),
    "variable-rate": ("elic-tiny", {"qualities": [0.0016, 0.013]}),
}


def gaussians(model: torch.nn.Module) -> list[GaussianConditional]:
    return [m for m in model.modules() if isinstance(m, GaussianConditional)]


def spread(model: taco.models.ELIC) -> None:
    """Scale outputs x300 + 4, so that they cover the whole table, as a trained model's do (a
    random model's all sit below its first level, where a finer table changes nothing)."""
    lc = model.latent_codec
    if model.layout == "reference":
        nets = [*lc.anchor_parameters, *lc.nonanchor_parameters]
    else:
        nets = [m.entropy_parameters for m in lc.modules() if isinstance(m, CheckerboardLatentCodec)]
    with torch.no_grad():
        for net in nets:
            last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
            c = last.out_channels // 2  # scales first, then means
            last.weight[:c] *= 300.0
            last.bias[:c] = last.bias[:c] * 300.0 + 4.0


@pytest.mark.parametrize("case", list(CASES))
def test_set_scale_levels_rebuilds_every_table_and_update_keeps_it(case):
    name, overrides = CASES[case]
    model = create_model(name, **overrides)
    assert model.scale_levels == 64
    fp64 = model_fingerprint(model)
    model.set_scale_levels(256)
    want = portable_scale_table(256)
    assert len(gaussians(model)) == (3 if case == "compressai" else 1)  # one per channel group
    for gc in gaussians(model):
        assert torch.equal(gc.scale_table, want) and gc._quantized_cdf.shape[0] == 256
        assert float(gc.lower_bound_scale.bound) == pytest.approx(0.11)  # training's floor as it was
    assert model.scale_levels == 256 and model_fingerprint(model) != fp64
    fp256 = model_fingerprint(model)
    model.update(force=True)  # what save_checkpoint and training's validation call
    assert model.scale_levels == 256 and model_fingerprint(model) == fp256
    model.set_scale_levels(64)  # back to CompressAI's table: the model as created
    assert model_fingerprint(model) == fp64


@pytest.mark.parametrize("levels", [0, 1, MAX_SCALE_TABLE_ENTRIES + 1, 2.5, True, "256"])
def test_levels_outside_2_to_256_are_refused(levels):
    model = create_model("elic-tiny")
    with pytest.raises(ValueError, match=f"scale levels must be an integer 2..{MAX_SCALE_TABLE_ENTRIES}"):
        model.set_scale_levels(levels)
    assert model.scale_levels == 64


FORMS = {
    "plain": {},
    "half": {"half": True},
    "compact": {"compact_tables": True},
    "shipped": {"half": True, "compact_tables": True},
    "sharded": {"half": True, "compact_tables": True, "max_shard_bytes": 200_000},
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("case", list(CASES))
def test_levels_survive_every_checkpoint_form(tmp_path, case, form):
    name, overrides = CASES[case]
    model = create_model(name, **overrides)
    model.set_scale_levels(256)
    tables = {k: v.clone() for k, v in model.state_dict().items() if k.rsplit(".", 1)[-1] in
              ("scale_table", "_quantized_cdf", "_offset", "_cdf_length")}
    path = save_checkpoint(model, tmp_path / "m.safetensors", **FORMS[form])
    assert model.scale_levels == 256  # saving rebuilt the tables with the model's own
    loaded = load(path)
    assert loaded.scale_levels == 256
    state = loaded.state_dict()
    assert all(torch.equal(state[k], v) for k, v in tables.items())
    if not FORMS[form].get("half"):
        assert model_fingerprint(loaded) == model_fingerprint(model)


def test_a_taco_model_keeps_its_levels_and_codes_with_them(tmp_path, sample_image):
    model = create_model("taco-tiny")
    spread(model)
    model.set_scale_levels(256)
    loaded = load(save_checkpoint(model, tmp_path / "m.safetensors", half=True, compact_tables=True))
    assert loaded.scale_levels == 256
    image = sample_image.crop((0, 0, 128, 96))
    data = taco.compress(image, "a cat", loaded)
    loaded.set_scale_levels(64)
    assert len(taco.compress(image, "a cat", loaded)) > len(data)


@pytest.mark.parametrize("case", list(CASES))
def test_a_256_level_model_codes_files_that_decode_exactly(tmp_path, sample_image, monkeypatch, case):
    """Written as a built-in ships (fp16, compact tables) and loaded twice: what one copy
    encodes with 2 threads and with 1 is the same stream, the other copy decodes it to the
    encoder's latents, the finer levels are really used, and the file is smaller than with 64
    levels for the same decoded image (which a 64-level model cannot decode from it)."""
    name, overrides = CASES[case]
    model = create_model(name, **overrides)
    spread(model)
    model.set_scale_levels(256)
    path = save_checkpoint(model, tmp_path / "m.safetensors", half=True, compact_tables=True)
    encoder, decoder = load(path), load(path)
    quality = encoder.default_quality
    x = pad_to_multiple(image_to_tensor(sample_image.crop((0, 0, 192, 128))))
    with torch.no_grad():
        y = encoder.analysis(x)
    encoded = {}
    for threads in (2, 1):
        torch.set_num_threads(threads)
        encoded[threads] = fast_codec.compress_latent(coding_codec(encoder), y, quality)
    assert encoded[1]["strings"] == encoded[2]["strings"]
    enc = encoded[2]
    decoded = fast_codec.decompress_latent(coding_codec(decoder), enc["strings"], enc["shape"])
    assert torch.equal(decoded["y_hat"], enc["y_hat"])

    indexes: list[torch.Tensor] = []  # y's scale-table indexes, as the coder is given them
    encode = rans.StreamEncoder.encode

    def recording(self, em, symbols, idx):  # noqa: ANN001, ANN202
        if isinstance(em, GaussianConditional):
            indexes.append(idx)
        return encode(self, em, symbols, idx)

    monkeypatch.setattr(rans.StreamEncoder, "encode", recording)
    image = sample_image.crop((0, 0, 160, 96))
    data = taco.compress(image, None, encoder, quality=quality)
    assert max(int(i.max()) for i in indexes) > 64  # the table's upper three quarters are used
    assert taco.decompress(data, decoder).tobytes() == taco.decompress(data, encoder).tobytes()
    encoder.set_scale_levels(64)
    coarse = taco.compress(image, None, encoder, quality=quality)
    assert len(unpack(coarse).payload) > len(unpack(data).payload)
    # the table changes how y_hat is coded, not y_hat: the same image for fewer bytes
    assert taco.decompress(coarse, encoder).tobytes() == taco.decompress(data, decoder).tobytes()
    with pytest.raises(taco.TacoFormatError):  # the fingerprint names the table too
        taco.decompress(coarse, decoder)


def test_the_forward_pass_does_not_see_the_table(sample_image):
    """Training takes likelihoods from the forward pass: the same at 64 and 256 levels."""
    model = create_model("elic-tiny", qualities=[0.0016, 0.013])
    spread(model)
    x = pad_to_multiple(image_to_tensor(sample_image.crop((0, 0, 128, 128))))
    with torch.no_grad():
        before = model(x, quality=1)
        model.set_scale_levels(256)
        after = model(x, quality=1)
    assert torch.equal(before["likelihoods"]["y"], after["likelihoods"]["y"])
    assert torch.equal(before["x_hat"], after["x_hat"])


def test_a_loaded_64_level_builtin_is_unchanged_by_update():
    """A built-in keeps its 64-level table (and so its fingerprint, named in its files) through
    ``update(force=True)``, which before this kept it by rebuilding CompressAI's default."""
    model = load("elic-small-q4")
    fingerprint = model_fingerprint(model)
    assert model.scale_levels == 64
    assert torch.equal(gaussians(model)[0].scale_table, portable_scale_table(64))
    model.update(force=True)
    assert model_fingerprint(model) == fingerprint


def test_a_table_a_compact_checkpoint_cannot_hold_is_refused_before_writing(tmp_path):
    model = create_model("elic-tiny")
    model.update(scale_table=get_scale_table(levels=MAX_SCALE_TABLE_ENTRIES + 1), force=True)
    with pytest.raises(ValueError, match="save this model without compact_tables"):
        save_checkpoint(model, tmp_path / "m.safetensors", compact_tables=True)
    assert not list(tmp_path.iterdir())
    assert load(save_checkpoint(model, tmp_path / "full.safetensors")).scale_levels == 257


def test_ship_model_ships_256_levels_unless_told(ship, tmp_path, capsys):
    trained = save_checkpoint(create_model("elic-tiny"), tmp_path / "run.safetensors",
                              metadata={"lambda": 0.0016, "trained_steps": 3})
    ship.main([str(trained), "new-built-in"])
    shipped = load(tmp_path / "new-built-in.safetensors")
    assert shipped.scale_levels == 256 and shipped.metadata["scale_levels"] == 256
    assert shipped.metadata["trained_steps"] == 3 and shipped.model_id == "new-built-in"
    assert "coded with 256 scale levels" in capsys.readouterr().out
    ship.main([str(trained), "old-style", "--scale-levels", "64"])
    assert load(tmp_path / "old-style.safetensors").metadata["scale_levels"] == 64
    with pytest.raises(SystemExit):
        ship.main([str(trained), "too-fine", "--scale-levels", "512"])
    assert "scale levels must be an integer 2..256" in capsys.readouterr().err
    assert not (tmp_path / "too-fine.safetensors").exists()
