"""taco.memory's words at their bounds (review M4's surviving mutants Y5, Y6): a model exactly as
wide as the built-ins is "the built-in models"; exactly 1 GiB is "1.0 GiB"."""

from __future__ import annotations

import pytest

from taco.memory import DECODE_LATENT_CHANNELS, allocation_failure, decode_cap_problem


def test_a_model_as_wide_as_the_built_ins_is_called_the_built_in_models():
    line = decode_cap_problem(20000, 20000, 100_000_000, latent_channels=DECODE_LATENT_CHANNELS)
    assert line is not None and "with the built-in models" in line, line
    assert "this model" not in line
    wider = decode_cap_problem(20000, 20000, 100_000_000, latent_channels=DECODE_LATENT_CHANNELS + 1)
    assert wider is not None and "with this model" in wider, wider


@pytest.mark.parametrize(("nbytes", "shown"), [(1 << 30, "1.0 GiB"), (1 << 20, "1.0 MiB"),
                                               (1 << 10, "1.0 KiB"), ((1 << 30) - (1 << 20), "1023.0 MiB")])
def test_a_whole_unit_is_shown_in_that_unit(nbytes, shown):
    exc = MemoryError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes.")
    assert allocation_failure(exc) == f"could not allocate {shown}"
