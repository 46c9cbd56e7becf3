"""``taco plot`` with a per-image CSV that cannot be read (not UTF-8, a field over the csv
module's 128 KiB limit): it stopped after rd.png/rd.svg were written, and the rerun after fixing
the CSV was refused for those files. Every CSV is read before anything is written now, and the
error is one line naming the CSV."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("bad", [b"\xff\xfe not utf-8\n", b'image,bpp\n"' + b"x" * 140_000 + b'",1\n'],
                         ids=["not-utf8", "huge-field"])
def test_an_unreadable_csv_writes_nothing(eval_main, rd_folder, tmp_path, capsys, bad):
    folder = rd_folder(tmp_path / "runs")
    csv = folder / "webp.csv"
    csv.write_bytes(bad)
    argv = ["plot", str(folder), "-o", str(tmp_path / "rd"), "--anchor", "JPEG", "--bootstrap", "20"]
    assert eval_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"taco plot: error: {csv}: not a taco results CSV"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]  # no rd.png, rd.svg, table
