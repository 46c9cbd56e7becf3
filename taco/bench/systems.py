"""The systems ``taco bench`` compares, beyond taco's own models: CompressAI's ELIC (the outside
anchor) and a CLIP-B-sized text encoder for when CLIP's weights are not here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..models.elic import ELIC, elic_latent_codec
from ..text import model_text_encoder
from ..text.base import TextEncoder, TextEncoderUnavailable


def clip_b_random(seed: int = 0) -> TextEncoder:
    """A CLIP ViT-B/32-sized text encoder with random weights and CLIP's real BPE tokenizer.

    The real CLIP weights cannot be fetched offline; the cost of a transformer does not depend on
    its weights, so this times what the paper's encoder costs.
    """
    from ..text.base import DEFAULT_MAX_TOKENS, TokenNetworkEncoder
    from ..text.clip import CLIP_B_TEXT, clip_tokenizer, seeded_clip_text
    from ..text.clip_vocab import clip_bpe_folder

    class RandomCLIPB(TokenNetworkEncoder):
        name = "clip-b-random"

    return RandomCLIPB(clip_tokenizer(clip_bpe_folder()), seeded_clip_text(CLIP_B_TEXT, seed),
                       max_tokens=DEFAULT_MAX_TOKENS)


def context_widths(model: ELIC) -> tuple[int, int]:
    """The hidden widths of ``model``'s channel-context convolutions (its ``ctx_hidden``): read
    from its latent codec (either layout), else from its config; ELIC's (224, 128) for none."""
    codec = model.latent_codec
    if hasattr(codec, "ctx_hidden"):  # the reference layout keeps them
        h1, h2 = codec.ctx_hidden
        return int(h1), int(h2)
    parts = getattr(codec, "latent_codec", None)  # CompressAI's layout: a dict of latent codecs
    contexts = getattr(parts.get("y"), "channel_context", None) if isinstance(parts, dict) else None
    if contexts is not None and "y1" in contexts:  # y1's first two convolutions
        first, second = contexts["y1"][0], contexts["y1"][2]
        return int(first.out_channels), int(second.out_channels)
    h1, h2 = getattr(getattr(model, "config", None), "ctx_hidden", None) or (224, 128)
    return int(h1), int(h2)


def compressai_elic(like: ELIC) -> Any:
    """CompressAI's ``Elic2022Official`` at the widths of ``like`` (random weights, tables built):
    N, M, the channel groups and the channel-context widths (:func:`context_widths`).

    ``Elic2022Official`` fixes its channel-context convolutions at 224 and 128 channels, so its
    latent codec is replaced by the same composition at ``like``'s widths
    (:func:`taco.models.elic.elic_latent_codec`, which is ``Elic2022Official``'s at equal widths):
    the anchor has as many parameters as ``like`` in CompressAI's layout.
    """
    from compressai.models import Elic2022Official

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Elic2022Official(N=like.N, M=like.M, groups=like.groups)
        ctx_hidden = context_widths(like)
        if ctx_hidden != (224, 128):
            model.latent_codec = elic_latent_codec(like.N, like.M, like.groups, ctx_hidden)
    model.eval().update(force=True)
    return model


def bench_text_encoder(model: ELIC, log: Callable[[str], None] = lambda s: None) -> TextEncoder:
    """A private instance of ``model``'s text encoder (its caption cache is ours to clear); in
    place of CLIP when its weights are not here (offline), :func:`clip_b_random`: the same
    architecture costs the same time."""
    try:
        encoder = model_text_encoder(model, shared=False)
    except TextEncoderUnavailable as e:
        if (model.config.text_encoder or {}).get("name") != "clip":
            raise
        log(f"CLIP weights unavailable ({e}); timing a CLIP-B-sized text encoder with random weights")
        return clip_b_random()
    if encoder is None:
        raise ValueError(f"{getattr(model, 'model_id', 'the model')} takes no text")
    return encoder
