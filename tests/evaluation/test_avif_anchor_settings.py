"""The AVIF anchor says how it encodes: speed, subsampling, libavif and AV1 encoder versions.

"Beats AVIF" depends on the encoder's speed (speed 3 took 7.45 % fewer bits than the default 6 at
equal PSNR in a review's measurement), so the results JSON's ``codec_settings`` (the codec's
``describe()``) records it, and the libavif and encoder versions where Pillow says them.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, features

from taco.evaluation import classic


@pytest.fixture
def avif():
    if classic.CLASSIC_CODECS["avif"]()[1] is not None:
        pytest.skip("no AVIF support in this Pillow")
    return classic.get_codec("avif")


def test_the_settings_name_speed_and_versions(avif, monkeypatch):
    settings = avif.describe()
    assert settings["speed"] == classic.AVIF_SPEED == 6 and settings["subsampling"] == "4:2:0"
    libavif = features.version("avif")
    if libavif is None:
        pytest.skip("AVIF through pillow-avif-plugin: Pillow says no versions")
    assert settings["implementation"].endswith(f"(libavif {libavif})")
    from PIL import AvifImagePlugin

    if hasattr(AvifImagePlugin, "get_codec_version") and AvifImagePlugin.get_codec_version("aom"):
        assert settings["encoder"] == f"aom {AvifImagePlugin.get_codec_version('aom')}"
    # the files are written at the speed the settings name
    seen = []
    save = Image.Image.save

    def recording_save(self, fp, format=None, **params):  # noqa: A002  (Pillow's own name)
        seen.append(params)
        return save(self, fp, format, **params)

    monkeypatch.setattr(Image.Image, "save", recording_save)
    data, decoded = avif.code(Image.new("RGB", (16, 16), (90, 120, 200)), 50)
    assert Image.open(io.BytesIO(data)).format == "AVIF" and decoded.size == (16, 16)
    assert seen[0]["speed"] == settings["speed"] and seen[0]["subsampling"] == settings["subsampling"]


def test_without_versions_the_settings_still_say_the_speed(monkeypatch):
    monkeypatch.setattr(features, "version", lambda feature: None)  # an older Pillow, or the plugin
    settings = classic.CLASSIC_CODECS["avif"]()[0].describe()
    assert settings["implementation"].endswith("(libavif)") and "encoder" not in settings
    assert settings["speed"] == 6 and settings["subsampling"] == "4:2:0"
