"""What a Python user of the library meets at its boundary: models in another precision, the
error classes to catch, warnings blamed on the caller's line, and argument checks."""

from __future__ import annotations

import copy

import pytest
import torch

import taco

CAPTION = "Close up of a tabby cat with green eyes looking to the side."


@pytest.mark.parametrize("convert", [torch.Tensor.half, torch.Tensor.double,
                                     lambda t: t.to(torch.bfloat16)],
                         ids=["half", "double", "bfloat16"])
def test_a_model_in_another_precision_is_refused(tiny_taco, sample_image, convert):
    """A .half() model wrote files nothing could decode (the decoder did not cast, and the
    fingerprint was over the half weights); a bfloat16 one failed inside the fingerprint."""
    crop = sample_image.crop((0, 0, 64, 64))
    data = taco.compress(crop, CAPTION, tiny_taco)
    model = copy.deepcopy(tiny_taco)
    model._apply(lambda t: convert(t) if t.is_floating_point() else t)
    with pytest.raises(TypeError, match=r"weights are \w+: .*convert it back with model.float\(\)"):
        taco.compress(crop, CAPTION, model)
    with pytest.raises(TypeError, match=r"model.float\(\)"):
        taco.compress_image(crop, CAPTION, model)
    with pytest.raises(TypeError, match=r"model.float\(\)"):
        taco.compress_batch([crop], [CAPTION], model)
    with pytest.raises(TypeError, match=r"model.float\(\)"):
        taco.decompress(data, model)
    back = model.float()  # what the message says to do: its files decode
    assert taco.decompress(taco.compress(crop, CAPTION, back), back).size == crop.size
