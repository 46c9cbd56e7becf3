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


UNMAPPED = "libtorch_cpu.so: failed to map segment from shared object"


@pytest.mark.parametrize("exc", [
    ImportError(UNMAPPED),  # importing torch._C under `ulimit -v` (Review CL #7: a traceback, exit 1)
    OSError(UNMAPPED),  # ctypes loading one of torch's libraries
    ImportError(f"{UNMAPPED}: Cannot allocate memory"),
])
def test_a_library_that_could_not_be_mapped_is_an_allocation_failure(exc):
    assert allocation_failure(exc) == "an allocation failed"


@pytest.mark.parametrize("exc", [
    ImportError(f"{UNMAPPED}: Operation not permitted"),  # a noexec mount: no memory matter
    ImportError("No module named 'torch'"),
])
def test_other_import_errors_are_not_allocation_failures(exc):
    assert allocation_failure(exc) is None


def test_the_command_line_says_one_line_with_status_2(tmp_path, monkeypatch, capsys):
    from PIL import Image

    import taco.resolve
    from taco.cli import main

    def unmapped(*args, **kwargs):
        raise ImportError(UNMAPPED)

    monkeypatch.setattr(taco.resolve, "resolve_model", unmapped)
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), "--caption", "x", "-o", str(tmp_path / "m.taco")]) == 2
    assert capsys.readouterr().err.splitlines() == ["taco compress: error: out of memory: an allocation failed"]
    assert not (tmp_path / "m.taco").exists()


@pytest.mark.parametrize(("nbytes", "shown"), [(1 << 30, "1.0 GiB"), (1 << 20, "1.0 MiB"),
                                               (1 << 10, "1.0 KiB"), ((1 << 30) - (1 << 20), "1023.0 MiB")])
def test_a_whole_unit_is_shown_in_that_unit(nbytes, shown):
    exc = MemoryError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes.")
    assert allocation_failure(exc) == f"could not allocate {shown}"


class _SafetensorsError(Exception):  # safetensors' own exception type, not an OSError
    pass


def test_safetensors_mapping_failure_is_an_allocation_failure():
    exc = _SafetensorsError("Cannot allocate memory (os error 12)")
    assert allocation_failure(exc) == "an allocation failed"
    assert allocation_failure(_SafetensorsError("No such file (os error 2)")) is None
