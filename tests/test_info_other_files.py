"""taco info (and decompress) on a file that is no .taco file but one taco knows says what it is:
a safetensors file or a torch.save checkpoint (with taco models FILE), an archive or a compressed
file (zip, tar, gzip, xz, zstd, bzip2, 7z: to extract the .taco inside), an image."""
from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import tarfile
import zipfile

import pytest
import torch

from taco.bitstream.container import other_file_kind
from taco.cli import main


def _safetensors(path):
    header = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(8))
    return path


def _error(path, capsys) -> str:
    assert main(["info", str(path)]) == 2
    return capsys.readouterr().err.strip()


def test_a_safetensors_file_points_to_taco_models(tmp_path, capsys):
    path = _safetensors(tmp_path / "t.safetensors")
    assert _error(path, capsys) == (f"taco info: error: {path}: not a .taco file: it is a safetensors "
                                    "file (for a model checkpoint: taco models FILE)")


def test_a_torch_save_checkpoint_is_named_as_one(tmp_path, capsys):
    path = tmp_path / "c.pt"
    torch.save({"a": torch.zeros(2)}, path)  # the rule holds for what this torch writes
    assert _error(path, capsys).endswith(f"{path}: not a .taco file: it is a PyTorch checkpoint "
                                         "(torch.save; taco models FILE says how to import it)")


def test_another_zip_is_a_zip_archive(tmp_path, capsys):
    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hi")
    assert _error(path, capsys).endswith(": not a .taco file: it is a zip archive (extract it, then "
                                         "decode the .taco inside)")


def _tar(data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        entry = tarfile.TarInfo("x.taco")
        entry.size = len(data)
        tar.addfile(entry, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize(("pack", "kind"), [
    (gzip.compress, "a gzip-compressed file"),
    (lzma.compress, "an xz-compressed file"),
    (bz2.compress, "a bzip2-compressed file"),
    (lambda data: b"\x28\xb5\x2f\xfd" + data, "a zstd-compressed file"),  # its frame's magic
    (lambda data: b"7z\xbc\xaf\x27\x1c" + data, "a 7z archive"),
    (_tar, "a tar archive"),
])
def test_a_packed_taco_file_is_said_to_need_extracting(tmp_path, capsys, pack, kind):
    """A .taco.gz (or .tar, ...) sent on: what it is and what to do, not "wrong magic bytes"."""
    from taco.bitstream import TacoHeader, pack as pack_taco

    path = tmp_path / "x.taco.packed"
    path.write_bytes(pack(pack_taco(TacoHeader("elic-tiny", bytes(8), 64, 64, "RGB"), b"\x01" * 40)))
    assert _error(path, capsys) == (f"taco info: error: {path}: not a .taco file: it is {kind} "
                                    "(extract it, then decode the .taco inside)")


@pytest.mark.parametrize(("head", "kind"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(8), "a PNG image (compress it to make one)"),
    (b"TACX" + bytes(20), None),
    (b"", None),
    (bytes(8) + b"{", None),  # a header of 0 bytes: not a safetensors file
    (b"BZh" + bytes(20), None),  # no block size digit: not a bzip2 file
])
def test_other_file_kind(head, kind):
    assert other_file_kind(head) == kind
