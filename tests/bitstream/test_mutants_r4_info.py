"""``taco info`` layout (review M4's surviving mutants I1, I2): ``--json`` gives bpp to 4
decimals, as the text does; two files' blocks are parted by one blank line."""

from __future__ import annotations

import json

from taco.bitstream import TacoHeader, pack, unpack
from taco.cli import main

HEADER = TacoHeader("elic-small-q4", bytes(range(8)), 300, 451, "L", quality=0)


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
