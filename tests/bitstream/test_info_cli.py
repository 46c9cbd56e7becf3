"""``taco info``: every header field, the padding and the checksum included, in text and JSON;
it checks the header and the CRC, not the stream. ``--json`` gives bpp to 4 decimals, as the text
does; two files' blocks are parted by one blank line; a model-code-0 file's id and an inline id's
edge spaces are shown visibly."""

from __future__ import annotations

import json
import zlib

import pytest

from taco.bitstream import TacoHeader, pack, unpack
from taco.cli import main

HEADER = TacoHeader("elic-small-q4", bytes(range(8)), 300, 451, "L", quality=0)


def test_info_shows_padding_and_checksum(tmp_path, capsys):
    path = tmp_path / "x.taco"
    data = pack(HEADER, b"\x01" * 40)
    path.write_bytes(data)
    crc = f"{unpack(data).crc32:08x}"
    assert crc == data[20:24].hex()  # after 4 + 1 + 1 + 1 + 8 + 2 + 2 + 1 bytes, big endian
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["padding"], info["crc32"], info["original_mode"]) == (1, crc, "L")
    assert main(["info", str(path)]) == 0
    lines = {k.strip(): v.strip() for k, v in
             (line.split(":", 1) for line in capsys.readouterr().out.splitlines())}
    assert lines["padding"] == "1 (edges replicated to a multiple of 64)"
    assert lines["crc32"] == crc


def test_info_does_not_read_the_stream(tmp_path, capsys):
    """A stream that cannot decode, behind a valid CRC: info shows the header all the same."""
    head = pack(HEADER, b"")[:-4]
    junk = b"not a rANS stream"
    path = tmp_path / "junk.taco"
    path.write_bytes(head + zlib.crc32(junk, zlib.crc32(head)).to_bytes(4, "big") + junk)
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["payload_bytes"] == len(junk)


def test_json_bpp_has_4_decimals(tmp_path, capsys):
    path = tmp_path / "x.taco"
    data = pack(HEADER, b"\x01" * 40)
    path.write_bytes(data)
    bpp = unpack(data).bpp
    assert round(bpp, 4) != round(bpp, 3)  # the file is chosen so that the 4th decimal shows
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bpp"] == round(bpp, 4)


def test_two_files_are_parted_by_a_blank_line(tmp_path, capsys):
    paths = [tmp_path / "a.taco", tmp_path / "b.taco"]
    for path in paths:
        path.write_bytes(pack(HEADER, b"\x01" * 40))
    assert main(["info", str(paths[0])]) == 0
    one = capsys.readouterr().out.rstrip("\n").splitlines()
    assert main(["info", *map(str, paths)]) == 0
    lines = capsys.readouterr().out.rstrip("\n").splitlines()
    assert "" not in one
    assert len(lines) == 2 * len(one) + 1, lines
    assert lines[len(one)] == ""
    assert lines[len(one) + 1].split(":", 1)[0].strip() == "file"


def _info(tmp_path, capsys, model_id: str) -> tuple[str, str]:
    """``taco info``'s model_id line (text) and the JSON's model_id, for a file naming ``model_id``."""
    path = tmp_path / "x.taco"
    path.write_bytes(pack(TacoHeader(model_id, bytes(range(8)), 48, 64, "RGB"), b"\x01" * 40))
    assert main(["info", str(path)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("model_id:")]
    assert len(lines) == 1
    assert main(["info", str(path), "--json"]) == 0
    return lines[0].split(": ", 1)[1], json.loads(capsys.readouterr().out)["model_id"]


@pytest.mark.parametrize("model_id, shown", [
    ("", "(none: model code 0)"),
    (" a b ", "' a b '"),
    ("x ", "'x '"),
    (" ", "' '"),
    ("(none: model code 0)", "'(none: model code 0)'"),  # an inline id that reads like the words
    ("a b", "a b"),
    ("elic-small-q4", "elic-small-q4"),
    ("it's", "it's"),
])
def test_info_text_shows_an_empty_or_space_edged_model_id(tmp_path, capsys, model_id, shown):
    text, in_json = _info(tmp_path, capsys, model_id)
    assert text == shown
    assert in_json == model_id  # --json gives the header's id as it is


@pytest.mark.parametrize("locale", [{"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
                                    {"LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"}])
def test_json_file_names_are_utf8_whatever_the_locale(tmp_path, locale):
    """``--json``'s "file" is the name's bytes read as UTF-8, a byte that is not UTF-8 written as
    ``\\xff`` (taco.messages.utf8_text, as taco evaluate writes names): under LC_ALL=C without
    Python's UTF-8 mode café.taco was "caf\\udcc3\\udca9.taco", and bad<0xff>.taco gave a lone
    surrogate under any locale."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    data = pack(HEADER, b"\x01" * 40)
    folder = os.fsencode(tmp_path)
    for name in ("café.taco".encode(), b"bad\xff.taco"):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **locale}
    r = subprocess.run([sys.executable, "-m", "taco", "info", "--json", "café.taco", b"bad\xff.taco"],
                       capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    files = [json.loads(line)["file"] for line in r.stdout.decode("utf-8").splitlines()]
    assert files == ["café.taco", "bad\\xff.taco"]
