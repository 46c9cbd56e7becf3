"""save_checkpoint refuses a path that can name no file by name, as taco.load does: an empty one
was a bare ValueError "PosixPath('.') has an empty name" (``Path("")`` is the current folder)."""

from __future__ import annotations

import pytest

from taco.errors import TacoValueError
from taco.models import save_checkpoint


@pytest.mark.parametrize("path,reason", [("", "an empty path"), ("m\x00.safetensors", "null byte")])
def test_refused_by_name(tiny_elic, tmp_path, monkeypatch, path, reason):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TacoValueError, match=f"save_checkpoint: .*{reason}"):
        save_checkpoint(tiny_elic, path)
    assert list(tmp_path.iterdir()) == []
