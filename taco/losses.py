"""Training losses: rate-distortion (ELIC) and TACO's joint image-text loss (paper §3.2, Eq. 6-7).

    L = R(ŷ, ẑ) + λ·255²·MSE(x, x̂) + k_p·LPIPS(x, x̂)
        + k_j·( L_con(f_I(x̂), f_T(c)) + β·‖f_I(x) − f_I(x̂)‖₂ )

Every term is returned by name so that it can be logged (all scalars, 0-dim tensors):

=============  ==========================================================================
``bpp_y``      rate of y in bits per pixel, ``Σ −log₂ p(ŷ) / (B·H·W)``
``bpp_z``      rate of the hyper-latent z, same normalisation
``bpp_<key>``  only for a backbone whose codec codes more latents (a second hyper level):
               the rate of each, same normalisation, after ``bpp_z``
``bpp``        the sum of them all, ``bpp_y + bpp_z`` for ELIC (the R of Eq. 6)
``mse``        mean squared error on [0, 1] images (not clamped)
``mse_term``   ``λ·255²·mse`` (CompressAI's scale, as the reference code)
``lpips``      LPIPS-Alex v0.1, mean over the batch, in the ``lpips_input`` convention
``lpips_term`` ``k_p·lpips``
``clip_con``   CLIP's symmetric InfoNCE between f_I(x̂) and f_T(c), temperature fixed at 0.07
``clip_img``   ``‖f_I(x) − f_I(x̂)‖₂`` over the whole (B, D) batch matrix (see below)
``joint_term`` ``k_j·(clip_con + β·clip_img)``
``loss``       the sum that is back-propagated
=============  ==========================================================================

A switched-off term (``k_p = 0`` or ``k_j = 0``) is reported as 0 and its network (LPIPS or CLIP)
is never built. Differences to the reference code (SPEC "Known defects"): LPIPS sees [−1, 1]
inputs by default (``lpips_input="official"`` feeds [0, 1] as the reference code, the convention
its k_p = 3.5 was tuned in; see :func:`taco.metrics.lpips`), CLIP preprocessing (resize 224,
centre crop, CLIP mean/std) is differentiable and runs on the images' device, and the CLIP
temperature is a constant rather than a stray ``nn.Parameter``.

The β term follows the reference: one Frobenius norm of the (B, D) difference of L2-normalised
embeddings, not a per-image mean, so its size grows like √B. With the paper's batch of 4 that is
what (k_j, β) = (0.0025, 40) were tuned for; keep it in mind when changing the batch size.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import metrics
from .errors import TacoValueError
from .messages import docs_ref
from .metrics import MetricUnavailable
from .recipe import DEFAULT_BETA, DEFAULT_K_J, DEFAULT_K_P, LAMBDAS
from .text.base import DEFAULT_MAX_TOKENS
from .text.clip import (
    CLIP_PATH_ENV,
    DEFAULT_CLIP,
    TINY_CONFIG,
    check_clip_folder,
    requested_clip_source,
)
from .text.hf import check_vocab, model_folder, quiet_transformers
from .text.weights import loading_out_of_memory

__all__ = [
    "CLIP_LOGIT_SCALE",
    "DEFAULT_K_J",
    "DEFAULT_K_P",
    "DEFAULT_BETA",
    "LAMBDAS",
    "LOSS_KEYS",
    "ClipTowers",
    "RateDistortionLoss",
    "TacoLoss",
    "bpp_from_likelihoods",
    "clip_contrastive_loss",
    "tiny_clip_model",
]

#: CLIP's learned temperature as stored in openai/clip-vit-base-patch32: exp(2.6592) ≈ 1 / 0.07.
CLIP_LOGIT_SCALE = math.exp(2.6592)
#: The keys of the dict every loss here returns, in logging order (a model coding more latents
#: than y and z adds a ``bpp_<key>`` for each after ``bpp_z``).
LOSS_KEYS = (
    "loss", "bpp", "bpp_y", "bpp_z", "mse", "mse_term", "lpips", "lpips_term",
    "clip_con", "clip_img", "joint_term",
)  # fmt: skip

_CLIP_HOW_TO = (
    f"Give a folder holding {DEFAULT_CLIP} (e.g. made with `hf download "
    f"{DEFAULT_CLIP} --local-dir DIR` on a machine with network) as clip_model=DIR or in "
    f"${CLIP_PATH_ENV}, or train without the joint term (k_j=0)."
)


def bpp_from_likelihoods(likelihoods: Mapping[str, Tensor], num_pixels: int) -> dict[str, Tensor]:
    """``{"y": p(ŷ), "z": p(ẑ), ...}`` -> ``{"bpp_y", "bpp_z", "bpp_<key>"...}``: ``Σ −log₂ p /
    num_pixels`` for each latent.

    ``num_pixels`` is B·H·W of the input batch. ``y`` is required; ``bpp_z`` is 0 without a
    ``z``; every other key (a backbone's second hyper level, a third latent) gets its own
    ``bpp_<key>``, after ``bpp_z``, so the rate sums them all and a log shows each.
    """
    if not isinstance(likelihoods, Mapping) or "y" not in likelihoods:
        got = sorted(likelihoods) if isinstance(likelihoods, Mapping) else type(likelihoods).__name__
        raise TacoValueError(f"expected likelihoods for 'y' (and 'z', and any other coded latent), got {got}")
    not_tensors = sorted(k for k, p in likelihoods.items() if not isinstance(p, Tensor))
    if not_tensors:
        raise TacoValueError(f"likelihoods must be tensors, not for {not_tensors}")
    out = {}
    for key in ("y", "z", *sorted(set(likelihoods) - {"y", "z"})):
        p = likelihoods.get(key)
        out[f"bpp_{key}"] = (
            p.float().log2().sum().neg() / num_pixels
            if p is not None
            else torch.zeros((), device=likelihoods["y"].device)
        )
    return out


def _in_logging_order(parts: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``parts`` keyed as :data:`LOSS_KEYS`, with the ``bpp_<key>`` of any latent beyond y and z
    (in the order :func:`bpp_from_likelihoods` gave them) right after ``bpp_z``."""
    cut = LOSS_KEYS.index("bpp_z") + 1
    extra = [k for k in parts if k.startswith("bpp_") and k not in LOSS_KEYS]
    return {k: parts[k] for k in (*LOSS_KEYS[:cut], *extra, *LOSS_KEYS[cut:])}


class RateDistortionLoss(nn.Module):
    """The classic rate-distortion objective ``bpp + λ·255²·MSE`` (ELIC, CompressAI).

    Equal to ``TacoLoss(lmbda, k_p=0, k_j=0)``.

    forward(out, x, captions=None, lmbda=None): ``out`` is the model's forward output (``x_hat``
    (B, 3, H, W), ``likelihoods`` {"y", "z", any other coded latent}), ``x`` the (B, 3, H, W)
    input in [0, 1]; ``lmbda`` replaces the λ given at construction for this call (a
    variable-rate model is trained with the λ of the quality drawn for the batch). Returns the
    dict of :data:`LOSS_KEYS`, plus a ``bpp_<key>`` per latent beyond y and z (the perceptual
    and joint terms are 0 here).
    """

    def __init__(self, lmbda: float = LAMBDAS[2]) -> None:
        super().__init__()
        if not lmbda > 0:
            raise TacoValueError(f"lmbda must be positive, got {lmbda}")
        self.lmbda = float(lmbda)

    def rate_distortion(
        self, out: Mapping[str, Any], x: Tensor, lmbda: float | None = None
    ) -> dict[str, Tensor]:
        lmbda = self.lmbda if lmbda is None else float(lmbda)
        if not lmbda > 0:
            raise TacoValueError(f"lmbda must be positive, got {lmbda}")
        missing = [k for k in ("x_hat", "likelihoods") if k not in out] if isinstance(out, Mapping) else []
        if missing or not isinstance(out, Mapping):
            got = sorted(map(str, out)) if isinstance(out, Mapping) else type(out).__name__
            raise TacoValueError(
                f"expected the model's forward to return {{'x_hat': ..., 'likelihoods': {{'y': ..., "
                f"'z': ...}}}}, got {got} ({docs_ref('models.md', 'Adding a backbone')})")
        b, _, h, w = x.shape
        x_hat = out["x_hat"].float()
        parts = bpp_from_likelihoods(out["likelihoods"], b * h * w)
        parts["bpp"] = torch.stack(list(parts.values())).sum()
        parts["mse"] = F.mse_loss(x_hat, x.float())
        parts["mse_term"] = lmbda * 255.0**2 * parts["mse"]
        return parts

    def forward(
        self, out: Mapping[str, Any], x: Tensor, captions: Sequence[str] | None = None,
        lmbda: float | None = None,
    ) -> dict[str, Tensor]:
        parts = self.rate_distortion(out, x, lmbda)
        zero = parts["mse"].new_zeros(())
        for key in ("lpips", "lpips_term", "clip_con", "clip_img", "joint_term"):
            parts[key] = zero
        parts["loss"] = parts["bpp"] + parts["mse_term"]
        return _in_logging_order(parts)


class TacoLoss(RateDistortionLoss):
    """TACO's loss (Eq. 6): rate + λ·255²·MSE + k_p·LPIPS + k_j·(L_con + β·‖f_I(x) − f_I(x̂)‖₂).

    ``clip``: the frozen CLIP towers for the joint term, used only when ``k_j > 0``: a
    :class:`ClipTowers`, a folder / hub id (loaded from local files only), ``"tiny"`` (random tiny
    CLIP, tests only), or None for ``$TACO_CLIP_PATH`` / the cached openai/clip-vit-base-patch32.
    It is loaded here, at construction, so a missing CLIP fails before training starts. LPIPS is
    built on first use (per device) only when ``k_p > 0``. ``lpips_input``: ``"standard"``
    (images scaled to [−1, 1]) or ``"official"`` (left in [0, 1], as effl-lab/TACO's loss).

    forward(out, x, captions, lmbda=None): captions (B strings) are needed when ``k_j > 0``;
    ``lmbda`` as in :class:`RateDistortionLoss`.
    """

    def __init__(
        self,
        lmbda: float = LAMBDAS[2],
        k_p: float = DEFAULT_K_P,
        k_j: float = DEFAULT_K_J,
        beta: float = DEFAULT_BETA,
        clip: ClipTowers | str | os.PathLike[str] | None = None,
        lpips_input: str = "standard",
    ) -> None:
        super().__init__(lmbda)
        for name, value in (("k_p", k_p), ("k_j", k_j), ("beta", beta)):
            if not (math.isfinite(value) and value >= 0):
                raise TacoValueError(f"{name} must be a finite number >= 0, got {value}")
        self.k_p, self.k_j, self.beta = float(k_p), float(k_j), float(beta)
        self.lpips_input = metrics.check_lpips_input(lpips_input)
        self.clip: ClipTowers | None = None
        if self.k_j > 0:
            self.clip = clip if isinstance(clip, ClipTowers) else ClipTowers.load(clip)

    def forward(
        self, out: Mapping[str, Any], x: Tensor, captions: Sequence[str] | None = None,
        lmbda: float | None = None,
    ) -> dict[str, Tensor]:
        parts = self.rate_distortion(out, x, lmbda)
        x_hat = out["x_hat"].float()
        zero = parts["mse"].new_zeros(())
        parts["lpips"] = self._lpips(x, x_hat) if self.k_p > 0 else zero
        parts["lpips_term"] = self.k_p * parts["lpips"]
        if self.clip is not None:
            if captions is None or len(captions) != x.shape[0]:
                raise TacoValueError("the joint image-text loss (k_j > 0) needs one caption per image")
            parts["clip_con"], parts["clip_img"] = self.clip.joint_parts(x, x_hat, captions)
        else:
            parts["clip_con"] = parts["clip_img"] = zero
        parts["joint_term"] = self.k_j * (parts["clip_con"] + self.beta * parts["clip_img"])
        parts["loss"] = parts["bpp"] + parts["mse_term"] + parts["lpips_term"] + parts["joint_term"]
        return _in_logging_order(parts)

    def _lpips(self, x: Tensor, x_hat: Tensor) -> Tensor:
        # built on first use, drawing nothing from the RNG (taco.metrics.lpips_from_trunk), so the
        # training noise does not depend on when LPIPS was first used
        return metrics.lpips(x, x_hat, self.lpips_input).mean()

    def extra_repr(self) -> str:
        return (f"lmbda={self.lmbda}, k_p={self.k_p}, k_j={self.k_j}, beta={self.beta}, "
                f"lpips_input={self.lpips_input}")


def clip_contrastive_loss(image_emb: Tensor, text_emb: Tensor) -> Tensor:
    """CLIP's symmetric InfoNCE (Radford et al. 2021) with the fixed logit scale 1/0.07.

    image_emb, text_emb: (B, D), L2-normalised; pair i is the positive for row/column i.
    For B = 1 the loss is 0 (a single pair has nothing to be contrasted with).
    """
    logits = CLIP_LOGIT_SCALE * text_emb @ image_emb.t()  # (B_text, B_image)
    target = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


class ClipTowers(nn.Module):
    """Frozen CLIP image and text towers with projections (f_I, f_T of paper Eq. 7).

    Wraps a transformers ``CLIPModel`` and its tokenizer. Image embeddings are differentiable with
    respect to the image (preprocessing included, :func:`taco.metrics.clip_preprocess`); text
    embeddings are computed without gradients and cached per caption.
    """

    #: Captions whose text embedding is kept; beyond this the cache starts over (COCO has 414k).
    max_cached_captions = 65536

    def __init__(self, model: nn.Module, tokenizer: Any, source: str = "custom") -> None:
        super().__init__()
        if not (hasattr(model, "vision_model") and hasattr(model, "text_model")):
            raise TypeError("ClipTowers needs a transformers CLIPModel (image and text towers)")
        self.model: Any = model.eval().requires_grad_(False)  # a transformers CLIPModel
        self.tokenizer = tokenizer
        self.source = source
        self._text_cache: dict[str, Tensor] = {}

    def train(self, mode: bool = True) -> ClipTowers:
        return super().train(False)  # frozen: no dropout whatever the parent asks

    @classmethod
    def load(cls, source: str | os.PathLike[str] | None = None) -> ClipTowers:
        """CLIP from a local folder or the local Hugging Face cache; never downloads.

        ``source``: folder or hub id; ``"tiny"`` for :func:`tiny_clip_model`; default
        ``$TACO_CLIP_PATH``, else openai/clip-vit-base-patch32 from the cache.
        Raises :class:`taco.metrics.MetricUnavailable` with what to do when it is not there,
        :class:`taco.OutOfMemoryError` when memory runs out loading it.
        """
        if source is not None and os.fspath(source) == "tiny":
            from .text.clip_vocab import clip_bpe_folder

            return cls(tiny_clip_model(), _transformers_clip_tokenizer(clip_bpe_folder()),
                       source="tiny")
        name = requested_clip_source(source or None)  # as the clip text encoder decides it
        folder = model_folder(name, what="the joint image-text loss (k_j > 0) needs CLIP",
                              fix=_CLIP_HOW_TO, error=MetricUnavailable, allow_download=False)
        try:
            check_clip_folder(folder)  # before transformers, whose errors name none of the files
            tokenizer = _transformers_clip_tokenizer(folder)
            with quiet_transformers():  # one load at a time in the process: transformers' is not thread-safe
                from transformers import CLIPModel

                loaded: Any = CLIPModel.from_pretrained(
                    folder, local_files_only=True, output_loading_info=True
                )
            model, info = loaded
        except Exception as e:  # out of memory is not the folder's fault: said as such
            if oom := loading_out_of_memory(e, f"CLIP from {name!r}"):
                raise oom from None
            raise MetricUnavailable(f"cannot load CLIP from {name!r}: {e}. {_CLIP_HOW_TO}") from e
        if info["missing_keys"] or info["mismatched_keys"]:
            raise MetricUnavailable(
                f"{name!r} is not a complete CLIPModel (missing or mis-shaped weights: "
                f"{sorted(info['missing_keys'])[:3]}). {_CLIP_HOW_TO}"
            )
        return cls(model.float(), tokenizer, source=name)

    def image_embeddings(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, D) L2-normalised, differentiable in ``images``."""
        return metrics.clip_image_embeddings(images.float(), self.model)

    @torch.no_grad()
    def text_embeddings(self, captions: Sequence[str]) -> Tensor:
        """B captions -> (B, D) L2-normalised text embeddings (no gradient), on the model's device."""
        device = self.model.text_projection.weight.device
        missing = sorted({c for c in captions if c not in self._text_cache})
        if missing and len(self._text_cache) + len(missing) > self.max_cached_captions:
            # full: start again, and embed every caption of this batch (those cached before the
            # clear too: the lookup below reads each from the cache)
            self._text_cache.clear()
            missing = sorted(set(captions))
        # One caption per call: in a padded batch a caption gets other last bits (on a
        # multi-threaded CPU), and a resumed run, its cache empty, batches other captions
        # together than the run it resumes; alone, the bits never depend on the neighbours.
        for caption in missing:
            tokens = self.tokenizer(
                [caption], truncation=True, max_length=DEFAULT_MAX_TOKENS, return_tensors="pt",
            )  # the authors' f_T reads the encoder's 38 tokens: a longer caption is cut there
            pooled = self.model.text_model(
                input_ids=tokens["input_ids"].to(device),
                attention_mask=tokens["attention_mask"].to(device),
            ).pooler_output  # (1, width)
            emb = self.model.text_projection(pooled)  # (1, D)
            emb = emb / emb.norm(dim=-1, keepdim=True)
            self._text_cache[caption] = emb[0].float().cpu()
        return torch.stack([self._text_cache[c] for c in captions]).to(device)

    def joint_parts(
        self, x: Tensor, x_hat: Tensor, captions: Sequence[str]
    ) -> tuple[Tensor, Tensor]:
        """(L_con(f_I(x̂), f_T(c)), ‖f_I(x) − f_I(x̂)‖₂ over the batch) for x, x̂ (B, 3, H, W)."""
        emb_hat = self.image_embeddings(x_hat)  # (B, D), carries the gradient
        with torch.no_grad():
            emb = self.image_embeddings(x)  # (B, D), the target
        text = self.text_embeddings(captions).to(emb_hat.dtype)  # (B, D)
        return clip_contrastive_loss(emb_hat, text), torch.linalg.vector_norm(emb - emb_hat)


#: A tiny CLIPModel for tests: real CLIP vocabulary (so the real tokenizer fits), 32-px images.
#: Its text tower is the tiny test CLIP (:data:`taco.text.clip.TINY_CONFIG`) less the projection
#: width, which :func:`tiny_clip_model` sets on the whole model.
TINY_CLIP_TEXT: dict[str, Any] = {k: v for k, v in TINY_CONFIG.items() if k != "projection_dim"}
TINY_CLIP_VISION: dict[str, Any] = dict(
    hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
    image_size=32, patch_size=8, hidden_act="quick_gelu",
)  # fmt: skip


def _transformers_clip_tokenizer(source: str | os.PathLike[str]) -> Any:
    """transformers' CLIP tokenizer from a folder or the local cache, refused without its
    vocabulary (the CLIP of the loss runs in transformers, its tokenizer with it)."""
    from .text.clip import clip_tokenizer_class

    with quiet_transformers():
        tokenizer = clip_tokenizer_class().from_pretrained(source, local_files_only=True)
    check_vocab(tokenizer, repr(os.fspath(source)))
    return tokenizer


def tiny_clip_model(seed: int = 0) -> nn.Module:
    """A random ``CLIPModel`` (2 layers, width 32, 32x32 images, projection 16) for tests.

    Weights depend on ``seed`` only (the caller's RNG is left untouched). Numerically meaningless:
    it exercises the joint loss, it does not measure semantics.
    """
    with torch.random.fork_rng(devices=[]), quiet_transformers():
        from transformers import CLIPConfig, CLIPModel

        config = CLIPConfig(
            text_config=TINY_CLIP_TEXT, vision_config=TINY_CLIP_VISION, projection_dim=16
        )
        torch.manual_seed(seed)
        model = CLIPModel(config)
    return model.eval()
