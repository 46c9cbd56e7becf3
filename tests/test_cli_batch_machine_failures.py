"""A library that cannot load in a batch (torch under a low ``ulimit -v``: "failed to map segment
from shared object") is the machine's, not one input's: the batch stops with one line naming no
file, as taco compress does (Review R5a #2). Running out of memory on one input stays that
input's failure (taco.cli.Failures.skip)."""

from __future__ import annotations

import pytest

import taco.cli.decompress
import taco.codec
from taco.cli import main

UNMAPPED = "libtorch_cpu.so: failed to map segment from shared object"


@pytest.fixture()
def tacos(photos, tmp_path):
    out = tmp_path / "T"
    assert main(["compress", str(photos), "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 0
    return out


@pytest.mark.parametrize("error", [ImportError(UNMAPPED), OSError(UNMAPPED)])
def test_a_library_that_cannot_load_stops_a_decompress_batch_in_one_line(tacos, tmp_path, monkeypatch,
                                                                         capsys, error):
    capsys.readouterr()

    def unmapped(*args, **kwargs):
        raise error

    monkeypatch.setattr(taco.cli.decompress, "resolve_model", unmapped)
    out = tmp_path / "out"
    assert main(["decompress", str(tacos), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if " note: " not in line]
    # one line naming no file (an OSError says its own text: ctypes loading a library)
    assert errors == ["taco decompress: error: " + (
        UNMAPPED if isinstance(error, OSError) else "out of memory: an allocation failed")]
    assert "decompressed" not in captured.out
    assert not out.exists() or not any(out.iterdir())


def test_running_out_of_memory_on_one_file_is_that_files_failure(tacos, tmp_path, monkeypatch, capsys):
    capsys.readouterr()
    decompress = taco.codec.decompress
    calls = []

    def once_out_of_memory(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError
        return decompress(*args, **kwargs)

    monkeypatch.setattr(taco.codec, "decompress", once_out_of_memory)
    out = tmp_path / "out"
    assert main(["decompress", str(tacos), "-o", str(out)]) == 3
    err = [line for line in capsys.readouterr().err.splitlines() if " note: " not in line]
    assert err[0] == f"taco decompress: error: {tacos / 'b.taco'}: out of memory: an allocation failed"
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"]
