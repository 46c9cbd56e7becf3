"""How much a failed allocation asked for, in a unit that fits its size (802,048 bytes was
"could not allocate 0.0 GiB")."""

from __future__ import annotations

import pytest

from taco.memory import allocation_failure


@pytest.mark.parametrize("nbytes, said", [
    (802048, "783.2 KiB"),
    (5 * 2**20, "5.0 MiB"),
    (12884901888, "12.0 GiB"),
    (512, "512 bytes"),
])
def test_the_size_asked_for_is_in_a_unit_that_fits(nbytes, said):
    exc = RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes. "
                       "Error code 12 (Cannot allocate memory)")
    assert allocation_failure(exc) == f"could not allocate {said}"
