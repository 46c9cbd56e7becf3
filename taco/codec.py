"""Compress and decompress images to and from ``.taco`` bytes.

The caption guides the encoder only: :func:`decompress` takes no caption and never loads a text
encoder. Inputs are padded (replicating the last row/column) to a multiple of 64 and cropped back.
Coding is deterministic: the same image, caption and model give the same bytes.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from .bitstream import TacoFormatError, TacoHeader, pack, unpack
from .images import image_to_tensor, load_image, restore_mode, tensor_to_image, to_rgb
from .models import PAD_MULTIPLE, PRETRAINED, load, model_fingerprint
from .models.elic import ELIC
from .text import get_text_encoder
from .text.base import TextEncoder, TextTokens

ImageLike = Image.Image | Tensor | str | os.PathLike


@dataclass(frozen=True)
class CompressResult:
    """What :func:`compress_image` returns: the bytes and what a user wants to know about them."""

    data: bytes
    height: int
    width: int
    header_bytes: int

    @property
    def bpp(self) -> float:
        """Bits per pixel of the whole file (header included), from the bytes written."""
        return 8 * len(self.data) / (self.height * self.width)


def pad_to_multiple(x: Tensor, multiple: int = PAD_MULTIPLE) -> Tensor:
    """Replicate-pad (B, C, H, W) at the bottom/right to multiples of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    # replicate padding needs at least one pixel; sizes 1x1 work too
    return F.pad(x, (0, pw, 0, ph), mode="replicate")


def _as_rgb_tensor(image: ImageLike) -> tuple[Tensor, str]:
    """Any supported input -> ((1, 3, H, W) float in [0, 1], original PIL mode)."""
    if isinstance(image, Tensor):
        x = image if image.dim() == 4 else image.unsqueeze(0)
        if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] != 3:
            raise ValueError(f"expected a (3, H, W) or (1, 3, H, W) tensor, got {tuple(image.shape)}")
        if not torch.is_floating_point(x):
            raise ValueError("image tensors must be float in [0, 1]")
        return x.clamp(0, 1), "RGB"
    if not isinstance(image, Image.Image):
        image = load_image(image)
    rgb, mode = to_rgb(image)
    return image_to_tensor(rgb), mode


def encode_text(model: ELIC, captions: list[str], encoder: TextEncoder | None = None) -> TextTokens | None:
    """Caption strings -> text tokens with the model's own text encoder (None for ELIC)."""
    if not model.uses_text:
        return None
    if encoder is None:
        spec = dict(model.config.text_encoder)  # type: ignore[attr-defined]
        encoder = get_text_encoder(spec.pop("name"), **spec)
    return encoder.encode(captions)


@torch.no_grad()
def compress_image(
    image: ImageLike,
    caption: str | None,
    model: ELIC,
    *,
    text_encoder: TextEncoder | None = None,
) -> CompressResult:
    """Encode one image guided by ``caption`` into a ``.taco`` file (see :func:`compress`)."""
    if model.uses_text and caption is None:
        raise ValueError("this model is text-guided: give a caption (use '' for none)")
    x, mode = _as_rgb_tensor(image)
    _, _, h, w = x.shape
    device = next(model.parameters()).device
    x = pad_to_multiple(x.to(device))
    text = encode_text(model, [caption or ""], text_encoder)
    out = model.compress(x, text) if model.uses_text else model.compress(x)  # type: ignore[call-arg]
    strings = [s[0] for s in out["strings"]]
    header = TacoHeader(
        model_id=getattr(model, "model_id", "custom"),
        fingerprint=model_fingerprint(model),
        height=h,
        width=w,
        mode=mode,
    )
    data = pack(header, strings)
    return CompressResult(data, h, w, len(data) - sum(len(s) for s in strings))


def compress(
    image: ImageLike, caption: str | None, model: ELIC, *, text_encoder: TextEncoder | None = None
) -> bytes:
    """Compress ``image`` (PIL image, (3, H, W) tensor in [0, 1], or a path) guided by ``caption``.

    Any size from 1x1 up; modes RGB, L, LA, RGBA (alpha dropped with a warning), P, I;16, ... are
    converted to RGB for coding and the original mode is recorded in the file.
    """
    return compress_image(image, caption, model, text_encoder=text_encoder).data


def resolve_model(data: bytes, model: ELIC | None) -> ELIC:
    """The model to decode ``data`` with: the given one, or the built-in model the file names."""
    header = unpack(data).header
    if model is None:
        if header.model_id not in PRETRAINED:
            raise TacoFormatError(
                f"this file was made with model {header.model_id!r}, which is not a built-in "
                "trained model: pass the same model (or checkpoint) to decompress"
            )
        model = load(header.model_id)
    return model


@torch.no_grad()
def decompress_tensor(data: bytes, model: ELIC | None = None) -> tuple[Tensor, str]:
    """Decode ``.taco`` bytes -> ((1, 3, H, W) float in [0, 1], original mode). No caption."""
    parsed = unpack(data)
    model = resolve_model(data, model)
    hdr = parsed.header
    if hdr.fingerprint != model_fingerprint(model):
        raise TacoFormatError(
            f"this file was made with another model (file: {hdr.model_id!r}, fingerprint "
            f"{hdr.fingerprint.hex()}; given: {getattr(model, 'model_id', 'custom')!r}, "
            f"fingerprint {model_fingerprint(model).hex()})"
        )
    if len(parsed.strings) != model.num_strings():
        raise TacoFormatError(
            f"corrupt .taco file: {len(parsed.strings)} strings, the model codes {model.num_strings()}"
        )
    ph, pw = -(-hdr.height // PAD_MULTIPLE) * PAD_MULTIPLE, -(-hdr.width // PAD_MULTIPLE) * PAD_MULTIPLE
    strings = [[s] for s in parsed.strings]
    x_hat = model.decompress(strings, model.latent_shapes(ph, pw))["x_hat"]
    return x_hat[..., : hdr.height, : hdr.width].cpu(), hdr.mode


def decompress(data: bytes, model: ELIC | None = None, *, restore: bool = True) -> Image.Image:
    """Decode ``.taco`` bytes to a PIL image. Needs no caption and loads no text encoder.

    ``model`` may be omitted when the file was made by a built-in trained model. With
    ``restore`` the image is converted back to its original mode where sensible (L, I;16, ...).
    """
    x_hat, mode = decompress_tensor(data, model)
    image = tensor_to_image(x_hat)
    if restore and mode != "RGB":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = restore_mode(image, mode)
    return image
