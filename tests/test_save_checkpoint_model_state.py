"""save_checkpoint leaves the caller's model as it was (session 38's review, t9): it used to
rebuild the model's entropy-coder tables in place, so a model fine-tuned in Python that had
coded files could no longer decode them after saving. A model on the meta device and a
torch.compile / DataParallel wrapper are refused in one clear line (t3, t14)."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import taco
from taco.codec import decompress_tensor
from taco.errors import TacoWarning
from taco.models import ELIC, create_model, model_fingerprint, save_checkpoint
from taco.models.checkpoint import check_has_data

CAPTION = "a cat"


def _image() -> torch.Tensor:
    g = torch.Generator().manual_seed(38)
    return torch.rand(3, 64, 96, generator=g)


def _fine_tuned() -> taco.ELIC:
    """elic-tiny whose weights changed after its tables were built (as a few optimiser steps
    in Python change them): its tables are out of date for its weights."""
    model = taco.create_model("elic-tiny", seed=0)
    with torch.no_grad():
        model.latent_codec.entropy_bottleneck.quantiles.mul_(1.5)
        for p in model.g_s.parameters():
            p.mul_(1.01)
    return model


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_saving_keeps_the_models_tables_and_its_files_decode(tmp_path):
    model = _fine_tuned()
    data = taco.compress(_image(), None, model)
    decoded = decompress_tensor(data, model)[0]
    before, fingerprint = _state(model), model_fingerprint(model)

    with pytest.warns(TacoWarning, match=r"out of date .*model\.update\(force=True\)") as caught:
        path = save_checkpoint(model, tmp_path / "ft.safetensors")
    assert len(caught) == 1 and caught[0].filename == __file__  # once, at the caller's line

    after = model.state_dict()
    assert [k for k in before if not torch.equal(before[k], after[k])] == []
    assert model_fingerprint(model) == fingerprint
    assert torch.equal(decompress_tensor(data, model)[0], decoded)  # was TacoFormatError
    # the checkpoint holds tables rebuilt from the weights: not the model's, as the warning says
    saved = taco.load(path)
    with pytest.raises(taco.TacoFormatError):
        taco.decompress(data, saved)
    # after update(force=True), as documented, the model codes what the checkpoint decodes
    model.update(force=True)
    again = taco.compress(_image(), None, model)
    assert taco.compress(_image(), None, saved) == again
    assert torch.equal(decompress_tensor(again, saved)[0], decompress_tensor(again, model)[0])


@pytest.mark.parametrize("form", [{}, {"half": True, "compact_tables": True},
                                  {"compact_tables": "auto"}])
def test_the_file_is_what_an_in_place_update_wrote(tmp_path, form):
    """The tables built on copies are those update(force=True) builds on the model itself."""
    model = _fine_tuned()
    updated = copy.deepcopy(model)
    updated.update(force=True)
    with pytest.warns(TacoWarning):
        a = save_checkpoint(model, tmp_path / "copies.safetensors", **form)
    b = save_checkpoint(updated, tmp_path / "in-place.safetensors", update_tables=False, **form)
    assert a.read_bytes() == b.read_bytes()


def test_a_model_with_current_tables_saves_the_same_bytes_without_a_warning(tmp_path):
    model = taco.create_model("elic-tiny", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = save_checkpoint(model, tmp_path / "a.safetensors")
    b = save_checkpoint(model, tmp_path / "b.safetensors", update_tables=False)
    assert a.read_bytes() == b.read_bytes()


def test_a_model_on_the_meta_device_is_refused_before_any_work(tmp_path):
    model = taco.create_model("elic-tiny", seed=0)
    data = taco.compress(_image(), None, model)
    model.to("meta")
    calls = [
        lambda: taco.compress(_image(), None, model),
        lambda: taco.compress_batch([_image()], [None], model),
        lambda: taco.decompress(data, model),
        lambda: decompress_tensor(data, model),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=r"^the model's weights are on the meta device \(no "
                                            r"data\): load it again"):
            call()
    with pytest.raises(TypeError, match=r"^save_checkpoint: the model's weights are on the meta"):
        save_checkpoint(model, tmp_path / "meta.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_a_wrapper_is_told_which_model_to_pass(tmp_path):
    model = taco.create_model("elic-tiny", seed=0)
    wrapped = nn.DataParallel(model)
    with pytest.raises(TypeError, match=r"not DataParallel; pass the taco model it wraps: "
                                        r"model\.module"):
        taco.compress(_image(), None, wrapped)
    with pytest.raises(TypeError, match=r"^save_checkpoint: .*model\.module"):
        save_checkpoint(wrapped, tmp_path / "dp.safetensors")
    assert taco.compress(_image(), None, wrapped.module) == taco.compress(_image(), None, model)
    compiled = torch.compile(model)
    with pytest.raises(TypeError, match=r"not OptimizedModule; pass the taco model it wraps: "
                                        r"model\._orig_mod"):
        taco.compress(_image(), None, compiled)
    with pytest.raises(TypeError, match=r"model\._orig_mod"):
        taco.decompress(taco.compress(_image(), None, model), compiled)


def test_a_file_coded_after_the_save_says_why_the_checkpoint_does_not_decode_it(tmp_path):
    """Regression hunt R10 #1: fine-tune, save, then code with the model in memory (tables still
    stale): the file does not decode with the checkpoint just saved. The warning at the save says
    so for the files coded from then on, and the refusal at the decode names that cause beside
    'give the checkpoint that made it'."""
    model = _fine_tuned()
    with pytest.warns(TacoWarning, match=r"those it codes from now on, decode with it, not with the checkpoint"):
        path = save_checkpoint(model, tmp_path / "ft.safetensors")
    data = taco.compress(_image(), None, model)
    with pytest.raises(taco.TacoFormatError) as err:
        taco.decompress(data, taco.load(path))
    assert "give the checkpoint that made it" in str(err.value)
    assert "(a fine-tune without model.update(force=True)), only that model in memory decodes it" in str(err.value)


GAUSSIAN_TABLES = ("_offset", "_quantized_cdf", "_cdf_length", "scale_table")


def never_built(model: ELIC) -> ELIC:
    """``model`` with its Gaussian conditional's tables empty, as a fresh CompressAI module has
    them before its first update."""
    gc = model.latent_codec.gaussian_conditional
    for name in GAUSSIAN_TABLES:
        setattr(gc, name, getattr(gc, name).new_empty(0))
    return model


@pytest.mark.parametrize("compact", [False, True, "auto"])
def test_tables_never_built_are_no_stale_tables(tmp_path: Path, compact: bool | str) -> None:
    """Empty tables were never built: no file was coded with them, so no warning; the file
    holds (or, compact, digests and rebuilds) the tables built from the weights, and loads."""
    model = never_built(create_model("elic-tiny", seed=0))
    path = tmp_path / "m.safetensors"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a TacoWarning about out-of-date tables fails
        save_checkpoint(model, path, compact_tables=compact)
    loaded = taco.load(str(path))
    assert loaded.latent_codec.gaussian_conditional.scale_table.numel() == 64
    # the caller's model is left as it was
    assert all(getattr(model.latent_codec.gaussian_conditional, n).numel() == 0 for n in GAUSSIAN_TABLES)


def test_an_update_set_on_the_instance_does_not_touch_the_callers_tables(tmp_path: Path) -> None:
    """The rebuild runs the class's update on the copy: an update set on the instance (a spy or
    wrapper naming the model) would rebuild the caller's own tables."""
    model = create_model("elic-tiny", seed=0)
    with torch.no_grad():
        model.latent_codec.entropy_bottleneck.quantiles.add_(0.5)  # weights changed: tables out of date
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.update = lambda *a, **k: ELIC.update(model, *a, **k)  # names the model, not the copy
    with pytest.warns(taco.TacoWarning, match="out of date"):
        save_checkpoint(model, tmp_path / "m.safetensors")
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_weights_partly_on_the_meta_device_are_refused(tmp_path: Path) -> None:
    """A submodule moved to the meta device (parameters, no buffers of its own) has no data
    either: refused, before any work."""
    model = create_model("elic-tiny", seed=0)
    model.g_s.to("meta")
    assert not any(b.is_meta for b in model.buffers())
    with pytest.raises(TypeError, match="meta device"):
        check_has_data(model)
    with pytest.raises(TypeError, match="save_checkpoint: the model's weights are on the meta device"):
        save_checkpoint(model, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
