"""Every registered model name codes a photo through a real ``.taco`` file and back: the header
names the model and the quality, decoding reads nothing but the file and the model, and the
pixels are the model's own reconstruction (its forward pass in eval mode). A backbone registered
later is held to this without a test of its own (docs/models.md, "Adding a backbone"). All
thirteen names take ~20 s on a 2-core CPU (the paper-size ones 1-4 s each), so none is ``slow``."""

from __future__ import annotations

import pytest
import torch

import taco
from taco.bitstream import unpack
from taco.codec import compress_image, decompress_tensor, pad_to_multiple
from taco.images import image_to_tensor
from taco.models import MODEL_CONFIGS, create_model
from taco.text import text_encoder_dim
from taco.text.base import TextEncoder, TextTokens


class SeededText(TextEncoder):
    """Tokens drawn from a seed, of any width: the text of a model whose own encoder's weights
    (CLIP's, MiniLM's) this test does without."""

    name, max_tokens = "seeded", 5

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def _encode(self, captions: list[str]) -> TextTokens:
        g = torch.Generator().manual_seed(len(captions[0]))
        tokens = torch.randn(len(captions), self.max_tokens, self.dim, generator=g)
        return TextTokens(tokens, torch.ones(len(captions), self.max_tokens, dtype=torch.bool))


@pytest.mark.parametrize("arch", sorted(MODEL_CONFIGS))
def test_every_registered_model_codes_through_a_file(arch, sample_image):
    model = create_model(arch, seed=0).eval()
    # the width of the config's text encoder: what a text-guided model is given (TACO's adapter
    # is built to it; a backbone need keep no ``text_dim``)
    text = SeededText(text_encoder_dim(**model.config.text_encoder)) if model.uses_text else None
    image = sample_image.crop((0, 0, 96, 80))
    x = pad_to_multiple(image_to_tensor(image))
    q = len(model.qualities) if model.qualities else None
    for quality in [None] if q is None else [1, q]:
        data = compress_image(image, "a photo", model, text_encoder=text, quality=quality).data
        header = unpack(data).header
        assert header.model_id == arch and header.quality == (quality or 0)
        x_hat, mode = decompress_tensor(data, model)
        assert mode == "RGB" and x_hat.shape == (1, 3, 80, 96)
        with torch.no_grad():
            args = (x, text.encode(["a photo"])) if text else (x,)
            ref = model(*args, quality=quality)["x_hat"][..., :80, :96].clamp(0, 1)
        assert (x_hat - ref).abs().max() < 1e-4  # measured: 3e-7 (float rounding)
        assert taco.decompress(data, model).size == image.size
