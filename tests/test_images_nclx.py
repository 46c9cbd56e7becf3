"""nclx colour primaries whose white is not sRGB's: DCI-P3 (DCI white), adapted to D65 (Bradford).

tests/test_images.py checks Display P3, whose white is sRGB's own D65: there the white-point
adaptation is the identity, whichever way round it is written. DCI-P3's white (0.314, 0.351) is
greenish; converted the right way, white stays white and grey stays grey. Also: an image taller
than one band of rows (256) is converted in full, every row as it would be on its own.
"""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from taco.images import ColourProfileConvertedWarning, to_rgb

#: DCI-P3 (SMPTE RP 431-2, H.273 colour primaries 11): red, green, blue, DCI white (x, y).
DCI_P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.314, 0.351))
#: sRGB / BT.709 primaries, D65 white.
SRGB = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.3290))
#: Bradford's cone response matrix (Lam 1985; as in ICC v4 Annex E and LittleCMS).
BRADFORD = np.array([[0.8951, 0.2664, -0.1614],
                     [-0.7502, 1.7135, 0.0367],
                     [0.0389, -0.0685, 1.0296]])


def _xyz(x: float, y: float) -> np.ndarray:
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def _to_xyz(xy) -> np.ndarray:
    """RGB -> XYZ (Y of white = 1): columns are the primaries scaled so that R=G=B=1 is white."""
    p = np.column_stack([_xyz(*c) for c in xy[:3]])
    return p @ np.diag(np.linalg.inv(p) @ _xyz(*xy[3]))


def _dci_p3_to_srgb() -> np.ndarray:
    """Linear DCI-P3 -> linear sRGB: to XYZ under DCI white, Bradford to D65, to sRGB."""
    src_cone = BRADFORD @ _xyz(*DCI_P3[3])
    dst_cone = BRADFORD @ _xyz(*SRGB[3])
    adapt = np.linalg.inv(BRADFORD) @ np.diag(dst_cone / src_cone) @ BRADFORD
    return np.linalg.inv(_to_xyz(SRGB)) @ adapt @ _to_xyz(DCI_P3)


def _nclx(primaries: int, xy) -> dict:
    names = ("red", "green", "blue", "white")
    out = {"color_primaries": primaries, "transfer_characteristics": 13,
           "matrix_coefficients": 6, "full_range_flag": 1}
    for name, (x, y) in zip(names, xy, strict=True):
        # float32, as pillow-heif reports an nclx box's values
        out[f"color_primary_{name}_x"] = float(np.float32(x))
        out[f"color_primary_{name}_y"] = float(np.float32(y))
    return out


def _tagged(pixels: np.ndarray) -> Image.Image:
    img = Image.fromarray(pixels.astype(np.uint8))
    img.info["nclx_profile"] = _nclx(11, DCI_P3)
    return img


def _convert(img: Image.Image) -> np.ndarray:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rgb, mode = to_rgb(img)
    assert [type(w.message) for w in caught] == [ColourProfileConvertedWarning]
    assert "DCI-P3 primaries to sRGB" in str(caught[0].message)
    assert mode == "RGB" and rgb.mode == "RGB"
    return np.asarray(rgb).astype(np.int64)


def _reference(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    v = rgb / 255.0
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    out = np.clip(linear @ matrix.T, 0, 1)
    return np.rint(255 * np.where(out <= 0.0031308, 12.92 * out, 1.055 * out ** (1 / 2.4) - 0.055))


def test_the_matrix_of_this_test_takes_dci_white_to_d65_white():
    m = _dci_p3_to_srgb()
    assert np.allclose(m @ np.ones(3), np.ones(3), atol=1e-9)  # white -> sRGB's white
    # DCI white is not D65: the primaries alone (no adaptation) would tint white
    plain = np.linalg.inv(_to_xyz(SRGB)) @ _to_xyz(DCI_P3)
    assert np.abs(plain @ np.ones(3) - 1).max() > 0.05


def test_dci_p3_white_stays_white_grey_stays_grey_colours_as_published():
    pixels = np.array([[[255, 255, 255], [128, 128, 128], [60, 60, 60], [0, 0, 0],
                        [200, 60, 40], [20, 220, 30], [90, 110, 240], [180, 160, 120]]])
    got = _convert(_tagged(pixels))[0]
    assert np.abs(got[0] - 255).max() <= 1  # white stays white
    for grey in got[1:3]:
        assert grey.max() - grey.min() <= 1  # neutral
    assert np.abs(got[1] - 128).max() <= 1 and np.abs(got[2] - 60).max() <= 1
    assert got[3].tolist() == [0, 0, 0]
    expected = _reference(pixels[0].astype(np.float64), _dci_p3_to_srgb())
    assert np.abs(got - expected).max() <= 1


def test_an_image_taller_than_a_band_converts_every_row_as_a_one_row_image():
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(300, 5, 3))
    got = _convert(_tagged(pixels))
    assert got.shape == (300, 5, 3)
    for row in range(300):
        assert np.array_equal(got[row], _convert(_tagged(pixels[row:row + 1]))[0]), row
    expected = _reference(pixels.astype(np.float64), _dci_p3_to_srgb())
    assert np.abs(got - expected).max() <= 1
