"""TGIC's "image-text attention module" as a text injection for the TACO encoder (issue 8).

TACO's ablation Q1 (paper §4.4, Fig. 9) swaps the text adapter for the image-text attention module
of TGIC (Jiang et al., "Multi-modality deep network for extreme learned image compression",
AAAI 2023, pp. 1033-1041, doi:10.1609/aaai.v37i1.25184, arXiv 2304.13583) on the same ELIC
encoder. Neither paper ships code.

What we could read, and where:

- TGIC's abstract (AAAI proceedings page, arXiv listing) and the start of its introduction: text
  is prior information for several parts of the codec; an "image-text attention module" and an
  "image-request complement module" fuse image and text features; an improved "multimodal
  semantic-consistent loss".
- TACO paper §2: TGIC inserts text into encoder and decoder "through uni-directional
  attention-like modules"; §4.4 Q1: the module "utilizes several convolutional layers to inject
  text information to the image encoder"; §3: TGIC's loss is built on the AttnGAN embedding.
- TGIC's method section (equations, module figure) was *not* reachable. So the module below is
  inferred from those descriptions and built on the attention of AttnGAN, whose embedding TGIC
  uses: the word-context attention of Xu et al. (CVPR 2018, §3.1, Eq. 2; recalled, not re-read).

The module (:class:`TGICAttention`), image v (B, N, H, W), word tokens e (B, m, d):

1. ``e' = U e`` — AttnGAN's perception layer: a bias-free linear map d -> N (a 1x1 conv on words).
2. For each image position j: ``beta_ji = softmax_i(v_j . e'_i / sqrt(N))``,
   ``c_j = sum_i beta_ji e'_i`` — the word-context feature of AttnGAN Eq. 2 (one head,
   image features as queries, the projected words as keys and values).
3. ``v_out = v + Conv3x3(ReLU(Conv1x1([v ; c])))`` — the "several convolutional layers": AttnGAN
   concatenates ``[h ; c]`` and convolves; the residual keeps the backbone's path intact.

Details chosen here, not read anywhere:

- Text: the TACO text encoders (CLIP ``last_hidden_state`` etc.) replace TGIC's (AttnGAN-based)
  text features; word-level tokens only (no separate sentence vector), as the adapter gets.
- Placement: at H/4 (where the adapter's CA1 sits) and at H/8 (where CA3 sits); uni-directional,
  so nothing takes CA2's place (the text is never updated from the image).
- ``1/sqrt(N)`` scaling of the scores (AttnGAN has none; at N=192 unscaled scores saturate the
  softmax at initialisation). One head (the model's ``heads`` is the adapter's only), no
  LayerNorm, no positional encoding.
- Fusion widths: 1x1 conv 2N -> N, ReLU (ELIC's activation), 3x3 conv N -> N, with biases;
  about 0.5 M parameters per module at N=192, d=512 (the adapter has 1.65 M in all).
- Initialisation: PyTorch defaults, no gate and no zero-init, so the text acts from the first
  step (the adapter instead starts with gamma = 0).
- Key-padding mask optional (``use_mask``; AttnGAN masks padding words), off by default like the
  adapter's; a caption with no real token keeps every key.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import Tensor

from .adapter import key_padding, to_map, to_tokens
from .config import INJECTOR_POSITIONS, check_choice


class TGICAttention(nn.Module):
    """Image-text attention (TGIC, as inferred above): AttnGAN word-context attention + convs.

    image: (B, N, H, W), text: (B, m, d), mask: (B, m) bool (True = real token) -> (B, N, H, W).
    """

    def __init__(self, image_dim: int, text_dim: int, use_mask: bool = False) -> None:
        super().__init__()
        self.word_proj = nn.Linear(text_dim, image_dim, bias=False)
        self.fuse = nn.Sequential(
            nn.Conv2d(2 * image_dim, image_dim, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(image_dim, image_dim, kernel_size=3, padding=1),
        )
        self.scale = image_dim**-0.5
        self.use_mask = use_mask

    def forward(self, image: Tensor, text: Tensor, mask: Tensor | None = None) -> Tensor:
        _, _, h, w = image.shape
        q = to_tokens(image)  # (B, HW, N)
        e = self.word_proj(text)  # (B, m, N)
        scores = q @ e.transpose(1, 2) * self.scale  # (B, HW, m)
        pad = key_padding(mask) if self.use_mask else None
        if pad is not None:
            scores = scores.masked_fill(pad[:, None, :], float("-inf"))
        context = to_map(scores.softmax(dim=-1) @ e, h, w)  # (B, N, H, W)
        return image + self.fuse(torch.cat([image, context], dim=1))


class TGICInjection(nn.Module):
    """TGIC modules in the adapter's slots of g_a: ``ca1`` at H/4, ``ca3`` at H/8, no ``ca2``.

    ``at``: "both" (default), "h4" (``ca3`` absent) or "h8" (``ca1`` absent). About 1.0 M
    parameters with both at the paper's sizes (N=192, d=512).
    """

    def __init__(
        self, image_dim: int, text_dim: int, at: str = "both", use_mask: bool = False
    ) -> None:
        super().__init__()
        check_choice("at", at, INJECTOR_POSITIONS)
        self.ca1 = TGICAttention(image_dim, text_dim, use_mask) if at in ("both", "h4") else None
        self.ca2 = None  # uni-directional: the text is never updated from the image
        self.ca3 = TGICAttention(image_dim, text_dim, use_mask) if at in ("both", "h8") else None
