"""read_rows reads a results CSV row by row, within RESULTS_CSV_MAX_BYTES: a larger one (a
288 MB CSV took 3.5 GB in taco plot) is refused in one line before it is read, and a row cut by
a crash is still left out. A row taco never writes (a bpp of 0 or below, a negative byte count,
an image of no height or width) is refused in one line naming the CSV, the line and the column,
as one that is not a number (``taco plot`` drew a curve and a BD-rate from a bpp of -1). A name or
caption holding a line break (a lone ``\r`` too) is read back as written."""

from __future__ import annotations

import pytest

import taco.evaluation.runner as runner
from taco.evaluation.runner import (
    Job,
    JobResult,
    ResultsFileError,
    UnreadableResultsCSV,
    read_rows,
    run_jobs,
)

HEADER = "index,image,setting,value\n"


def test_a_csv_over_the_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    csv_path = tmp_path / "jpeg.csv"
    csv_path.write_text(HEADER + "".join(f"{i},im{i}.png,,{i}\n" for i in range(100)))
    size = csv_path.stat().st_size
    monkeypatch.setattr(runner, "RESULTS_CSV_MAX_BYTES", size)
    assert len(read_rows(csv_path)) == 100  # at the cap: read
    monkeypatch.setattr(runner, "RESULTS_CSV_MAX_BYTES", size - 1)
    with pytest.raises(UnreadableResultsCSV) as info:
        read_rows(csv_path)
    message = str(info.value)
    assert str(csv_path) in message and f"{size:,} bytes, over the {size - 1:,}" in message
    assert "\n" not in message


@pytest.mark.parametrize(("tail", "kept"), [
    ("", ["0", "1"]),
    ("2,im2.png,,2", ["0", "1"]),  # every column, but no newline: cut inside its last field
    ("2,im2.p", ["0", "1"]),  # too few columns
    ("2,im2.png,,2\n", ["0", "1", "2"]),
])
def test_only_complete_rows_are_read(tmp_path, tail, kept):
    csv_path = tmp_path / "jpeg.csv"
    csv_path.write_text(HEADER + "0,im0.png,,0\n1,im1.png,,1\n" + tail)
    assert [r["value"] for r in read_rows(csv_path)] == kept


def test_the_recommended_largest_evaluation_fits_the_cap():
    assert runner.RESULTS_CSV_MAX_BYTES >= 2 * 40_000 * 30 * 400


METRICS_HEADER = "index,image,setting,height,width,bytes,bpp,psnr,ms_ssim,lpips\n"


GOOD = "0,a.png,q5,64,64,350,0.68,24.9,nan,\n1,b.png,q5,64,64,1,1e-320,inf,0.9,0.2\n"


def _poison(csv_path, column, value):
    header, row, *rest = csv_path.read_text().splitlines()
    columns, values = header.split(","), row.split(",")
    values[columns.index(column)] = value
    csv_path.write_text("\n".join([header, ",".join(values), *rest]) + "\n")
    return values[columns.index("image")]


@pytest.mark.parametrize("row, says", [
    ("2,c.png,q5,64,64,350,-1,24.9,0.9,0.2\n", "bpp of c.png on line 4 is '-1', not a finite number above 0"),
    ("2,c.png,q5,64,64,350,0,24.9,0.9,0.2\n", "bpp of c.png on line 4 is '0', not a finite number above 0"),
    ("2,c.png,q5,64,64,350,-0.0,24.9,0.9,0.2\n", "bpp of c.png on line 4 is '-0.0', not a finite number above 0"),
    ("2,c.png,q5,64,64,-350,0.68,24.9,0.9,0.2\n", "bytes of c.png on line 4 is '-350', not a whole number from 1"),
    ("2,c.png,q5,64,64,0,0.68,24.9,0.9,0.2\n", "bytes of c.png on line 4 is '0', not a whole number from 1"),
    ("2,c.png,q5,64,64,350.5,0.68,24.9,0.9,0.2\n", "bytes of c.png on line 4 is '350.5', not a whole number from 1"),
    ("2,c.png,q5,0,64,350,0.68,24.9,0.9,0.2\n", "height of c.png on line 4 is '0', not a whole number from 1"),
    ("2,c.png,q5,64,-64,350,0.68,24.9,0.9,0.2\n", "width of c.png on line 4 is '-64', not a whole number from 1"),
    ("2,c.png,q5,64,6.4,350,0.68,24.9,0.9,0.2\n", "width of c.png on line 4 is '6.4', not a whole number from 1"),
    ("-2,c.png,q5,64,64,350,0.68,24.9,0.9,0.2\n", "index of c.png on line 4 is '-2', not a whole number from 0"),
    ("2.5,c.png,q5,64,64,350,0.68,24.9,0.9,0.2\n", "index of c.png on line 4 is '2.5', not a whole number from 0"),
])
def test_a_row_out_of_range_is_refused(tmp_path, row, says):
    path = tmp_path / "webp.csv"
    path.write_text(METRICS_HEADER + GOOD + row)
    with pytest.raises(UnreadableResultsCSV) as info:
        read_rows(path)
    assert str(info.value) == f"{path}: not a taco results CSV ({says})"


def test_the_least_values_taco_can_write_are_read(tmp_path):
    path = tmp_path / "webp.csv"
    path.write_text(METRICS_HEADER + GOOD + "2,c.png,q5,1,1,1,8.0,24.9,0.9,0.2\n")
    assert [r["image"] for r in read_rows(path)] == ["a.png", "b.png", "c.png"]


def test_plot_and_a_resumed_evaluate_refuse_a_bpp_below_0(taco_main, tiny_folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "-o", str(out),
            "--limit", "1", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet"]
    assert taco_main(argv) == 0
    csv_path = out / tiny_folder.name / "jpeg.csv"
    image = _poison(csv_path, "bpp", "-1")
    says = f"{csv_path}: not a taco results CSV (bpp of {image} on line 2 is '-1', not a finite number above 0)"
    capsys.readouterr()
    assert taco_main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == (f"taco evaluate: error: {says}; delete {csv_path} and {csv_path.with_suffix('.json')}, "
                         "or choose another --output")
    assert taco_main(["plot", str(out / tiny_folder.name), "-o", str(tmp_path / "plots") + "/"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and says in err, err


RATE_HEADER = "image,index,height,width,bytes,bpp\n"


def test_a_last_row_cut_inside_a_number_is_dropped_not_refused(tmp_path):
    # a kill while the row was written: its tail is repaired on resume, never a refusal
    path = tmp_path / "cut.csv"
    path.write_text(RATE_HEADER + "a.png,0,2,3,4,0.5\nb.png,1,2,3,4,1e", encoding="utf-8")
    assert [r["image"] for r in read_rows(path)] == ["a.png"]
    path.write_text(RATE_HEADER + "a.png,0,2,3,4,0.5\nb.png,1,2,3,4,1e\n", encoding="utf-8")  # ended: refused
    with pytest.raises(ResultsFileError, match=r"bpp of b\.png on line 3 is '1e'"):
        read_rows(path)


def test_a_long_bad_value_is_cut_in_the_refusal(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(RATE_HEADER + f"a.png,0,{'9x' * 250},3,4,0.5\n", encoding="utf-8")
    with pytest.raises(ResultsFileError) as caught:
        read_rows(path)
    assert "9x" * 20 in str(caught.value) and "9x" * 21 not in str(caught.value)


def test_the_rows_kept_follow_the_jobs_not_the_lines(tmp_path):
    """A 10 MB CSV of 5,000,000 lines ``x`` under the header ``image`` (beside a result JSON)
    took taco plot 1 GB and 51 s: a dict a line. One row a job (image and setting) is kept, the
    first, as every reader took it; memory follows the jobs, not the lines."""
    import tracemalloc

    path = tmp_path / "r.csv"
    path.write_text("image\n" + "x\n" * 100_000, encoding="utf-8")
    tracemalloc.start()
    try:
        rows = read_rows(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == [{"image": "x"}]
    assert peak < 2_000_000, peak  # a dict a line: some 20 MB


def test_a_later_row_of_a_job_is_left_out_unread(tmp_path):
    path = tmp_path / "jobs.csv"
    path.write_text(RATE_HEADER.replace("image,", "image,setting,")
                    + "a.png,q1,0,2,3,4,0.5\na.png,q2,0,2,3,4,0.6\nb.png,q1,1,2,3,4,0.7\n"
                    + "a.png,q1,0,2,3,4,-1\n"  # a bpp taco never writes, in a row not read
                    + "b.png,q1,1,2,3,4,0.9", encoding="utf-8")  # cut, and a job's second row
    assert [(r["image"], r["setting"], r["bpp"]) for r in read_rows(path)] == [
        ("a.png", "q1", "0.5"), ("a.png", "q2", "0.6"), ("b.png", "q1", "0.7")]


def test_the_first_row_taco_never_writes_is_refused_without_reading_on(tmp_path):
    path = tmp_path / "bad.csv"
    later = "".join(f"b{i}.png,1,2,3,4,0.5\n" for i in range(20_000))  # past what is decoded at once
    path.write_bytes((RATE_HEADER + "a.png,0,2,3,4,-1\n" + later).encode() + b"\xff\n")
    with pytest.raises(ResultsFileError, match=r"not a taco results CSV \(bpp of a\.png on line 2 is '-1'"):
        read_rows(path)


def test_a_row_with_more_values_than_columns_is_left_out(tmp_path):
    """A line with a value past the last column is no complete row (as csv.DictReader read it,
    with its extra values under no name): left out, not an error."""
    csv_path = tmp_path / "jpeg.csv"
    csv_path.write_text(HEADER + "0,im0.png,,0\n1,im1.png,,1,extra\n2,im2.png,,2\n")
    assert [r["value"] for r in read_rows(csv_path)] == ["0", "2"]


BREAKS = ["a cat\ron a mat", "a\r\nb", "a\nb", "\r", "end\r", "\rstart", "a\n\rb", "\r\r\n\n"]


def test_names_and_captions_with_line_breaks_are_read_back_as_written(tmp_path):
    """A lone ``\\r`` in an image's name or caption was written unquoted (a writer ending its lines
    with ``\\n`` quotes only ``\\n``): the reader split the row there and dropped both halves, so
    ``taco evaluate`` said ``incomplete: ... lacks 1 per-image result`` and a rerun added another
    broken row, forever. Written to a rank shard, merged into the CSV by the next run."""
    columns = ("index", "image", "setting", "caption", "bpp")
    captions = {f"im{i}{text}.png": text for i, text in enumerate(BREAKS)}
    captions["im.png"] = 'a dog, "Rex"'  # no line break: the bytes it always had
    jobs = [Job(i, image, "q1") for i, image in enumerate(captions)]

    def work(job):
        return JobResult(row={"index": job.index, "caption": captions[job.image], "bpp": 0.5})

    def never(job):
        raise AssertionError(f"{job.image!r} coded again")

    csv_path, shard = tmp_path / "r.csv", tmp_path / "r.rank1.csv"
    assert run_jobs(jobs, work, shard, columns, progress=False).coded == len(jobs)
    text = shard.read_bytes()
    assert text.startswith(b"index,image,setting,caption,bpp\n0,\"im0a cat\ron a mat.png\",q1,\"a cat\r")
    assert text.endswith(b'\n8,im.png,q1,"a dog, ""Rex""",0.5\n')
    expected = [(image, "q1", caption) for image, caption in captions.items()]
    assert [(r["image"], r["setting"], r["caption"]) for r in read_rows(shard)] == expected
    assert run_jobs(jobs, never, csv_path, columns, progress=False).coded == 0  # the shard merged
    assert not shard.exists()
    assert [(r["image"], r["setting"], r["caption"]) for r in read_rows(csv_path)] == expected
    assert run_jobs(jobs, never, csv_path, columns, progress=False).coded == 0
