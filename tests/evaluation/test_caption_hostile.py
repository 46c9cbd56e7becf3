"""``taco caption`` on captions files and folders a person (or an accident) made: a last line
without a newline, a half-written line, an over-long line, a wrong folder, unreadable images."""

from __future__ import annotations

import json

import pytest

import taco.cli
from taco.captions_file import (
    CAPTIONS_LINE_MAX_CHARS,
    CaptionsFileError,
    is_caption_line,
    read_caption_records,
)
from taco.errors import TacoWarning
from taco.evaluation import caption
from taco.evaluation.caption import caption_folder, plan_captions

HUMAN = '{"image": "skimage-astronaut.png", "captions": ["my own caption"]}'


@pytest.fixture
def taco_main(stub_captioner, monkeypatch):
    """``taco.cli.main`` with the evaluation commands and a stub captioner."""
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.setattr(caption, "Captioner", stub_captioner)
    return taco.cli.main


def test_a_last_line_without_newline_is_kept(stub_captioner, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    path = folder / "captions.jsonl"
    path.write_text(HUMAN, encoding="utf-8")  # printf, Python, Windows tools: no final newline
    report = caption_folder(folder, stub_captioner(), progress=False)
    assert report.already == 1 and report.written == 3
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HUMAN + "\n") and text.endswith("\n")
    records = {r.file: r.captions for r in read_caption_records(path)}
    assert records["skimage-astronaut.png"] == ("my own caption",) and len(records) == 4


def test_lines_ended_by_bare_carriage_returns_stay_separate(stub_captioner, folder_factory, tmp_path):
    """The readers end a line at "\r" too (universal newlines): a file of "\r"-ended lines whose
    last has no ending got the first new line glued to that last one (a file no reader took)."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    path = folder / "captions.jsonl"
    other = '{"image": "hand.jpg", "captions": ["by hand"]}'
    path.write_bytes(f"{HUMAN}\r{other}".encode())
    report = caption_folder(folder, stub_captioner(), progress=False)
    assert report.already == 1 and report.written == 3
    records = {r.file: r.captions for r in read_caption_records(path)}
    assert records["hand.jpg"] == ("by hand",) and records["skimage-astronaut.png"] == ("my own caption",)
    assert len(records) == 5


def test_a_last_line_without_newline_is_not_touched_when_nothing_is_written(stub_captioner, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    path = folder / "captions.jsonl"
    lines = [json.dumps({"image": p.name, "captions": ["hand"]}) for p in sorted(folder.glob("*.png"))]
    path.write_text("\n".join(lines), encoding="utf-8")
    before = path.read_bytes()
    report = caption_folder(folder, stub_captioner(), progress=False)
    assert report.written == 0 and report.already == 4 and path.read_bytes() == before


@pytest.mark.parametrize("unfinished", ['{"image": "skimage-chelsea.png", "capt', '{"ima',
                                        '{"image": "caf\xc3'])
def test_a_half_written_line_of_an_interrupted_run_is_cut_with_a_warning(stub_captioner, folder_factory, tmp_path, unfinished):
    folder = folder_factory(tmp_path / "photos", captions=False)
    path = folder / "captions.jsonl"
    path.write_bytes((HUMAN + "\n" + unfinished).encode("latin-1"))  # the last: cut inside a UTF-8 character
    with pytest.warns(TacoWarning, match="captions.jsonl: cut off its unfinished last line"):
        report = caption_folder(folder, stub_captioner(), progress=False)
    assert report.already == 1 and report.written == 3
    records = read_caption_records(path)
    assert [r.file for r in records][0] == "skimage-astronaut.png" and len(records) == 4


def test_a_malformed_hand_written_last_line_is_refused_not_cut(stub_captioner, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    path = folder / "captions.jsonl"
    path.write_text(HUMAN + '\n{"image": "skimage-chelsea.png" "captions": ["a cat"]}', encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(CaptionsFileError, match="captions.jsonl:2: expected"):
        caption_folder(folder, stub_captioner(), progress=False)
    assert path.read_bytes() == before


@pytest.mark.parametrize("chars", [CAPTIONS_LINE_MAX_CHARS + 10, 4 * CAPTIONS_LINE_MAX_CHARS + 10])
@pytest.mark.parametrize("end", ['"]}', ""])  # the second: never finished, yet no run of ours writes it
def test_an_over_long_last_line_is_refused_not_cut(folder_factory, tmp_path, chars, end):
    folder = folder_factory(tmp_path / "photos", captions=False)
    path = folder / "captions.jsonl"
    path.write_text(HUMAN + '\n{"image": "skimage-chelsea.png", "captions": ["' + "a" * chars + end,
                    encoding="utf-8")
    size = path.stat().st_size
    with pytest.raises(CaptionsFileError, match="captions.jsonl:2: the line has over"):
        plan_captions(folder)
    assert path.stat().st_size == size


def test_is_caption_line():
    assert is_caption_line(HUMAN) and is_caption_line(HUMAN + "\n") and is_caption_line("  ")
    assert not is_caption_line(HUMAN[:-1]) and not is_caption_line('{"images": "x.png"}')
    assert not is_caption_line('{"image": "x.png", "captions": ["\udcff"]}')  # a byte not UTF-8
    assert not is_caption_line('{"image": "x.png", "captions": ["' + "a" * CAPTIONS_LINE_MAX_CHARS + '"]}')


def test_the_folder_and_its_file_are_checked_before_the_captioner_loads(taco_main, monkeypatch,
                                                                       folder_factory, tmp_path, capsys):
    def no_captioner(*args, **kwargs):
        pytest.fail("the captioner was loaded before the folder was checked")

    monkeypatch.setattr(caption, "Captioner", no_captioner)
    folder = folder_factory(tmp_path / "photos", captions=False)
    (folder / "captions.jsonl").write_text('{"images": "x.png"}\n', encoding="utf-8")
    for target, why in ((tmp_path / "nope", "no such folder"), (folder / "skimage-chelsea.png", "not a folder"),
                        (folder, "captions.jsonl:1: expected")):
        assert taco_main(["caption", str(target), "--quiet"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and why in err[0], err


def test_every_image_unreadable_is_an_error_and_writes_nothing(stub_captioner, taco_main, tmp_path, capsys):
    for name in ("a.png", "b.jpg"):
        (tmp_path / name).write_bytes(b"not an image")
    assert caption_folder(tmp_path, stub_captioner(), progress=False).written == 0
    assert not (tmp_path / "captions.jsonl").exists()
    assert taco_main(["caption", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of the 2 images to caption could be read" in err[0], err
    assert not (tmp_path / "captions.jsonl").exists()


def test_some_images_unreadable_are_skipped(taco_main, folder_factory, tmp_path, capsys):
    folder = folder_factory(tmp_path / "photos", captions=False)
    (folder / "bad.png").write_bytes(b"not an image")
    assert taco_main(["caption", str(folder), "--quiet"]) == 3  # done in part (README "Exit status")
    out, err = capsys.readouterr()
    assert "skipped bad.png" in err and "4 images captioned" in out


class _BlankForOne:
    """A captioner that gives the first image it ever sees an empty caption, every other one."""

    name = "blank-for-one"
    blanks_left = 1

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, images: list) -> list[str]:
        captions = ["" if i < _BlankForOne.blanks_left else "a caption" for i in range(len(images))]
        _BlankForOne.blanks_left = 0
        return captions


def test_an_image_left_uncaptioned_is_status_3_and_a_rerun_does_it(folder_factory, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.setattr(caption, "Captioner", _BlankForOne)
    monkeypatch.setattr(_BlankForOne, "blanks_left", 1)
    folder = folder_factory(tmp_path / "photos", captions=False)
    assert taco.cli.main(["caption", str(folder), "--quiet"]) == 3
    out, err = capsys.readouterr()
    assert "3 images captioned" in out and "gave an empty caption; not written" in err
    assert taco.cli.main(["caption", str(folder), "--quiet"]) == 0  # the rerun captions the last one
    assert "1 image captioned" in capsys.readouterr().out
