"""``taco.evaluation.bdrate.ImageCurve`` built from plain lists, as a researcher adding a backbone
builds one: it holds float arrays and bootstraps as from arrays."""

from __future__ import annotations

import numpy as np
import pytest


def test_an_image_curve_takes_plain_lists():
    """ImageCurve(names, [[...]], {"psnr": [[...]]}) failed with AttributeError "'list' object
    has no attribute 'ndim'"; it now holds float arrays and bootstraps as from arrays."""
    from taco.errors import TacoValueError
    from taco.evaluation.bdrate import ImageCurve, bd_bootstrap

    names = ["a", "b", "c", "d"]
    rate = [[0.1, 0.2, 0.4, 0.8], [0.12, 0.25, 0.5, 0.9], [0.08, 0.18, 0.35, 0.7], [0.1, 0.22, 0.45, 0.85]]
    psnr = [[26, 29, 32, 35], [25, 28, 31, 34], [27, 30, 33, 36], [26, 28.5, 31.5, 34.5]]
    curve = ImageCurve(names, rate, {"psnr": psnr})
    assert curve.images == tuple(names)
    assert isinstance(curve.rate, np.ndarray) and curve.rate.dtype == np.float64
    assert curve.quality["psnr"].dtype == np.float64  # ints taken as float64
    cheaper = ImageCurve(names, [[0.8 * r for r in row] for row in rate], {"psnr": psnr})
    from_arrays = bd_bootstrap(ImageCurve(tuple(names), np.array(rate), {"psnr": np.array(psnr, float)}),
                               ImageCurve(tuple(names), 0.8 * np.array(rate), {"psnr": np.array(psnr, float)}),
                               "psnr", resamples=50, seed=0)
    from_lists = bd_bootstrap(curve, cheaper, "psnr", resamples=50, seed=0)
    assert from_lists.bd_rate.value == pytest.approx(-20.0) == from_arrays.bd_rate.value
    assert curve.select(["b", "a"]).rate.tolist() == [rate[1], rate[0]]
    with pytest.raises(TacoValueError, match="rate must be numbers"):
        ImageCurve(["a"], [["x", "y"]])
    with pytest.raises(TacoValueError, match="psnr has shape"):
        ImageCurve(["a"], [[0.1, 0.2]], {"psnr": [30.0, 31.0]})
