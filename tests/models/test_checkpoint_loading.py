"""Loading a checkpoint: what an allocation failure is called, the one function that loads a
state dict into a model (:func:`load_model_state`), and :func:`check_entropy_tables`, which
checks a model's tables once until they change."""

from __future__ import annotations

import copy
import errno

import pytest
import torch
from compressai.models.base import CompressionModel

from taco.memory import allocation_failure
from taco.models import (
    CheckpointError,
    checkpoint as checkpoint_module,
    create_model,
    load_checkpoint,
    save_checkpoint,
)
from taco.models.checkpoint import check_entropy_tables, load_model_state


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "elic-tiny.safetensors"
    return save_checkpoint(create_model("elic-tiny", seed=0), path)


# --------------------------------------------------------------------------- running out of memory


@pytest.mark.parametrize(("exc", "what"), [
    (MemoryError(), "an allocation failed"),
    (OSError(errno.ENOMEM, "Cannot allocate memory"), "an allocation failed"),  # a failed mmap
    (Exception("Cannot allocate memory (os error 12)"), "an allocation failed"),  # safetensors'
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 12884901888 "
                  "bytes. Error code 12 (Cannot allocate memory)"), "could not allocate 12.0 GiB"),
    (OSError(errno.ENOENT, "No such file or directory"), None),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"), None),
    (ValueError("os error 12"), None),  # not safetensors' words: those have the parentheses
])
def test_allocation_failure_is_decided_in_one_place(exc, what):
    """ENOMEM and safetensors' "(os error 12)" were only the checkpoint header reader's
    (``header.is_out_of_memory``); the CLI and the codec did not count them."""
    assert allocation_failure(exc) == what


def test_only_an_allocation_failure_is_said_not_to_fit_in_memory(tiny_file, monkeypatch):
    """Any RuntimeError of the real build was 'the model does not fit in memory'."""

    def build(fails):  # noqa: ANN001, ANN202
        def build_model(config):  # noqa: ANN001, ANN202
            raise fails
        return build_model

    too_big = RuntimeError(
        "DefaultCPUAllocator: can't allocate memory: you tried to allocate 12884901888 bytes.")
    for way in ("filled_whole", "build_model"):  # the skeleton given memory, or a real build
        if way == "build_model":
            monkeypatch.setattr(checkpoint_module, "filled_whole", lambda skeleton: None)
        monkeypatch.setattr(checkpoint_module, way, build(too_big))
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(tiny_file)
        assert str(err.value) == f"{tiny_file}: the model does not fit in memory (could not allocate 12.0 GiB)"

    monkeypatch.setattr(checkpoint_module, "build_model", build(RuntimeError("a width does not divide")))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tiny_file)
    assert str(err.value) == (f"{tiny_file}: invalid model config in the taco header "
                              "(a width does not divide)")


# --------------------------------------------------------------------------- filled_whole


def test_a_checkpoint_loads_the_same_into_its_skeleton_as_into_a_real_build(tiny_file, monkeypatch):
    """load_checkpoint gives the meta-device skeleton memory instead of building the model again
    (its random initialisation, overwritten by the file, cost 50-80 ms): the same tensors, the
    same outputs."""
    from taco.models import model_fingerprint

    fast = load_checkpoint(tiny_file)
    monkeypatch.setattr(checkpoint_module, "filled_whole", lambda skeleton: None)
    built = load_checkpoint(tiny_file)
    assert model_fingerprint(fast) == model_fingerprint(built)
    for (name, a), (_, b) in zip(fast.state_dict().items(), built.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(fast(x)["x_hat"], built(x)["x_hat"])


def test_a_skeleton_with_tensors_outside_its_state_dict_is_built_for_real():
    """A non-persistent buffer, a plain tensor attribute or a shared parameter would be left
    uninitialised (or loaded once) by to_empty + load_state_dict: such a model is built; so is
    a registered backbone's, which may keep a tensor where no check sees it (in a list: left on
    the meta device, its first forward failed)."""
    from taco.models.architecture import build_on_meta
    from taco.models.checkpoint import filled_whole

    config = create_model("elic-tiny").config
    assert filled_whole(build_on_meta(config)) is not None
    with pytest.MonkeyPatch.context() as mp:  # elic as if it were a registered backbone, which
        mp.setattr(checkpoint_module, "BUILTIN_ARCHITECTURES", ("taco",))  # may hold tensors in a list
        assert filled_whole(build_on_meta(config)) is None
    for odd in ("non-persistent", "attribute", "shared"):
        skeleton = build_on_meta(config)
        if odd == "non-persistent":
            skeleton.register_buffer("window", torch.ones(3, device="meta"), persistent=False)
        elif odd == "attribute":
            skeleton.g_s.table = torch.ones(3, device="meta")
        else:
            skeleton.g_s.twin = skeleton.g_a
        assert filled_whole(skeleton) is None, odd


# --------------------------------------------------------------------------- load_model_state


def test_load_model_state_resizes_tables_compressai_would_not():
    """CompressAI's ``load_state_dict`` resizes only empty tables: a model whose tables were
    built at 32 scale levels refused a state with 64. ``load_model_state`` (training's, now the
    one loader, and ``ELIC.load_state_dict``: tests/models/test_load_state_dict.py) takes it,
    and leaves tables the state lacks as they are."""
    source = create_model("elic-tiny", seed=0)
    source.update(force=True)
    target = create_model("elic-tiny", seed=1)
    target.set_scale_levels(32)
    target.update(force=True)
    gc = "latent_codec.gaussian_conditional"
    assert target.state_dict()[f"{gc}.scale_table"].shape != source.state_dict()[f"{gc}.scale_table"].shape
    with pytest.raises(RuntimeError, match="size mismatch"):
        CompressionModel.load_state_dict(target, source.state_dict())
    load_model_state(target, source.state_dict())
    for k, v in source.state_dict().items():
        assert torch.equal(target.state_dict()[k], v), k
    check_entropy_tables(target)

    partial = {k: v for k, v in source.state_dict().items() if not k.startswith(gc)}
    kept = target.state_dict()[f"{gc}._quantized_cdf"].clone()
    result = load_model_state(target, partial, strict=False)
    assert f"{gc}._quantized_cdf" in result.missing_keys
    assert torch.equal(target.state_dict()[f"{gc}._quantized_cdf"], kept)


# --------------------------------------------------------------------------- checked once


def _hidden_write(t: torch.Tensor) -> None:
    """Break a CDF table through ``.data``: torch's version counter does not see it."""
    t.data.fill_(1)


def test_tables_checked_at_load_are_not_checked_again(tiny_file):
    """``taco.codec.coding_codec`` checks the tables of a model's latent codec again (they can
    change after load): that check is free when they have not. Shown with a write torch does not
    count (documented as unseen): it passes, where every check computed anew refuses it."""
    model = load_checkpoint(tiny_file)
    eb = model.latent_codec.entropy_bottleneck
    _hidden_write(eb._cdf_length)
    check_entropy_tables(model.latent_codec)  # remembered from load_checkpoint's check
    check_entropy_tables(model)
    # a copy's tables are other tensors: checked anew (the codec's float64 copy is one)
    with pytest.raises(CheckpointError, match=r"tables \(.*entropy_bottleneck\) are malformed"):
        check_entropy_tables(copy.deepcopy(model.latent_codec))
    eb._cdf_length.add_(0)  # an in-place write torch counts, even one changing nothing
    with pytest.raises(CheckpointError, match=r"tables \(.*entropy_bottleneck\) are malformed"):
        check_entropy_tables(model.latent_codec)


@pytest.mark.parametrize("change", [
    "write in place", "replace with the same shape", "resize", "new scale table",
])
def test_a_table_changed_after_the_check_is_checked_again(tiny_file, change):
    model = load_checkpoint(tiny_file)
    gc = model.latent_codec.gaussian_conditional
    check_entropy_tables(model)
    if change == "write in place":
        gc._cdf_length.fill_(1)
    elif change == "replace with the same shape":  # freed, and maybe reallocated at its address
        gc._cdf_length = torch.ones_like(gc._cdf_length)
    elif change == "resize":
        gc._quantized_cdf.resize_(gc._quantized_cdf.shape[0], 2)
    else:  # more scales than CDFs: the coder would index past the table
        gc.scale_table = torch.cat([gc.scale_table, gc.scale_table[-1:] * 2])
    with pytest.raises(CheckpointError, match=r"tables \(.*gaussian_conditional\) are malformed"):
        check_entropy_tables(model)


def test_the_codec_refuses_tables_broken_after_load(tiny_file, sample_image):
    """The check the codec makes before it codes (``coding_codec``) still sees a change."""
    import taco

    model = load_checkpoint(tiny_file)
    model.latent_codec.gaussian_conditional._cdf_length.fill_(1)  # made compress die with SIGFPE
    with pytest.raises(CheckpointError, match="are malformed"):
        taco.compress(sample_image, None, model)


def test_tables_without_a_version_counter_are_checked_every_time():
    """Tables built under ``torch.inference_mode`` count no writes: never remembered."""
    model = create_model("elic-tiny", seed=0)
    with torch.inference_mode():
        model.update(force=True)
    gc = model.latent_codec.gaussian_conditional
    assert gc._cdf_length.is_inference()
    check_entropy_tables(model)
    with torch.inference_mode():
        gc._cdf_length.fill_(1)
    with pytest.raises(CheckpointError, match=r"tables \(.*gaussian_conditional\) are malformed"):
        check_entropy_tables(model)
