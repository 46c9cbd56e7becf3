"""Loading a checkpoint: what an allocation failure is called, and the one function that loads a
state dict into a model (:func:`load_model_state`)."""

from __future__ import annotations

import errno

import pytest
import torch

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

    monkeypatch.setattr(checkpoint_module, "build_model", build(RuntimeError(
        "DefaultCPUAllocator: can't allocate memory: you tried to allocate 12884901888 bytes.")))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tiny_file)
    assert str(err.value) == f"{tiny_file}: the model does not fit in memory (could not allocate 12.0 GiB)"

    monkeypatch.setattr(checkpoint_module, "build_model", build(RuntimeError("a width does not divide")))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tiny_file)
    assert str(err.value) == (f"{tiny_file}: invalid model config in the taco header "
                              "(a width does not divide)")


# --------------------------------------------------------------------------- load_model_state


def test_load_model_state_resizes_tables_compressai_would_not():
    """CompressAI's ``load_state_dict`` resizes only empty tables: a model whose tables were
    built at 32 scale levels refused a state with 64. ``load_model_state`` (training's, now the
    one loader) takes it, and leaves tables the state lacks as they are."""
    source = create_model("elic-tiny", seed=0)
    source.update(force=True)
    target = create_model("elic-tiny", seed=1)
    target.set_scale_levels(32)
    target.update(force=True)
    gc = "latent_codec.gaussian_conditional"
    assert target.state_dict()[f"{gc}.scale_table"].shape != source.state_dict()[f"{gc}.scale_table"].shape
    with pytest.raises(RuntimeError, match="size mismatch"):
        target.load_state_dict(source.state_dict())
    load_model_state(target, source.state_dict())
    for k, v in source.state_dict().items():
        assert torch.equal(target.state_dict()[k], v), k
    check_entropy_tables(target)

    partial = {k: v for k, v in source.state_dict().items() if not k.startswith(gc)}
    kept = target.state_dict()[f"{gc}._quantized_cdf"].clone()
    result = load_model_state(target, partial, strict=False)
    assert f"{gc}._quantized_cdf" in result.missing_keys
    assert torch.equal(target.state_dict()[f"{gc}._quantized_cdf"], kept)
