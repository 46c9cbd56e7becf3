"""A results CSV with a value taco never writes where it always writes a number: taco evaluate
resuming from it stopped with a traceback (``ValueError: could not convert string to float``
from the summary), and a ``bpp`` of nan was kept, its point's bpp null in a JSON saying
complete. read_rows refuses such a row now, in one line naming the CSV, the line and the column."""

from __future__ import annotations

import pytest

from taco.evaluation.runner import UnreadableResultsCSV, read_rows

HEADER = "index,image,setting,height,width,bytes,bpp,psnr,ms_ssim,lpips\n"
GOOD = "0,a.png,q5,64,64,350,0.68,24.9,nan,\n1,b.png,q5,64,64,350,0.68,inf,0.9,0.2\n"


@pytest.mark.parametrize("row, says", [
    ("2,c.png,q5,abc,64,350,0.68,24.9,0.9,0.2\n", "height of c.png on line 4 is 'abc', not a finite number"),
    ("2,c.png,q5,64,64,350,nan,24.9,0.9,0.2\n", "bpp of c.png on line 4 is 'nan', not a finite number"),
    ("2,c.png,q5,64,64,,0.68,24.9,0.9,0.2\n", "bytes of c.png on line 4 is '', not a finite number"),
    ("2,c.png,q5,64,64,350,0.68,24.9,high,0.2\n", "ms_ssim of c.png on line 4 is 'high', not a number"),
])
def test_a_row_without_its_numbers_is_refused(tmp_path, row, says):
    path = tmp_path / "jpeg.csv"
    path.write_text(HEADER + GOOD + row)
    with pytest.raises(UnreadableResultsCSV) as info:
        read_rows(path)
    assert str(info.value) == f"{path}: not a taco results CSV ({says})"


def test_what_taco_writes_is_read(tmp_path):
    path = tmp_path / "jpeg.csv"
    path.write_text(HEADER + GOOD + "2,c.png,q5,abc")  # a last row cut by a crash: left out, not refused
    assert [r["image"] for r in read_rows(path)] == ["a.png", "b.png"]
    # short rows, each ended by its newline (in the middle, and last): their missing columns
    # are no values, so they are not complete rows and are left out too
    short = "2,c.png,q5,64,64,350,0.68\n"
    path.write_text(HEADER + GOOD + short + "3,d.png,q5,64,64,350,0.68,24.9,0.9,0.2\n" + short.replace("2,c", "4,e"))
    assert [r["image"] for r in read_rows(path)] == ["a.png", "b.png", "d.png"]


def test_evaluate_refuses_to_resume_in_one_line(taco_main, tiny_folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "-o", str(out),
            "--limit", "1", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet"]
    assert taco_main(argv) == 0
    csv_path = out / tiny_folder.name / "jpeg.csv"
    header, row = csv_path.read_text().splitlines()
    columns = header.split(",")
    values = row.split(",")
    values[columns.index("bpp")] = "abc"
    csv_path.write_text(f"{header}\n{','.join(values)}\n")
    capsys.readouterr()
    assert taco_main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(lines)
    assert lines[-1] == (f"taco evaluate: error: {csv_path}: not a taco results CSV (bpp of {row.split(',')[1]} on line 2 is 'abc', "
                         f"not a finite number); delete {csv_path} and {csv_path.with_suffix('.json')}, "
                         "or choose another --output")
