"""Outputs into the sources' own folder reached by another name (a symlink here; ``-o Photos``
for ``photos`` on macOS and Windows, a bind mount) are named as beside the sources, so
``decompress --force`` never writes NAME.png over the original photo."""
from __future__ import annotations

from pathlib import Path

import pytest

from taco.cli.files import folder_tacos, plan_outputs
from taco.fileobjects import same_folder


def _photos(tmp_path: Path) -> tuple[Path, Path]:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "photo.png").write_bytes(b"precious")
    (photos / "photo.taco").write_bytes(b"TACO")
    other = tmp_path / "Photos-link"
    other.symlink_to(photos, target_is_directory=True)
    return photos, other


@pytest.mark.parametrize("merged_by_resolve", [True, False])
def test_the_own_folder_by_another_name_gets_the_beside_names(tmp_path, monkeypatch, merged_by_resolve):
    photos, other = _photos(tmp_path)
    if not merged_by_resolve:  # as Photos/photos on macOS: resolve keeps the name as given
        monkeypatch.setattr(Path, "resolve", lambda self, strict=False: self.absolute())
    planned = plan_outputs([photos / "photo.taco"], str(other), to_folder=True, suffix=".png",
                           beside_suffix=".decoded.png", force=True, inputs_in=folder_tacos)
    assert planned == [other / "photo.decoded.png"]


def test_same_folder(tmp_path):
    photos, other = _photos(tmp_path)
    assert same_folder(photos, other) and same_folder(photos, photos / ".")
    assert not same_folder(photos, tmp_path)
    assert not same_folder(photos, tmp_path / "new")  # not there yet: by resolved path
    assert same_folder(tmp_path / "new", tmp_path / "new" / ".." / "new")
