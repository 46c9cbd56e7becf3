"""A sidecar caption ``IMAGE.txt`` saved as UTF-16 (Windows Notepad's "Unicode", with a
byte-order mark) is said to be :data:`taco.jsonfiles.UTF16_TEXT`, as the captions file and configs
say it (it was "cannot read the caption (not readable UTF-8 text)"); other bytes keep that wording."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from taco.captions_file import CaptionsFileError, SidecarError, read_sidecar
from taco.cli import main as taco_main
from taco.jsonfiles import UTF16_TEXT


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_sidecar_is_said_to_be_utf16(tmp_path: Path, encoding: str) -> None:
    """Notepad's "Unicode" is UTF-16 LE with a byte-order mark; either order is named."""
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes(bom + "a red barn".encode(encoding))
    with pytest.raises(SidecarError) as e:
        read_sidecar(sidecar)
    assert str(e.value) == f"{sidecar}: cannot read the caption: {UTF16_TEXT}"
    assert UTF16_TEXT == "UTF-16 text (not UTF-8): save it as UTF-8"
    assert isinstance(e.value, CaptionsFileError) and isinstance(e.value, ValueError)


@pytest.mark.parametrize("raw", [b"caf\xe9", b"\xfe", b"\xff", b"a\xff\xfe"],
                         ids=["latin-1", "lone FE", "lone FF", "FF FE later"])
def test_other_bytes_that_are_not_utf8_are_still_not_readable_utf8(tmp_path: Path, raw: bytes) -> None:
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes(raw)
    with pytest.raises(SidecarError) as e:
        read_sidecar(sidecar)
    assert str(e.value) == f"{sidecar}: cannot read the caption (not readable UTF-8 text)"


def test_a_utf8_sidecar_with_a_bom_still_reads(tmp_path: Path) -> None:
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes(b"\xef\xbb\xbf a red barn \n")
    assert read_sidecar(sidecar) == "a red barn"


def test_taco_compress_says_the_sidecar_is_utf16(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    Image.new("RGB", (32, 32), (120, 30, 200)).save(tmp_path / "a.png")
    sidecar = tmp_path / "a.txt"
    sidecar.write_bytes("a red barn".encode("utf-16"))
    out = tmp_path / "a.taco"
    assert taco_main(["compress", str(tmp_path / "a.png"), "-m", "taco-tiny", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"taco compress: error: {sidecar}: cannot read the caption: {UTF16_TEXT}\n"
    assert not out.exists()


def test_taco_evaluate_leaves_the_image_out_saying_its_sidecar_is_utf16(tmp_path: Path) -> None:
    from PIL import Image

    from taco.data import SkippedImageWarning
    from taco.evaluation.datasets import open_dataset

    for name in ("a", "b"):
        Image.new("RGB", (32, 32), (120, 30, 200)).save(tmp_path / f"{name}.png")
    (tmp_path / "a.txt").write_bytes("a red barn".encode("utf-16"))
    (tmp_path / "b.txt").write_text("a purple square", encoding="utf-8")
    with pytest.warns(SkippedImageWarning) as warned:
        dataset = open_dataset(tmp_path)
    assert dataset.names == ["b.png"]
    said = " ".join(str(w.message) for w in warned)
    assert f"{tmp_path / 'a.txt'}: cannot read the caption: {UTF16_TEXT}" in said, said


def test_a_utf16_json_file_and_captions_file_are_said_to_be_utf16(tmp_path: Path) -> None:
    """PowerShell 5's > writes UTF-16 LE with a byte-order mark: said so, not 'not UTF-8 text'
    (byte 0xff at ...)."""
    from taco.captions_file import CaptionsFileError, read_captions_file
    from taco.jsonfiles import UTF16_TEXT, read_json

    for encoding in ("utf-16", "utf-16-be"):
        text = '{"image": "a.png", "captions": ["a cat"]}\n'
        data = ("\ufeff" + text).encode(encoding)
        assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
        (tmp_path / "r.json").write_bytes(data)
        with pytest.raises(ValueError, match=re.escape(UTF16_TEXT)):
            read_json(tmp_path / "r.json", 10_000)
        (tmp_path / "captions.jsonl").write_bytes(data)
        with pytest.raises(CaptionsFileError, match=re.escape(UTF16_TEXT)):
            read_captions_file(tmp_path / "captions.jsonl")
