"""taco evaluate on hostile leftovers and inputs: rank shards of an interrupted torchrun run
resumed by one process, a results CSV without an ``image`` column, an incomplete run's exit
status, malformed COCO captions and Karpathy split files, text and names holding control
characters (a ``--label`` whose line feed printed a forged summary line, an output folder whose
ESC drove the terminal in the ``wrote:`` lines)."""

from __future__ import annotations

import json

import pytest

from taco.data import AnnotationsFileError, CocoCaptions, karpathy_split
from taco.errors import TacoError
from taco.evaluation.cli import print_summary
from taco.evaluation.evaluate import EvalConfig, EvaluationError, run_evaluation
from taco.evaluation.runner import Job, JobResult, ResultsFileError, read_rows, run_jobs

COLUMNS = ["index", "image", "setting", "value"]


def _jobs(n: int) -> list[Job]:
    return [Job(i, f"im{i}.png") for i in range(n)]


def _work(coded: list[str]):
    def work(job: Job) -> JobResult:
        coded.append(job.image)
        return JobResult({"index": job.index, "value": job.index * 10})
    return work


def test_single_process_resume_merges_shards_of_an_interrupted_torchrun(tmp_path):
    csv_path = tmp_path / "jpeg.csv"
    csv_path.write_text(",".join(COLUMNS) + "\n")
    # rank 1 of an interrupted 2-rank run coded images 1 and 3, rank 0 nothing
    (tmp_path / "jpeg.rank1.csv").write_text(",".join(COLUMNS) + "\n1,im1.png,,10\n3,im3.png,,30\n")
    coded: list[str] = []
    report = run_jobs(_jobs(4), _work(coded), csv_path, COLUMNS, progress=False)
    assert coded == ["im0.png", "im2.png"] and report.coded == 2  # the shard's are not redone
    assert [r["image"] for r in read_rows(csv_path)] == ["im1.png", "im3.png", "im0.png", "im2.png"]
    assert not list(tmp_path.glob("*.rank*.csv"))  # merged, gone


def test_shards_without_a_csv_are_merged_too(tmp_path):
    csv_path = tmp_path / "jpeg.csv"
    (tmp_path / "jpeg.rank0.csv").write_text(",".join(COLUMNS) + "\n0,im0.png,,0\n")
    coded: list[str] = []
    run_jobs(_jobs(2), _work(coded), csv_path, COLUMNS, progress=False)
    assert coded == ["im1.png"]
    assert [r["value"] for r in read_rows(csv_path)] == ["0", "10"]


@pytest.mark.parametrize("name", ["jpeg.csv", "jpeg.rank1.csv"])
def test_a_csv_without_the_image_column_is_refused_in_one_line(tmp_path, name):
    csv_path = tmp_path / "jpeg.csv"
    (tmp_path / name).write_text("a,b\n1,2\n")
    with pytest.raises(ResultsFileError, match=r"jpeg(\.rank1)?\.csv has columns \['a', 'b'\]"):
        run_jobs(_jobs(2), _work([]), csv_path, COLUMNS, progress=False)


def test_an_incomplete_run_says_so_and_exits_3(taco_main, folder_factory, tmp_path, capsys):
    folder = folder_factory(tmp_path / "photos")
    broken = sorted(folder.glob("*.png"))[1]
    broken.write_bytes(b"not an image")  # without a crop, met (and skipped) only when coded
    out = tmp_path / "out"
    args = ["evaluate", str(folder), "--classic", "jpeg", "--qualities", "jpeg=50", "--crop", "0",
            "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--bootstrap", "0", "--quiet",
            "-o", str(out)]
    assert taco_main(args) == 3
    err = capsys.readouterr().err
    result = json.loads((out / "photos" / "jpeg.json").read_text())
    assert result["complete"] is False and result["jobs_missing"] == 1
    assert (f"taco evaluate: incomplete: {out / 'photos' / 'jpeg.json'} lacks 1 per-image result "
            f"(unreadable: {broken.name})") in err

    assert taco_main(args) == 3  # resumed: the same file is tried again, and skipped again

    capsys.readouterr()
    broken.unlink()  # the advice followed: the set without it, into a fresh --output
    assert taco_main([*args[:-1], str(tmp_path / "out2")]) == 0
    assert "taco evaluate: incomplete:" not in capsys.readouterr().err


KARPATHY = {
    "truncated": b"{",
    "not utf-8": b"\xff\xfe{}",
    "a list": b"[1,2]",
    "images of numbers": b'{"images":[1,2]}',
    "a numeric caption": json.dumps({"images": [{"split": "restval", "filename": "a.jpg",
                                                 "sentences": [{"raw": 5}]}]}).encode(),
    "a numeric file name": json.dumps({"images": [{"split": "restval", "filename": 7,
                                                   "sentences": []}]}).encode(),
    "deep": b'{"images":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
}
COCO = {
    "truncated": b"{",
    "not utf-8": b"\xff\xfe{}",
    "a list": b"[1,2]",
    "an id that is no number": json.dumps({"images": [{"id": "x", "file_name": "a.jpg"}],
                                           "annotations": []}).encode(),
    "an id too large": b'{"images": [{"id": 1e400, "file_name": "a.jpg"}], "annotations": []}',
    "a numeric caption": json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}],
                                     "annotations": [{"image_id": 1, "caption": 5}]}).encode(),
    "deep": b'{"images":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
}


@pytest.mark.parametrize("content", KARPATHY.values(), ids=KARPATHY.keys())
def test_a_malformed_karpathy_split_is_one_taco_error(tmp_path, content):
    path = tmp_path / "dataset_coco.json"
    path.write_bytes(content)
    with pytest.raises(AnnotationsFileError, match=f"{path}: not a Karpathy split file") as info:
        karpathy_split(path)
    assert isinstance(info.value, TacoError) and "\n" not in str(info.value)


@pytest.mark.parametrize("content", COCO.values(), ids=COCO.keys())
def test_a_malformed_coco_captions_file_is_one_taco_error(tmp_path, content):
    path = tmp_path / "captions_val2014.json"
    path.write_bytes(content)
    with pytest.raises(AnnotationsFileError, match=f"{path}: not a COCO captions file") as info:
        CocoCaptions(tmp_path, path)
    assert isinstance(info.value, TacoError) and "\n" not in str(info.value)


def test_an_annotations_file_over_the_bound_is_refused_unread(tmp_path, monkeypatch):
    import taco.data

    monkeypatch.setattr(taco.data, "ANNOTATIONS_MAX_BYTES", 100)
    path = tmp_path / "dataset_coco.json"
    path.write_text(json.dumps({"images": [], "pad": "x" * 200}))
    with pytest.raises(AnnotationsFileError, match=r"\(2\d\d bytes, over the 100 taco reads\)"):
        karpathy_split(path)


def test_a_malformed_split_file_is_one_line_and_exit_2_on_the_command_line(taco_main, tmp_path, capsys):
    (tmp_path / "dataset_coco.json").write_bytes(b'{"images":[1,2]}')
    rc = taco_main(["evaluate", f"coco30k:{tmp_path}", "--classic", "jpeg", "--fid", "off",
                    "--cmmd-clip", "off", "--no-plot", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert f"taco evaluate: error: {tmp_path / 'dataset_coco.json'}: not a Karpathy split file" in err


CONTROL = {  # text -> what the refusal names
    "L\x1b]0;pwned\x07\nFORGED": "a control character at character 2, U+001B",
    "L\nFORGED": "a control character at character 2, U+000A",
    "Tab\tbed": "a control character at character 4, U+0009",
    "L\u2028FORGED": "a line separator at character 2, U+2028",
    "L\x85FORGED": "a control character at character 2, U+0085",
    "photo\u202egnp.exe": "a right-to-left override at character 6, U+202E",
    "L\u2067x": "a right-to-left isolate at character 2, U+2067",
}
TEXT_OPTIONS = {  # the command line before the text
    "evaluate --label": ["evaluate", "DATA", "-m", "elic-tiny", "--label"],
    "evaluate --anchor": ["evaluate", "DATA", "--classic", "jpeg", "--anchor"],
    "plot --anchor": ["plot", "DATA", "--anchor"],
    "plot --title": ["plot", "DATA", "--title"],
    "import-captions --captioner": ["import-captions", "DATA", "--captioner"],
}


@pytest.mark.parametrize("before", TEXT_OPTIONS.values(), ids=TEXT_OPTIONS.keys())
@pytest.mark.parametrize("text, said", CONTROL.items(),
                         ids=["escape", "line feed", "tab", "U+2028", "NEL", "RLO", "RLI"])
def test_text_with_control_characters_is_refused_in_one_line(taco_main, tmp_path, capsys, before, text, said):
    """``--label "$(printf 'L\\e]0;pwned\\a\\nFORGED')"`` set the terminal's title and printed a
    forged line ``FORGED (taco-minilm-small-q4) on capr (2 images): ...`` in the summary (and the
    BD table): refused before any work, naming the character."""
    args = [str(tmp_path / "data") if a == "DATA" else a for a in before]
    with pytest.raises(SystemExit) as stop:  # argparse's
        taco_main([*args, text, "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    option = before[-1]
    assert err.splitlines()[-1] == (f"taco {before[0]}: error: argument {option}: holds {said}: "
                                    "give printable text on one line")
    assert text not in err and "\x1b" not in err and "\nFORGED" not in err
    assert not (tmp_path / "out").exists()


#: Text of other scripts with the format characters it may need: refused by 6bf5360 ('give
#: printable text on one line'), though a line shows it as it is (the word joiner and BOM escaped).
SCRIPTS = {
    "Thai ZWSP": "\u0e20\u0e32\u0e29\u0e32\u200b\u0e44\u0e17\u0e22",
    "Arabic RLM": "\u0646\u0645\u0648\u0630\u062c \u0639\u0631\u0628\u064a \u200f(RTL)",
    "Hebrew LRM": "\u05de\u05d5\u05d3\u05dc \u200eA",
    "ALM": "\u0661\u061c-\u0662",
    "word joiner": "Nah\u2060kauf",
    "BOM": "\ufeffTACO",
}


@pytest.mark.parametrize("before", TEXT_OPTIONS.values(), ids=TEXT_OPTIONS.keys())
@pytest.mark.parametrize("text", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_text_of_any_script_with_its_marks_is_taken(before, text):
    """``--label "$(printf '\u0e20\u0e32\u0e29\u0e32\u200b\u0e44\u0e17\u0e22')"`` (Thai, whose
    words a zero-width space breaks) or an Arabic label holding an RLM was refused ('holds a
    zero width space at character 5, U+200B: give printable text on one line')."""
    from taco.cli import build_parser

    words = [*before, text, "-o", "out"]
    args = build_parser(words).parse_args(words)
    value = getattr(args, before[-1].lstrip("-"))
    assert value == ([text] if before[-1] == "--label" else text)


@pytest.mark.parametrize("text", [SCRIPTS["Thai ZWSP"], SCRIPTS["Arabic RLM"], SCRIPTS["word joiner"]])
def test_a_library_label_of_any_script_is_taken(tmp_path, text):
    """EvalConfig's label passes its check: the run goes on to the (empty) folder."""
    (tmp_path / "empty").mkdir()
    cfg = EvalConfig(datasets=[str(tmp_path / "empty")], models=["elic-tiny"], label=text, output=tmp_path / "out")
    with pytest.raises(TacoError) as raised:
        run_evaluation(cfg)
    assert "no images" in str(raised.value) and "--label" not in str(raised.value)


def test_a_new_run_plots_beside_an_older_result_of_an_arabic_label(taco_main, folder_factory, tmp_path, capsys):
    """A result an earlier taco wrote with ``--label`` Arabic text holding an RLM made every new
    ``taco evaluate`` into its folder code everything and then stop at the plot ('not a taco
    evaluation result (its label has a right-to-left mark at character 12, U+200F)', exit 2),
    leaving rd.png and the BD table stale. It is read, and in the table under its label."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    args = ["evaluate", str(folder), "--classic", "jpeg", "--qualities", "jpeg=50,80", "--crop", "0",
            "--fid", "off", "--cmmd-clip", "off", "--bootstrap", "0", "--quiet", "-o", str(tmp_path / "ev")]
    assert taco_main(args) == 0
    results = tmp_path / "ev" / "photos"
    jpeg = json.loads((results / "jpeg.json").read_text(encoding="utf-8"))
    label = SCRIPTS["Arabic RLM"]
    older = {**{k: jpeg[k] for k in ("format", "version", "complete", "dataset", "lpips_input")},
             "kind": "learned", "label": label, "codec": "taco", "model": None,
             "points": [{**p, "setting": "", "bpp": p["bpp"] * 0.9} for p in jpeg["points"]]}
    (results / "older.json").write_text(json.dumps(older, ensure_ascii=False), encoding="utf-8")
    (results / "rd.png").unlink()
    capsys.readouterr()
    assert taco_main(args) == 0
    out = capsys.readouterr().out
    assert any(line.startswith(f"| {label} | ") for line in out.splitlines()), out
    assert f"| {label} | " in (results / "rd.bdrate.md").read_text(encoding="utf-8")
    assert (results / "rd.png").is_file()


def test_a_library_label_with_a_control_character_is_refused(tmp_path):
    """EvalConfig's label would be the results' label, printed in summary lines and tables."""
    cfg = EvalConfig(datasets=[str(tmp_path)], models=["elic-tiny"], label="a\x1b[2Jb",
                     output=tmp_path / "out")
    with pytest.raises(EvaluationError, match=r"^--label 'a\\x1b\[2Jb' has a control character at "
                                              r"character 2, U\+001B: give printable text on one line$"):
        run_evaluation(cfg)


def test_the_summary_shows_a_results_text_on_its_line(tmp_path, capsys):
    """A summary line is one line whatever a result's dataset name, setting or model id holds."""
    path = tmp_path / "jpeg.json"
    path.write_text(json.dumps({
        "format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
        "dataset": {"name": "ph\x1b]0;pwned\x07otos", "kind": "folder", "images": 2},
        "points": [{"setting": "q50\nFORGED", "images": 2, "bpp": 0.5, "psnr": 30.0}]}))
    print_summary([path])
    out = capsys.readouterr().out
    assert out.splitlines() == ["JPEG q50\\nFORGED on ph\\x1b]0;pwned\\x07otos (2 images): bpp 0.5000, "
                                "psnr 30.0000", "wrote:", f"  {path}"]


def test_written_and_incomplete_files_are_named_as_shown(taco_main, folder_factory, tmp_path, capsys):
    """``-o "$(printf 'eo\\e]0;pwned\\a')"`` and an unreadable image of such a name: the
    ``wrote:`` and ``incomplete:`` lines show their control characters escaped."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    broken = folder / "b\x1b]0;x\x07d.png"
    broken.write_bytes(b"not an image")
    out = tmp_path / "o\x1b]0;pwned\x07ut"
    args = ["evaluate", str(folder), "--classic", "jpeg", "--qualities", "jpeg=50", "--crop", "0",
            "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--bootstrap", "0", "--quiet",
            "-o", str(out)]
    assert taco_main(args) == 3
    captured = capsys.readouterr()
    shown = f"{tmp_path}/o\\x1b]0;pwned\\x07ut/photos/jpeg.json"
    assert captured.out.splitlines()[-2:] == ["wrote:", f"  {shown}"]
    assert (f"taco evaluate: incomplete: {shown} lacks 1 per-image result (unreadable: b\\x1b]0;x\\x07d.png)"
            in captured.err)
    assert "\x1b" not in captured.out + captured.err
