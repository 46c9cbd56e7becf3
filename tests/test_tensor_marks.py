"""One rule for "has this tensor changed since I last looked?" (:mod:`taco.tensor_marks`), and the
three caches that use it each notice an in-place write, a replaced tensor and a resize or
``set_``: :func:`coder_tables`, :func:`model_fingerprint`, :func:`check_entropy_tables`."""

from __future__ import annotations

import copy
import gc as garbage

import pytest
import torch

from taco.bitstream.rans import coder_tables
from taco.models import create_model, model_fingerprint
from taco.models.checkpoint import check_entropy_tables
from taco.models.config import CheckpointError
from taco.tensor_marks import tensor_marks, unchanged

CHANGES = ["write in place", "replace", "resize", "set_"]


def change(module: torch.nn.Module, name: str, how: str, new: torch.Tensor) -> None:
    """Change buffer ``name`` of ``module`` in the way ``how``: to the values ``new`` (of its
    shape), or for ``resize`` to one entry fewer."""
    t = module.get_buffer(name)
    with torch.no_grad():
        if how == "write in place":
            t.copy_(new)
        elif how == "replace":
            setattr(module, name, new)
        elif how == "resize":
            t.resize_(t.shape[0] - 1, *t.shape[1:])
        else:
            t.set_(new)


@pytest.mark.parametrize("how", CHANGES)
def test_unchanged_follows_each_change(how):
    holder = torch.nn.Module()
    holder.register_buffer("t", torch.arange(6, dtype=torch.int32))
    marks = tensor_marks([holder.t])
    assert marks is not None and unchanged(marks, [holder.t])
    change(holder, "t", how, holder.t - 1)
    assert not unchanged(marks, [holder.t])


def test_unchanged_wants_the_very_tensors_in_order():
    a, b = torch.zeros(3), torch.zeros(3)
    marks = tensor_marks([a, b])
    assert marks is not None and unchanged(marks, [a, b])
    assert not unchanged(marks, [b, a]) and not unchanged(marks, [a]) and not unchanged(marks, [a, a.clone()])
    assert not unchanged(marks, [a, b.to(torch.float64)])  # moved or converted: another tensor


def test_a_dead_tensor_matches_nothing():
    marks = tensor_marks([torch.zeros(4)])
    garbage.collect()
    assert marks is not None and not unchanged(marks, [torch.zeros(4)])


def test_inference_tensors_have_no_marks():
    with torch.inference_mode():
        t = torch.zeros(2)
    assert tensor_marks([torch.zeros(2), t]) is None
    marks = tensor_marks([torch.zeros(2)])
    assert marks is not None and not unchanged(marks, [t])


@pytest.mark.parametrize("how", CHANGES)
def test_coder_tables_follow_each_change(how):
    em = create_model("elic-tiny", seed=0).latent_codec.gaussian_conditional
    first = coder_tables(em)
    assert coder_tables(em) is first  # unchanged: reused
    change(em, "_offset", how, em._offset - 1)
    second = coder_tables(em)
    assert second is not first and second.offsets == em._offset.tolist() != first.offsets
    assert coder_tables(em) is second


def test_coder_tables_of_inference_tensors_follow_a_replaced_buffer():
    """Compared by contents: a buffer of other values, or of another dtype, rebuilds them."""
    em = create_model("elic-tiny", seed=0).latent_codec.entropy_bottleneck
    with torch.inference_mode():
        em.update(force=True)
        first = coder_tables(em)
        em._quantized_cdf = em._quantized_cdf.double()
        second = coder_tables(em)
    assert second is not first and coder_tables(em) is second
    em._offset = em._offset - 1
    assert coder_tables(em).offsets == [o - 1 for o in first.offsets]


@pytest.mark.parametrize("how", CHANGES)
def test_model_fingerprint_follows_each_change(how):
    model = create_model("elic-tiny", seed=0)
    first = model_fingerprint(model)
    gc = model.latent_codec.gaussian_conditional
    change(gc, "_offset", how, gc._offset - 1)
    second = model_fingerprint(model)
    assert second != first and second == model_fingerprint(copy.deepcopy(model))  # hashed anew


def test_model_fingerprint_follows_a_parameter_given_new_data():
    """``p.data = ...`` keeps the parameter object: its data pointer tells."""
    model = create_model("elic-tiny", seed=0)
    first = model_fingerprint(model)
    p = next(model.parameters())
    p.data = p.data * 2
    assert model_fingerprint(model) != first


@pytest.mark.parametrize("how", CHANGES)
def test_check_entropy_tables_follows_each_change(how):
    """Tables that passed, then broken (offsets beyond [-(cdf_length - 3), 0], or too few of
    them): checked again and refused."""
    model = create_model("elic-tiny", seed=0)
    check_entropy_tables(model)
    gc = model.latent_codec.gaussian_conditional
    change(gc, "_offset", how, gc._offset + (1 << 20))
    with pytest.raises(CheckpointError, match=r"tables \(.*gaussian_conditional\) are malformed"):
        check_entropy_tables(model)
