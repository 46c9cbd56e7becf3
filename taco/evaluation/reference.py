"""Published reference points to draw beside our own curves: each paper's own figures (the
curve's ``source``), and the TACO paper's headline point.

Each :class:`ReferenceCurve` says which dataset it was measured on; a plot only shows the
references of its own dataset unless asked otherwise (Kodak numbers are meaningless next to a
COCO or photos/val curve, even for the Kodak-derived photos in ``shared/data/photos/val``, which
were downscaled). All values are as printed in the cited papers, not re-measured here.

LPIPS values come in two conventions (:func:`taco.metrics.lpips`): ``lpips_input`` says which,
where it is known. The TACO paper's LPIPS numbers are in the ``official`` one (images fed to
LPIPS in [0, 1] by effl-lab/TACO's scripts), so they sit 10-31 % below what ``standard`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REFERENCES", "ReferenceCurve", "reference_datasets", "references_for"]


@dataclass(frozen=True)
class ReferenceCurve:
    """Points ``{"bpp": ..., "psnr": ..., "lpips": ...}`` of a published method on one dataset."""

    label: str
    dataset: str  # dataset kind: "kodak", "coco30k", ...
    source: str
    points: tuple[dict[str, float], ...]
    lpips_input: str | None = None  # LPIPS convention of the points, None: not stated

    def has(self, metric: str) -> bool:
        return any(metric in p for p in self.points)


def _curve(
    label: str,
    dataset: str,
    source: str,
    *,
    lpips_input: str | None = None,
    **columns: tuple[float, ...],
) -> ReferenceCurve:
    n = {len(v) for v in columns.values()}
    assert len(n) == 1, f"{label}: columns differ in length"
    keys = list(columns)
    points = tuple(dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True))
    return ReferenceCurve(label, dataset, source, points, lpips_input)


REFERENCES: tuple[ReferenceCurve, ...] = (
    _curve(
        "ELIC (paper)", "kodak", "He et al., CVPR 2022 (its Kodak RD curve)",
        bpp=(0.1235, 0.1965, 0.3337, 0.4908, 0.7041, 0.8573),
        psnr=(29.11, 30.70, 32.78, 34.58, 36.49, 37.62),
    ),
    _curve(
        "LIC-TCM large (paper)", "kodak", "Liu et al., CVPR 2023 (its Kodak RD curve)",
        bpp=(0.155, 0.194, 0.300, 0.443, 0.625, 0.880),
        psnr=(30.07, 30.85, 32.59, 34.33, 36.15, 38.07),
    ),
    _curve(
        "MS-ILLM (paper)", "kodak", "Muckley et al., ICML 2023 (its Kodak RD curve)",
        bpp=(0.0443, 0.0806, 0.1532, 0.2958, 0.4324, 0.7092),
        psnr=(24.73, 25.92, 27.53, 29.63, 31.03, 33.21),
        lpips=(0.1576, 0.1100, 0.0732, 0.0451, 0.0320, 0.0180),
    ),
    _curve(
        "TACO (paper)", "coco30k", "Lee, Kim et al., ICML 2024, §4.2 headline",
        lpips_input="official", bpp=(0.226,), lpips=(0.025,),
    ),
    _curve(  # measured by the TACO authors; assumed with the same [0, 1] LPIPS call as TACO's
        "HiFiC (TACO paper)", "coco30k", "Lee, Kim et al., ICML 2024, §4.2 headline",
        lpips_input="official", bpp=(0.233,), lpips=(0.053,),
    ),
)


def reference_datasets() -> list[str]:
    """Dataset kinds that have reference points."""
    return sorted({r.dataset for r in REFERENCES})


def references_for(dataset: str) -> list[ReferenceCurve]:
    """The reference curves measured on ``dataset`` (a dataset kind, e.g. ``"kodak"``)."""
    return [r for r in REFERENCES if r.dataset == dataset]
