"""The decoder's cap holds a model wider than the built-ins to the memory it allows them: a file
can name a paper-size architecture (its untrained weights built from the header alone), whose
per-pixel memory grows with its latent channels (a crafted 37.7 MP ``elic`` file, under the
38 MP cap, peaked at 2,332 MiB refusing its 28th chunk)."""

from __future__ import annotations

import numpy as np
import pytest

import taco
from taco import TacoFormatError
from taco.cli import main
from taco.memory import (
    DECODE_LATENT_CHANNELS,
    MAX_DECODE_PIXELS,
    decode_cap_problem,
    decode_memory_estimate,
    latent_channels,
)


def test_a_wide_model_is_held_to_the_built_ins_memory():
    assert decode_cap_problem(6144, 6144, MAX_DECODE_PIXELS) is None  # the built-ins' width
    line = decode_cap_problem(6144, 6144, MAX_DECODE_PIXELS, latent_channels=320)
    assert line is not None and "320 latent channels" in line and "max_pixels=None" in line
    assert "2,710 MiB" in line and "2,040 MiB" in line  # how far over, in numbers that differ
    assert decode_memory_estimate(6144 * 6144, 320) > decode_memory_estimate(MAX_DECODE_PIXELS)
    assert decode_cap_problem(2000, 2000, MAX_DECODE_PIXELS, latent_channels=320) is None
    assert decode_cap_problem(6144, 6144, None, latent_channels=320) is None
    assert decode_cap_problem(6144, 6144, MAX_DECODE_PIXELS, latent_channels=16) is None


def test_a_backbone_that_does_not_say_counts_as_the_built_ins():
    assert latent_channels(object()) == DECODE_LATENT_CHANNELS
    assert latent_channels(taco.create_model("elic-tiny")) == 32


@pytest.fixture(scope="module")
def wide_file(tmp_path_factory):
    model = taco.create_model("elic-vr")  # M = 160, untrained: the header names it
    assert latent_channels(model) == 160
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("wide") / "wide.taco"
    path.write_bytes(taco.compress(image, None, model))
    return path


def test_the_library_refuses_it_before_decoding_and_decodes_it_without_the_cap(wide_file):
    with pytest.raises(TacoFormatError, match="160 latent channels .* max_pixels=None"):
        taco.decompress(wide_file, max_pixels=64 * 64)  # its pixels are within the cap
    assert taco.decompress(wide_file, max_pixels=None).size == (64, 64)
    # the caller's own model is the caller's choice of memory: held to the pixels alone
    model = taco.create_model("elic-vr")
    assert taco.decompress(wide_file, model, max_pixels=64 * 64).size == (64, 64)


def test_the_command_line_says_its_own_option(wide_file, tmp_path, capsys):
    out = tmp_path / "wide.png"
    assert main(["decompress", str(wide_file), "-o", str(out), "--max-pixels", str(64 * 64)]) == 2
    err = capsys.readouterr().err
    assert "160 latent channels" in err and "--max-pixels 0" in err and not out.exists()
    assert main(["decompress", str(wide_file), "-o", str(out), "--max-pixels", "0"]) == 0
    assert out.exists()
    out.unlink()
    assert main(["decompress", str(wide_file), "-o", str(out), "--max-pixels", str(64 * 64),
                 "--model", "elic-vr"]) == 0
    assert out.exists()


def test_the_two_sizes_are_said_apart_where_whole_mebibytes_would_be_the_same():
    """A 128x96 image for M=320 under a cap of 13,000 pixels: 783.15 against 783.11 MiB, which it
    said as "783 MiB ... over the 783 MiB" (review R4)."""
    line = decode_cap_problem(128, 96, 13000, "--max-pixels 0", 320)
    assert "about 783.2 MiB to decode, over the 783.1 MiB the decoder's cap" in line
    line = decode_cap_problem(1000, 1000, 10**6, "--max-pixels 0", 320)  # whole MiB tell them apart
    assert "about 1,037 MiB to decode, over the 1,019 MiB" in line


def test_a_model_as_wide_as_the_built_ins_is_called_the_built_in_models():
    line = decode_cap_problem(20000, 20000, 100_000_000, latent_channels=DECODE_LATENT_CHANNELS)
    assert line is not None and "with the built-in models" in line, line
    assert "this model" not in line
    wider = decode_cap_problem(20000, 20000, 100_000_000, latent_channels=DECODE_LATENT_CHANNELS + 1)
    assert wider is not None and "with this model" in wider, wider
