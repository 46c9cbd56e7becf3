"""create_model / save_checkpoint / load: self-describing safetensors, clear errors."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

import taco
from taco.models import (
    MODEL_CONFIGS,
    CheckpointError,
    ModelConfig,
    create_model,
    load,
    load_checkpoint,
    model_fingerprint,
    save_checkpoint,
)


def test_create_model_is_seeded_and_overridable():
    a, b = create_model("elic-tiny", seed=3), create_model("elic-tiny", seed=3)
    assert model_fingerprint(a) == model_fingerprint(b)
    assert model_fingerprint(a) != model_fingerprint(create_model("elic-tiny", seed=4))
    m = create_model("taco-tiny", use_mask=True)
    assert m.g_a.adapter.ca1.use_mask and m.model_id == "taco-tiny+custom"
    with pytest.raises(ValueError, match="unknown model"):
        create_model("nope")


def test_config_validation():
    with pytest.raises(ValueError, match="sum to M"):
        ModelConfig(M=10, groups=[4, 4])
    with pytest.raises(ValueError, match="architecture"):
        ModelConfig(architecture="hific")
    assert ModelConfig(architecture="elic").text_encoder is None


def test_checkpoint_round_trip(tmp_path, sample_image):
    model = create_model("taco-tiny", seed=5, gamma_init=0.2)
    path = save_checkpoint(model, tmp_path / "m.safetensors", metadata={"lambda": 0.004})
    loaded = load(path)
    assert loaded.metadata["lambda"] == 0.004
    assert loaded.config == model.config
    assert model_fingerprint(loaded) == model_fingerprint(model)
    crop = sample_image.crop((0, 0, 96, 80))
    data = taco.compress(crop, "a cat", model)
    assert taco.compress(crop, "a cat", loaded) == data
    assert taco.decompress(data, loaded).size == (96, 80)
    assert not list(tmp_path.glob(".*tmp*")), "atomic write left a temporary file"


def test_loading_never_gives_random_weights_silently():
    with pytest.raises(CheckpointError, match="without trained weights"):
        load("taco")
    with pytest.raises(CheckpointError, match="neither a checkpoint"):
        load("no/such/file.safetensors")


def test_bad_checkpoints(tmp_path):
    not_st = tmp_path / "x.safetensors"
    not_st.write_bytes(b"hello")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(not_st)

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="without a taco header"):
        load_checkpoint(plain)

    model = create_model("elic-tiny")
    good = save_checkpoint(model, tmp_path / "good.safetensors")
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(good), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
    state = load_file(str(good))

    # missing tensors
    partial = dict(state)
    partial.pop(next(k for k in partial if k.startswith("g_s.")))
    save_file(partial, str(tmp_path / "partial.safetensors"), metadata={"taco": json.dumps(header)})
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(tmp_path / "partial.safetensors")

    # weights of another architecture under this header
    other = dict(header, config=MODEL_CONFIGS["taco-tiny"].to_dict())
    save_file(state, str(tmp_path / "other.safetensors"), metadata={"taco": json.dumps(other)})
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(tmp_path / "other.safetensors")

    # future version
    future = dict(header, version=99)
    save_file(state, str(tmp_path / "future.safetensors"), metadata={"taco": json.dumps(future)})
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(tmp_path / "future.safetensors")


def test_lazy_top_level_api():
    assert callable(taco.compress) and callable(taco.decompress) and callable(taco.load)
    assert issubclass(taco.TacoFormatError, ValueError)
    with pytest.raises(AttributeError):
        taco.nope  # noqa: B018


def test_half_precision_storage(tmp_path, sample_image):
    model = create_model("elic-tiny", seed=2)
    full = save_checkpoint(model, tmp_path / "full.safetensors")
    half = save_checkpoint(model, tmp_path / "half.safetensors", half=True)
    assert half.stat().st_size < full.stat().st_size  # int32 entropy tables stay as they are
    a, b = load(half), load(half)
    assert all(p.dtype == torch.float32 for p in a.parameters())
    crop = sample_image.crop((0, 0, 64, 64))
    data = taco.compress(crop, None, a)
    assert data == taco.compress(crop, None, b)
    assert taco.decompress(data, b).size == (64, 64)


def test_compact_tables_round_trip_and_tamper_check(tmp_path, sample_image):
    model = create_model("elic-tiny", seed=2)
    full = save_checkpoint(model, tmp_path / "full.safetensors")
    small = save_checkpoint(model, tmp_path / "small.safetensors", compact_tables=True)
    # the Gaussian conditional's CDF table (64 x 3133 int32, 0.8 MB) is most of a tiny model
    assert full.stat().st_size - small.stat().st_size > 800_000
    a, b = load(full), load(small)
    assert model_fingerprint(a) == model_fingerprint(b)  # identical tables after the rebuild
    crop = sample_image.crop((0, 0, 64, 64))
    assert taco.compress(crop, None, a) == taco.compress(crop, None, b)

    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(small), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
    header["gaussian_tables_sha256"] = "0" * 64
    save_file(load_file(str(small)), str(tmp_path / "bad.safetensors"),
              metadata={"taco": json.dumps(header)})
    with pytest.raises(CheckpointError, match="rebuilt on this machine differ"):
        load(tmp_path / "bad.safetensors")


# --------------------------------------------------------------------------- untrusted checkpoints


def _rewrite(src, dst, *, config=None, edit=None):  # noqa: ANN001, ANN202
    """A copy of checkpoint ``src`` at ``dst`` with its header's config updated by ``config`` and
    its tensors changed by ``edit(state)`` (in place)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(src), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
    header["config"].update(config or {})
    state = load_file(str(src))
    if edit is not None:
        edit(state)
    save_file(state, str(dst), metadata={"taco": json.dumps(header)})
    return dst


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    return save_checkpoint(create_model("elic-tiny", seed=0),
                           tmp_path_factory.mktemp("tiny") / "elic-tiny.safetensors")


def _cdf_length_one(state):  # noqa: ANN001, ANN202 - made taco.compress die with SIGFPE
    state["latent_codec.gaussian_conditional._cdf_length"].fill_(1)


def _falling_cdf(state):  # noqa: ANN001, ANN202
    cdf = state["latent_codec.entropy_bottleneck._quantized_cdf"]
    cdf[3, 1], cdf[3, 2] = cdf[3, 2].item(), cdf[3, 1].item()


def _cdf_not_ending_at_one(state):  # noqa: ANN001, ANN202
    state["latent_codec.gaussian_conditional._quantized_cdf"][0, 1:] = 7


def _rows_missing(state):  # noqa: ANN001, ANN202
    for b in ("_quantized_cdf", "_offset", "_cdf_length"):
        key = f"latent_codec.entropy_bottleneck.{b}"
        state[key] = state[key][:-1].clone()


@pytest.mark.parametrize("damage", [_cdf_length_one, _falling_cdf, _cdf_not_ending_at_one, _rows_missing])
def test_damaged_entropy_tables_are_refused_at_load(tmp_path, tiny_file, damage):
    bad = _rewrite(tiny_file, tmp_path / "damaged.safetensors", edit=damage)
    with pytest.raises(CheckpointError, match="entropy-coder tables .* are malformed") as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value)


def test_model_config_widths_are_bounded():
    """Widths are integers 1..MAX_WIDTH: a header's N = 10^9 is refused before anything is built
    (the meta build's entropy bottleneck would allocate 244 bytes per channel)."""
    from taco.models.registry import MAX_WIDTH

    for bad in ({"N": 0}, {"N": MAX_WIDTH + 1}, {"N": 10**9}, {"M": 2.5}, {"N": True},
                {"heads": -1}, {"groups": "16"}, {"groups": [8, 8, 0, 16]}, {"ctx_hidden": [16]}):
        (name,) = bad
        with pytest.raises(ValueError, match=f"^{name} must be .*integers? 1..{MAX_WIDTH}"):
            ModelConfig.from_dict({**MODEL_CONFIGS["elic-tiny"].to_dict(), **bad})
