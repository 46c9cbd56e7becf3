"""The reference-layout entropy model (the authors' layout): checkerboard, coding, determinism."""

from __future__ import annotations

import pytest
import torch

import taco
from taco.bitstream import TacoFormatError, unpack
from taco.codec import coding_codec
from taco.models import MODEL_CONFIGS, ModelConfig, create_model, fast_codec, model_fingerprint
from taco.models.entropy import ReferenceLatentCodec, merge_checkerboard, split_checkerboard


def test_checkerboard_anchors_are_where_i_plus_j_is_odd():
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 3, 4, 6)
    anchors, nonanchors = split_checkerboard(x)
    assert anchors.shape == nonanchors.shape == (2, 3, 4, 3)
    i, j = torch.meshgrid(torch.arange(4), torch.arange(6), indexing="ij")
    odd = (i + j) % 2 == 1
    assert torch.equal(anchors.flatten(2), x[:, :, odd].reshape(2, 3, -1))
    assert torch.equal(nonanchors.flatten(2), x[:, :, ~odd].reshape(2, 3, -1))
    assert torch.equal(merge_checkerboard(anchors, nonanchors), x)
    with pytest.raises(ValueError, match="even"):
        split_checkerboard(torch.zeros(1, 1, 3, 4))


def test_new_configs_are_the_reference_layout_old_ones_compressai():
    import hashlib
    import json

    assert ModelConfig().layout == "reference"
    old = {k: v for k, v in ModelConfig(layout="compressai").to_dict().items() if k != "layout"}
    cfg = ModelConfig.from_dict(old)  # a checkpoint header written before the field existed
    assert cfg.layout == "compressai"
    digest = {k: v for k, v in old.items()
              if k not in ("text_injection", "injector_at", "qualities", "options")}
    blob = json.dumps(digest, sort_keys=True, separators=(",", ":")).encode()
    assert cfg.digest() == hashlib.sha256(blob).hexdigest()  # fingerprints of old models hold
    assert ModelConfig().digest() != cfg.digest()
    with pytest.raises(ValueError, match="layout"):
        ModelConfig(layout="elic2022")
    assert isinstance(create_model("elic-tiny").latent_codec, ReferenceLatentCodec)
    assert not isinstance(create_model("elic-tiny", layout="compressai").latent_codec,
                          ReferenceLatentCodec)


@pytest.mark.parametrize("name", ["elic-tiny", "taco-tiny"])
def test_forward_and_coder_agree(name):
    """The eval forward's y_hat is the coder's; decoding gives the encoder's y_hat exactly."""
    model = create_model(name, seed=1, **({"gamma_init": 0.5} if name == "taco-tiny" else {}))
    x = torch.rand(2, 3, 128, 192)
    with torch.no_grad():
        if model.uses_text:
            from taco.text.base import TextTokens

            text = TextTokens(torch.randn(2, 5, model.text_dim), torch.ones(2, 5, dtype=torch.bool))
            y = model.analysis(x, text)
        else:
            y = model.analysis(x)
        fwd = model.latent_codec(y)
        enc = model.latent_codec.compress(y)
        dec = model.latent_codec.decompress(enc["strings"], enc["shape"])
    assert fwd["likelihoods"]["y"].shape == y.shape
    assert fwd["likelihoods"]["z"].shape == (2, model.N, 2, 3)
    assert torch.equal(fwd["y_hat"], enc["y_hat"])
    assert torch.equal(dec["y_hat"], enc["y_hat"])
    assert len(enc["strings"]) == 1 and len(enc["strings"][0]) == 2  # one stream per image
    # the public fast_codec steps drive the same coder
    hyper = fast_codec.compress_hyper(model.latent_codec, y)
    groups = fast_codec.compress_groups(model.latent_codec, y, hyper["params"], hyper["stream"])
    assert groups["stream"].flush() == enc["strings"][0]
    assert fast_codec.num_symbols(model.latent_codec, enc["shape"]) == model.N * 2 * 3 + 32 * 8 * 12


@pytest.mark.parametrize("name", ["elic-tiny", "taco-tiny"])
def test_round_trip_through_taco_compress(name, sample_image):
    model = create_model(name, seed=0)
    crop = sample_image.crop((10, 20, 210, 150))  # 200x130: padded to 256x192
    data = taco.compress(crop, "a cat" if model.uses_text else None, model)
    codec = coding_codec(model)
    shape = model.latent_shapes(192, 256)
    payload = [[unpack(data).payload]]
    y_hat = fast_codec.decompress_latent(codec, payload, shape)["y_hat"]
    again = fast_codec.decompress_latent(codec, payload, shape)["y_hat"]
    assert torch.equal(y_hat, again)
    # the encoder's y_hat is what the decoder gets back
    x = taco.codec.pad_to_multiple(taco.images.image_to_tensor(crop))
    with torch.no_grad():
        text = taco.codec.encode_text(model, ["a cat"]) if model.uses_text else None
        y = model.analysis(x, text)
    enc = fast_codec.compress_latent(codec, y)
    assert enc["strings"][0][0] == unpack(data).payload
    assert torch.equal(enc["y_hat"], y_hat)
    assert taco.decompress(data, model).size == (200, 130)
    with pytest.raises(TacoFormatError):
        taco.decompress(data[:-9] + bytes(9), model)


def spread(model) -> None:
    """Scale outputs x300 + 4: scales spread over the whole table, as a trained model's do (a
    random model's all sit below the first entry, where no index can flip)."""
    with torch.no_grad():
        for net in [*model.latent_codec.anchor_parameters, *model.latent_codec.nonanchor_parameters]:
            last = net[-1]
            c = last.out_channels // 2
            last.weight[:c] *= 300.0
            last.bias[:c] = last.bias[:c] * 300.0 + 4.0
    model.update(force=True)
    taco.models.checkpoint.invalidate_fingerprint(model)


def test_same_bytes_and_latents_with_one_and_two_threads(sample_image):
    model = create_model("elic-tiny", seed=0)
    spread(model)
    crop = sample_image.crop((0, 0, 256, 192))
    shape = model.latent_shapes(192, 256)
    out = {}
    for threads in (2, 1):
        torch.set_num_threads(threads)
        data = taco.compress(crop, None, model)
        y_hat = fast_codec.decompress_latent(coding_codec(model), [[unpack(data).payload]], shape)
        out[threads] = data, y_hat["y_hat"]
    assert out[1][0] == out[2][0]
    assert torch.equal(out[1][1], out[2][1])
    with torch.no_grad():
        y = model.analysis(taco.codec.pad_to_multiple(taco.images.image_to_tensor(crop)))
        fwd = model.latent_codec(y)
    assert -torch.log2(fwd["likelihoods"]["y"]).mean() > 1.0  # the scales really spread out


def test_decoder_refuses_shapes_and_strings_that_do_not_fit():
    codec = create_model("elic-tiny").latent_codec
    y = torch.randn(1, 32, 4, 8)
    enc = codec.compress(y)
    bad_shape = {"y": [torch.Size([8, 4, 8]), torch.Size([8, 4, 8]), torch.Size([16, 4, 4])],
                 "hyper": enc["shape"]["hyper"]}
    with pytest.raises(ValueError, match="do not fit"):
        codec.decompress(enc["strings"], bad_shape)
    with pytest.raises(ValueError, match="one rANS stream per image"):
        codec.decompress([enc["strings"][0], enc["strings"][0]], enc["shape"])
    with pytest.raises(TacoFormatError):
        codec.decompress([[b"\x00" * 7]], enc["shape"])


def test_legacy_layout_models_keep_their_fingerprint_under_the_old_name():
    """A CompressAI-layout model is the model the first releases built: same config digest."""
    old = create_model("elic-tiny", layout="compressai")
    assert old.config.digest() == ModelConfig.from_dict(
        {k: v for k, v in old.config.to_dict().items() if k != "layout"}).digest()
    assert model_fingerprint(old) != model_fingerprint(create_model("elic-tiny"))


def test_training_from_a_compressai_layout_elic_takes_its_layout(tmp_path):
    """--freeze-base --set init_from=an ELIC checkpoint of the CompressAI layout (as the first
    built-ins, elic-small-q4 ...): the TACO being trained gets the layout of the checkpoint it
    starts from, unless model_overrides.layout says."""
    from taco.models import save_checkpoint
    from taco.train.config import load_config
    from taco.train.model_setup import build_training_model

    elic = save_checkpoint(create_model("elic-small", layout="compressai"), tmp_path / "elic.safetensors",
                           half=True, compact_tables=True)
    args = ["preset=taco-frozen-base", "model=taco-minilm-small", "data.root=/x",
            f"init_from={elic}"]
    model = build_training_model(load_config(None, args))
    assert model.config.layout == "compressai"
    assert not any(p.requires_grad for n, p in model.named_parameters() if ".adapter." not in n)
    with pytest.raises(taco.models.CheckpointError, match="layout"):
        build_training_model(load_config(None, [*args, "model_overrides.layout=reference"]))


def test_training_from_the_default_builtin_by_name_starts_from_its_weights():
    """init_from=<a built-in's name> (whichever ships): its layout and its weights."""
    from taco.models.registry import checkpoint_config
    from taco.resolve import DEFAULT_MODEL
    from taco.train.config import load_config
    from taco.train.model_setup import build_training_model

    shipped = checkpoint_config(DEFAULT_MODEL)
    arch = next(name for name, cfg in MODEL_CONFIGS.items()  # its architecture, any layout
                if {**cfg.to_dict(), "layout": shipped.layout} == shipped.to_dict())
    model = build_training_model(load_config(None, [
        "preset=taco" if shipped.architecture == "taco" else "preset=elic", f"model={arch}",
        "data.root=/x", f"init_from={DEFAULT_MODEL}"]))
    assert model.config.layout == shipped.layout
    builtin = taco.load(DEFAULT_MODEL).state_dict()
    for k, v in model.state_dict().items():
        if v.is_floating_point() and k in builtin and "entropy_bottleneck" not in k:
            assert torch.equal(v, builtin[k]), k


def test_a_one_stream_codec_is_coded_by_branch_only_with_its_own_branch_steps(one_call_codec):
    """fast_codec.compress_hyper / compress_groups follow codes_itself, as the rest of fast_codec:
    they read codec.latent_codec["hyper"] of any codec but a ReferenceLatentCodec."""

    class ByBranchCodec(one_call_codec):
        """The same, with the optional branch steps (fast_codec.BRANCH_METHODS)."""

        def compress_hyper(self, y, stream, quality=None):
            return self.inner.compress_hyper(y, stream, quality)

        def compress_groups(self, y, params, stream, quality=None):
            return self.inner.compress_groups(y, params, stream, quality)

    model = create_model("elic-tiny", seed=0)
    reference = coding_codec(model)
    y = model.analysis(torch.rand(1, 3, 64, 64)).detach()
    whole = fast_codec.compress_latent(reference, y)
    by_branch, one_call = ByBranchCodec(reference), one_call_codec(reference)
    assert fast_codec.codes_by_branch(reference) and fast_codec.codes_by_branch(by_branch)
    assert not fast_codec.codes_by_branch(one_call)
    hyper = fast_codec.compress_hyper(by_branch, y)
    groups = fast_codec.compress_groups(by_branch, y, hyper["params"], hyper["stream"])
    assert groups["stream"].flush() == whole["strings"][0]
    assert torch.equal(groups["y_hat"], whole["y_hat"])
    assert fast_codec.compress_latent(one_call, y)["strings"] == whole["strings"]
    for step, args in ((fast_codec.compress_hyper, (y,)),
                       (fast_codec.compress_groups, (y, hyper["params"]))):
        with pytest.raises(TypeError, match=f"OneCallCodec codes itself in one call and has no "
                                            f"{step.__name__}: code it with compress_latent"):
            step(one_call, *args)
    with pytest.raises(ValueError, match="single-rate"):
        fast_codec.compress_hyper(by_branch, y, quality=1)
