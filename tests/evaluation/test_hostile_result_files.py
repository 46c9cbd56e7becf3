"""Hostile JSON and CSV files that the evaluation commands read (a results folder given to
``taco plot``, an earlier run's results that ``taco evaluate`` resumes, a file given to ``taco
import-captions``) get the command's one-line error (status 2), never a traceback: arrays
nested 100,000 deep raised RecursionError, a 5,000-digit number Python's "Exceeds the limit
(4300 digits)", a CSV field over 131,072 characters ``_csv.Error``."""

from __future__ import annotations

from pathlib import Path

import pytest

DEEP = "[" * 100_000
BIG_NUMBER = '{"run": ' + "9" * 5_000 + "}"


def _one_line_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The error line, the last on stderr and the only one (notes may come before it)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(lines)
    assert [line for line in lines if ": error: " in line] == lines[-1:], lines
    assert lines[-1].startswith(f"taco {command}: error: "), lines
    return lines[-1]


def test_plot_skips_a_deeply_nested_json_as_any_file_that_is_no_result(taco_main, tmp_path, capsys):
    (tmp_path / "r.json").write_text(DEEP)
    assert taco_main(["plot", str(tmp_path), "-o", str(tmp_path / "fig")]) == 2
    assert _one_line_error(capsys, "plot").endswith(f"no taco-eval result JSONs with points in {tmp_path}")


@pytest.mark.parametrize("text, says", [
    (DEEP, "cannot be read as JSON (nested too deeply)"),
    ('{"a.png": ' + "9" * 5_000 + "}", "cannot be read as JSON (a number with too many digits)"),
])
def test_import_captions_names_a_hostile_json(taco_main, tmp_path, capsys, text, says):
    src = tmp_path / "captions.json"
    src.write_text(text)
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "out.jsonl")]) == 2
    assert _one_line_error(capsys, "import-captions") == f"taco import-captions: error: {src}: {says}"
    assert not (tmp_path / "out.jsonl").exists()


EVALUATE = ["--limit", "1", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet"]


@pytest.mark.parametrize("text, reason", [
    (DEEP, "nested too deeply"),
    (BIG_NUMBER, "a number with too many digits"),
    ("[1]", "not a JSON object"),  # resumed before, unchecked, into the CSV beside it
    ('{"format": "taco-eval", "version": 1, "run": 1}', "its run is not a JSON object"),
    ('{"format": "taco-eval-2"}', "its format is 'taco-eval-2', not 'taco-eval'"),
    ('{"run": {}}', "its format is None, not 'taco-eval'"),
])
def test_evaluate_refuses_to_resume_an_unreadable_results_json(taco_main, tiny_folder, tmp_path, capsys,
                                                                text, reason):
    out = tmp_path / "out"
    json_path = out / tiny_folder.name / "jpeg.json"
    json_path.parent.mkdir(parents=True)
    json_path.write_text(text)
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "-o", str(out)]
    assert taco_main(argv + EVALUATE) == 2
    assert _one_line_error(capsys, "evaluate") == (
        f"taco evaluate: error: {json_path}: not a taco evaluation result ({reason}); "
        f"delete {json_path.with_suffix('.csv')} and {json_path}, or choose another --output")
    assert json_path.read_text() == text  # not overwritten


def test_evaluate_of_a_model_refuses_a_deeply_nested_results_json(taco_main, tiny_folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["evaluate", str(tiny_folder), "-m", "elic-tiny", "-o", str(out)] + EVALUATE
    assert taco_main(argv) == 0
    [json_path] = (out / tiny_folder.name).glob("elic-tiny*.json")
    json_path.write_text(DEEP)
    capsys.readouterr()
    assert taco_main(argv) == 2
    assert _one_line_error(capsys, "evaluate").endswith(
        f"{json_path}: not a taco evaluation result (nested too deeply); "
        f"delete {json_path.with_suffix('.csv')} and {json_path}, or choose another --output")


@pytest.mark.parametrize("row, reason", [
    ("0," + "x" * 200_000 + "\n", "field larger than field limit (131072)"),
    (b"0,\xff\xfe\n", "not UTF-8 text"),
])
def test_evaluate_refuses_to_resume_an_unreadable_results_csv(taco_main, tiny_folder, tmp_path, capsys,
                                                               row, reason):
    out = tmp_path / "out"
    csv_path = out / tiny_folder.name / "jpeg.csv"
    csv_path.parent.mkdir(parents=True)
    header = b"index,image,setting\n"
    csv_path.write_bytes(header + (row if isinstance(row, bytes) else row.encode()))
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "-o", str(out)]
    assert taco_main(argv + EVALUATE) == 2
    assert _one_line_error(capsys, "evaluate") == (
        f"taco evaluate: error: {csv_path}: not a taco results CSV ({reason}); "
        f"delete {csv_path} and {csv_path.with_suffix('.json')}, or choose another --output")


def test_a_header_over_the_csv_field_limit_is_refused_before_any_row_is_appended(taco_main, tiny_folder, tmp_path, capsys):
    """The columns check reads the CSV's first line with the csv module too."""
    out = tmp_path / "out"
    csv_path: Path = out / tiny_folder.name / "jpeg.csv"
    csv_path.parent.mkdir(parents=True)
    csv_path.write_text("x" * 200_000 + "\n")
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "-o", str(out)]
    assert taco_main(argv + EVALUATE) == 2
    assert _one_line_error(capsys, "evaluate") == (
        f"taco evaluate: error: {csv_path}: not a taco results CSV (field larger than field limit "
        f"(131072)); delete {csv_path} and {csv_path.with_suffix('.json')}, or choose another --output")
    assert csv_path.read_text() == "x" * 200_000 + "\n"


def test_an_unreadable_rank_shard_is_named_with_the_csv_and_json_to_delete(taco_main, tiny_folder, tmp_path, capsys):
    """A shard left by a torchrun run is read before anything: the advice names it, the CSV and
    the JSON (deleting the CSV and JSON alone would meet the shard again)."""
    out = tmp_path / "out"
    shard = out / tiny_folder.name / "jpeg.rank1.csv"
    shard.parent.mkdir(parents=True)
    shard.write_bytes(b"index,image,setting\n0,\xff\xfe\n")
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "-o", str(out)]
    assert taco_main(argv + EVALUATE) == 2
    stem = out / tiny_folder.name / "jpeg"
    assert _one_line_error(capsys, "evaluate") == (
        f"taco evaluate: error: {shard}: not a taco results CSV (not UTF-8 text); "
        f"delete {shard}, {stem}.csv and {stem}.json, or choose another --output")


def test_resume_advice_names_the_run_s_two_files():
    from taco.evaluation.runner import resume_advice

    folder = Path("o") / "d"
    for name in ("x.json", "x.csv"):
        assert resume_advice(folder / name) == f"delete {folder / 'x.csv'} and {folder / 'x.json'}, or choose another --output"
    assert resume_advice(folder / "x.ranking.csv") == (  # no shard: another file
        f"delete {folder / 'x.ranking.csv'} and {folder / 'x.ranking.json'}, or choose another --output")
    assert resume_advice(Path("a\x1bb.json")) == "delete a\\x1bb.csv and a\\x1bb.json, or choose another --output"


def test_plot_names_an_unreadable_results_csv_without_evaluates_advice(taco_main, tiny_folder, tmp_path, capsys):
    """The BD table's bootstrap reads the CSVs beside the JSONs; in ``taco plot`` -o is the
    figure, so the error gives no "choose another --output" (that is ``taco evaluate``'s)."""
    out = tmp_path / "out"
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg,webp", "--qualities", "jpeg=30,60",
            "--qualities", "webp=30,60", "-o", str(out)]
    assert taco_main(argv + EVALUATE) == 0
    csv_path = out / tiny_folder.name / "webp.csv"
    csv_path.write_bytes(csv_path.read_bytes() + b"0,\xff\xfe\n")
    capsys.readouterr()
    argv = ["plot", str(out / tiny_folder.name), "-o", str(tmp_path / "fig"), "--anchor", "JPEG", "--bootstrap", "10"]
    assert taco_main(argv) == 2
    assert _one_line_error(capsys, "plot") == f"taco plot: error: {csv_path}: not a taco results CSV (not UTF-8 text)"
