"""A folder that cannot be listed but whose files open by name (mode 711: a shared home or
project folder): ``taco compress d/a.png`` with a readable sidecar ``d/a.txt``
coded the image with an empty caption and noted that it had none, and a captions.jsonl there was
ignored alike: :class:`taco.captions_file.CaptionLookup` took the refused listing (EACCES) for an
empty folder. Such a folder's sidecars and captions.jsonl are now found by their exact names.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from taco import captions_file
from taco.captions_file import CaptionLookup, folder_captions, has_captions
from taco.cli.inputs import CaptionSource, uncaptioned_note


def _unlistable(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> list[Path]:
    """os.scandir refuses ``folders`` as it does a mode 711 folder of another user (EACCES); the
    folders asked to be listed are recorded."""
    real = os.scandir
    asked: list[Path] = []

    def scandir(path: object = ".") -> object:
        asked.append(Path(os.fspath(path)))  # type: ignore[arg-type]
        if Path(os.fspath(path)) in folders:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    return asked


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "d"
    d.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        (d / name).write_bytes(b"")
    (d / "a.txt").write_text("a red door\n", encoding="utf-8")
    (d / "captions.jsonl").write_text(
        "".join(json.dumps({"image": n, "captions": [f"{n} from the folder"]}) + "\n"
                for n in ("b.png", "c.png", "far.png")), encoding="utf-8")
    (d / "c.txt").write_text("c's sidecar\n", encoding="utf-8")
    return d


def test_a_folder_read_by_name_only_gives_its_sidecar_and_captions_file(tmp_path, monkeypatch):
    d = _folder(tmp_path)
    asked = _unlistable(monkeypatch, d)
    lookup = CaptionLookup()
    found = lookup.find(d, "a.png")
    assert d in asked  # the listing was tried, and refused
    assert found is not None and found.captions == ("a red door",) and found.source == "sidecar"
    assert lookup.has_sidecar(d, "a.png") and lookup.sidecar(d, "a.png") == d / "a.txt"
    assert not lookup.has_sidecar(d, "b.png")
    assert lookup.folder_file_path(d) == d / "captions.jsonl"
    b = lookup.find(d, "b.png")
    assert b is not None and b.captions == ("b.png from the folder",) and b.source == "folder"
    assert lookup.find(d, "none.png") is None
    assert has_captions(d, ["none.png"])  # the folder's captions.jsonl is a source


def test_compress_finds_the_caption_and_notes_nothing(tmp_path, monkeypatch):
    # what taco compress d/a.png asks: it coded the image with "" and noted "has no caption"
    d = _folder(tmp_path)
    _unlistable(monkeypatch, d)
    source = CaptionSource(None, None)
    assert source(d / "a.png") == "a red door"
    assert source(d / "b.png") == "b.png from the folder"
    note = uncaptioned_note([d / "x.png"], [None], lookup=source.lookup)
    assert note is not None and f"a line for it in {d / 'captions.jsonl'}" in note


def test_folder_captions_of_a_folder_read_by_name_only(tmp_path, monkeypatch):
    # an image the captions file lists but not given is looked for by its name: c.png's sidecar
    # wins over the folder's line, as in a folder that can be listed; far.png is not there
    d = _folder(tmp_path)
    listed = folder_captions(d, ["a.png"])
    _unlistable(monkeypatch, d)
    unlisted = folder_captions(d, ["a.png"])
    assert unlisted == listed
    assert {r.file: r.captions for r in unlisted.records} == {
        "b.png": ("b.png from the folder",), "c.png": ("c's sidecar",), "far.png": ("far.png from the folder",),
        "a.png": ("a red door",)}
    assert unlisted.counts == {"sidecar": 2, "folder": 2} and unlisted.has_source


def test_no_such_folder_is_still_nothing_there(tmp_path, monkeypatch):
    missing = tmp_path / "missing"
    lookup = CaptionLookup()
    assert lookup.find(missing, "a.png") is None and lookup.folder_file_path(missing) is None
    stats: list[str] = []
    real = os.path.isfile
    monkeypatch.setattr(captions_file.os.path, "isfile", lambda p: stats.append(p) or real(p))
    assert not lookup.has_sidecar(missing, "b.png")
    assert stats == []  # known empty: no stat per name


#: ``python -c READ_711 FOLDER``: whether FOLDER lists, then the captions of a.png and b.png in
#: it, for a process of its own.
READ_711 = """
import os
import sys
from pathlib import Path
from taco.cli.inputs import CaptionSource
d = Path(sys.argv[1])
try:
    os.listdir(d)
    print("listed")
except PermissionError:
    print("not listed")
print(CaptionSource(None, None)(d / "a.png"))
print(CaptionSource(None, None)(d / "b.png"))
"""


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX modes")
def test_a_real_mode_711_folder(tmp_path, request):
    """What mode 711 leaves the others (search, no read), for the folder's owner: mode 111 (711
    would let the owner list it). As root, in a process without the capabilities that list any
    folder (skipped without capsh; the tests above refuse the listing instead)."""
    d = _folder(tmp_path)
    d.chmod(0o111)
    try:
        if os.geteuid() == 0:
            done = request.getfixturevalue("without_bypass")(["-c", READ_711, str(d)])
            assert done.returncode == 0, done.stderr
            assert done.stdout.splitlines() == ["not listed", "a red door", "b.png from the folder"]
            return
        with pytest.raises(PermissionError):
            os.listdir(d)
        assert CaptionSource(None, None)(d / "a.png") == "a red door"
        assert CaptionSource(None, None)(d / "b.png") == "b.png from the folder"
    finally:
        d.chmod(0o755)


def test_a_folder_read_by_name_only_takes_no_folder_for_a_sidecar(tmp_path, monkeypatch):
    """In a folder that cannot be listed, a sidecar is a file of that name: a folder named
    a.txt is no caption (as in a listed folder), not an unreadable one."""
    from taco.captions_file import CaptionLookup

    d = tmp_path / "d"
    d.mkdir()
    (d / "a.png").write_bytes(b"")
    (d / "a.txt").mkdir()
    real = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(os.fspath(path)) == d:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    lookup = CaptionLookup()
    assert not lookup.has_sidecar(d, "a.png")
    assert lookup.find(d, "a.png") is None
