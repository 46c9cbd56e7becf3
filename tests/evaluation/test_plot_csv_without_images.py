"""A results CSV beside a result JSON that lacks the ``image`` column (edited by hand, another
tool's) is refused in one line naming it, not a KeyError traceback from taco plot's
per-image curves (the bootstrap intervals read them)."""

from __future__ import annotations

import taco.cli


def test_a_csv_without_an_image_column_is_one_line(rd_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    folder = rd_folder(tmp_path / "runs")
    csv = folder / "jpeg.csv"
    lines = csv.read_text().splitlines()
    columns = lines[0].split(",")
    keep = [i for i, c in enumerate(columns) if c != "image"]
    csv.write_text("".join(",".join(line.split(",")[i] for i in keep) + "\n" for line in lines))
    code = taco.cli.main(["plot", str(folder), "-o", str(tmp_path / "rd"), "--anchor", "JPEG",
                          "--bootstrap", "20"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"taco plot: error: {csv}: not a taco results CSV (it has no image column)"], err
