"""taco hashes the model once per compress and decompress call (taco.models.model_fingerprint: each
call walks the model's state_dict, ~400 tensors, to confirm its cached hash), not once for the
coding copy and again for the header (nor twice per try of a max_bytes bisection)."""

from __future__ import annotations

import pytest

from taco.bitstream.container import unpack
from taco.codec import compress_image, decompress
from taco.models import create_model, model_fingerprint
from taco.pipeline import compress_batch


@pytest.fixture()
def state_walks(monkeypatch):
    """walks(model) -> a list that grows by one at each ``model.state_dict(keep_vars=True)``
    (model_fingerprint's walk) from then on."""

    def walks(model) -> list[None]:
        seen: list[None] = []
        inner = model.state_dict

        def counting(*args, **kwargs):
            if kwargs.get("keep_vars"):
                seen.append(None)
            return inner(*args, **kwargs)

        monkeypatch.setattr(model, "state_dict", counting)
        return seen

    return walks


def test_compress_image_hashes_the_model_once(tiny_elic, sample_image, state_walks):
    image = sample_image.crop((0, 0, 96, 64))
    before = compress_image(image, None, tiny_elic).data  # builds the coding copy
    walks = state_walks(tiny_elic)
    data = compress_image(image, None, tiny_elic).data
    assert len(walks) == 1
    assert data == before
    assert unpack(data).header.fingerprint == model_fingerprint(tiny_elic)

    walks.clear()
    decompress(data, tiny_elic)
    assert len(walks) == 1


def test_a_batch_hashes_the_model_once_a_batch(tiny_elic, sample_image, state_walks):
    images = [sample_image.crop((i, 0, i + 64, 64)) for i in range(3)]
    compress_batch(images[:1], None, tiny_elic)
    walks = state_walks(tiny_elic)
    results = compress_batch(images, None, tiny_elic, batch_size=3)
    assert len(walks) == 1
    walks.clear()
    results = compress_batch(images, None, tiny_elic, batch_size=1)
    assert len(walks) == 3
    assert [r.data for r in results] == [compress_image(i, None, tiny_elic).data for i in images]


def test_weights_changed_between_batches_are_named_in_the_later_files(sample_image):
    """``progress``, called between batches, may change the weights (a fine-tuning step): each
    file names the weights that coded it, and decodes with them."""
    import torch

    model = create_model("elic-tiny", seed=0)
    images = [sample_image.crop((i, 0, i + 64, 64)) for i in range(2)]

    def step(stage, done, total):
        if done == 1:
            with torch.no_grad():
                next(model.latent_codec.parameters()).mul_(1.01)

    first, second = compress_batch(images, None, model, batch_size=1, progress=step)
    assert unpack(first.data).header.fingerprint != unpack(second.data).header.fingerprint
    assert unpack(second.data).header.fingerprint == model_fingerprint(model)
    assert decompress(second.data, model).size == (64, 64)


def test_a_size_budget_hashes_the_model_once(sample_image, state_walks):
    model = create_model("elic-tiny", seed=2, qualities=[0.0002, 0.0016, 0.009, 0.015])
    image = sample_image.crop((0, 0, 96, 64))
    largest = compress_image(image, None, model, quality=4)
    walks = state_walks(model)
    result = compress_image(image, None, model, max_bytes=len(largest.data))
    assert len(walks) == 1  # three codings (bisection over 1..4), one hash
    assert result.data == largest.data


def test_changed_weights_still_code_with_a_new_copy(sample_image):
    """The fingerprint passed down is the model's at that call: a weight changed in between
    gives another header and a rebuilt coding copy, as before."""
    import torch

    from taco.models.coding import coding_codec

    model = create_model("elic-tiny", seed=0)
    image = sample_image.crop((0, 0, 64, 64))
    first = compress_image(image, None, model).data
    old_codec = coding_codec(model)
    with torch.no_grad():
        next(model.latent_codec.parameters()).mul_(1.5)
    second = compress_image(image, None, model).data
    assert unpack(second).header.fingerprint == model_fingerprint(model) != unpack(first).header.fingerprint
    assert coding_codec(model) is not old_codec
