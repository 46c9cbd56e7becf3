"""The decoder's memory model (taco.memory.decode_memory_estimate) against the peaks measured
for it: above each, and not far above, small images included (a 451x300 file was said to take
"about 1.3 GiB" when taco decompress peaked at 718 MiB)."""

from __future__ import annotations

import pytest

from taco.memory import MAX_DECODE_PIXELS, decode_cap_problem, decode_memory_estimate

MIB = 2**20

#: Peak RSS (MiB) of ``/usr/bin/time -v taco decompress X.taco -o x.png`` (the sizes in
#: taco/memory.py's comment) and of benchmarks/memory_model.py (docs/reliability.md).
MEASURED = {451 * 300: 718, 512 * 384: 720, 1632 * 1224: 1043, 1024 * 1024: 813,
            2048 * 2048: 1278, 4096 * 4096: 1478, 8000 * 6000: 1818, 9248 * 6936: 1770}


@pytest.mark.parametrize(("pixels", "mib"), sorted(MEASURED.items()))
def test_the_estimate_is_above_the_measured_peak_and_near_it(pixels, mib):
    estimate = decode_memory_estimate(pixels) / MIB
    assert mib <= estimate <= 1.25 * mib, f"{pixels:,} pixels: {estimate:.0f} MiB for {mib} measured"


def test_a_small_files_cap_message_says_under_a_gib():
    line = decode_cap_problem(451, 300, 5)
    assert line is not None and "would take about 0.8 GiB" in line, line
    assert decode_memory_estimate(MAX_DECODE_PIXELS) < 2 * 2**30


def test_the_tile_of_the_memory_model_is_the_synthesis_tile():
    """DECODE_TILE_PIXELS is stated beside the codec's tile budget (taco.memory sits below
    taco.codec and cannot read it): the -small built-ins' synthesis tile, budget over N."""
    from taco import codec, memory
    from taco.models.registry import PRETRAINED, checkpoint_config

    widths = {checkpoint_config(name).N for name in PRETRAINED}
    assert widths == {48}
    assert memory.DECODE_TILE_PIXELS == codec.SYNTHESIS_TILE_BUDGET // 48
