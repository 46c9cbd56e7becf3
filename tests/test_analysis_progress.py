"""Encoding a big photo reported only ("analysis", 0, 1), so ``taco compress`` of a 24 MP photo
showed "analysis, 3 s ... analysis, 175 s" with no fraction while decoding showed "synthesis
0/12 ... 12/12": the striped analysis reports each of its stripes as synthesis reports its tiles,
and the bytes do not change."""

import pytest
from PIL import Image

import taco
from taco.samples import SAMPLES_DIR


@pytest.fixture(scope="module")
def tall_photo():
    # padded 448 rows: 56 at H/8, in stripes of 18 rows (the least) under a budget of 1: 4 stripes
    return Image.open(SAMPLES_DIR / "skimage-chelsea.png").convert("RGB").resize((128, 448))


def _analysis_steps(model, image, caption, **kwargs):
    steps = []
    data = taco.compress(image, caption, model, progress=lambda *step: steps.append(step), **kwargs)
    return [(done, total) for stage, done, total in steps if stage == "analysis"], data


@pytest.mark.parametrize("which", ["tiny_taco", "tiny_elic"])
def test_each_analysis_stripe_is_reported(which, tall_photo, request):
    model = request.getfixturevalue(which)
    caption = "A cat." if model.uses_text else None
    steps, striped = _analysis_steps(model, tall_photo, caption, stripe_budget=1)
    assert steps == [(i, 4) for i in range(5)]
    assert striped == taco.compress(tall_photo, caption, model, stripe_budget=1)  # no progress: same bytes
    whole_steps, _ = _analysis_steps(model, tall_photo, caption)
    assert whole_steps == [(0, 1)]
