"""The paper's loss settings and metric names, without torch: what ``taco train``'s config
validates against (before any model or library loads), :mod:`taco.losses` / :mod:`taco.metrics`
compute with, and ``taco plot`` reads results by.
"""

from __future__ import annotations

from .errors import TacoValueError

__all__ = ["DEFAULT_BETA", "DEFAULT_K_J", "DEFAULT_K_P", "IMAGE_METRICS", "LAMBDAS", "LPIPS_INPUTS",
           "check_lpips_input"]

#: The paper's six rate points, λ ∈ {4, 8, 16, 40, 90, 150}·1e-4 (§4.1), low to high rate.
LAMBDAS: tuple[float, ...] = (0.0004, 0.0008, 0.0016, 0.004, 0.009, 0.015)
#: The weights of LPIPS (k_p), of the joint image-text loss (k_j) and of its image term (β).
DEFAULT_K_P, DEFAULT_K_J, DEFAULT_BETA = 3.5, 0.0025, 40.0
#: How images in [0, 1] are handed to the LPIPS network (:func:`taco.metrics.lpips`'s
#: ``lpips_input``): ``standard`` scales them to [-1, 1], ``official`` (the authors' loss) does not.
LPIPS_INPUTS = ("standard", "official")
#: The per-image full-reference metrics :func:`taco.metrics.compute_metrics` gives (every results
#: CSV has them).
IMAGE_METRICS = ("psnr", "ms_ssim", "lpips")


def check_lpips_input(lpips_input: str) -> str:
    """``lpips_input`` if it is one of :data:`LPIPS_INPUTS`, else ``TacoValueError`` naming them
    (evaluate, the loss and ``taco train``'s config check, in one wording)."""
    if lpips_input not in LPIPS_INPUTS:
        raise TacoValueError(
            f"lpips_input must be one of {', '.join(LPIPS_INPUTS)}, got {lpips_input!r}"
        )
    return lpips_input
