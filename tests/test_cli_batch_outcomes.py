"""How a batch of the codec commands ends when some of its inputs fail (exit status 3, the others
written; 2 when nothing was done), an unreadable sidecar caption as one image's failure, and
outputs written into the inputs' own folder (tiny models, small photos)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from taco.cli import main
from taco.cli.common import CLIError, Failures

CODE = ["-m", "elic-tiny"]


def test_decompress_into_the_inputs_own_folder_keeps_the_original_photos(photos, capsys):
    """`taco decompress DIR -o DIR` named its outputs NAME.png, the original photo beside
    NAME.taco (the refusal's --force then overwrote it): there they are NAME.decoded.png, as
    without -o."""
    for name in ("a.png", "b.png"):
        (photos / name).unlink()
    original = (photos / "c.png").read_bytes()
    assert main(["compress", str(photos), "--caption", "", *CODE, "-o", str(photos)]) == 0
    assert (photos / "c.taco").is_file()
    assert main(["decompress", str(photos), "-o", str(photos)]) == 0
    assert (photos / "c.decoded.png").is_file()
    assert (photos / "c.png").read_bytes() == original
    capsys.readouterr()


def test_a_file_from_elsewhere_decoded_into_an_inputs_folder_keeps_its_photo(photos, tmp_path, capsys):
    """decompress d/c.taco e/c.taco -o d: e/c.taco's output was d/c.png, d/c.taco's original
    photo (and --force replaced it): every output of such a batch is named as beside its input."""
    original = (photos / "c.png").read_bytes()
    assert main(["compress", str(photos / "c.png"), "--caption", "", *CODE]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(photos / "c.taco", elsewhere)
    assert main(["decompress", str(photos / "c.taco"), str(elsewhere / "c.taco"), "-o", str(photos), "-f"]) == 2
    assert "would both be written to" in capsys.readouterr().err  # c.decoded.png, before any work
    assert (photos / "c.png").read_bytes() == original
    assert not (photos / "c.decoded.png").exists()


def test_decompress_into_another_folder_still_names_outputs_by_stem(photos, tmp_path):
    (photos / "b.png").unlink()
    (photos / "c.png").unlink()
    assert main(["compress", str(photos / "a.png"), "--caption", "", *CODE]) == 0
    out = tmp_path / "out"
    assert main(["decompress", str(photos), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]


def test_a_partial_batch_exits_3_and_nothing_done_exits_2(photos, tmp_path, capsys):
    """Some inputs failed, the others written: 3 (told apart from 2, a usage error or nothing
    done), as taco evaluate's incomplete run."""
    assert main(["compress", str(photos), "--caption", "", *CODE, "-o", str(tmp_path / "t")]) == 0
    (tmp_path / "t" / "b.taco").write_bytes(b"not a taco file")
    assert main(["info", str(tmp_path / "t")]) == 3
    assert main(["decompress", str(tmp_path / "t"), "-o", str(tmp_path / "d")]) == 3
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["a.png", "c.png"]
    (tmp_path / "t" / "a.taco").write_bytes(b"not a taco file")
    (tmp_path / "t" / "c.taco").write_bytes(b"not a taco file")
    assert main(["info", str(tmp_path / "t")]) == 2
    assert main(["decompress", str(tmp_path / "t"), "-o", str(tmp_path / "e")]) == 2
    capsys.readouterr()


def test_a_sidecar_that_is_not_utf8_fails_its_image_only(photos, tmp_path, capsys):
    """A cp1252 sidecar stopped the whole batch before any work; now that image is reported
    on one line, naming the sidecar, and skipped."""
    (photos / "b.txt").write_bytes("caf\u00e9 au lait".encode("cp1252"))
    (photos / "c.txt").write_text("a cat")
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 3
    err = capsys.readouterr().err.splitlines()
    assert sorted(p.name for p in out.iterdir()) == ["a.taco", "c.taco"]
    failed = [line for line in err if str(photos / "b.txt") in line]
    assert len(failed) == 1 and failed[0].startswith(f"taco compress: error: {photos / 'b.png'}: ")
    assert err[-1] == f"taco compress: error: 1 of 3 images failed: {photos / 'b.png'}"


def test_a_bad_sidecar_of_the_only_image_is_still_an_error(photos, tmp_path, capsys):
    (photos / "a.txt").write_bytes(b"caf\xe9 caption")  # Latin-1
    assert main(["compress", str(photos / "a.png"), *CODE, "-o", str(tmp_path / "a.taco")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"taco compress: error: {photos / 'a.txt'}: cannot read the caption (not "
                   "readable UTF-8 text)"]


def test_a_shared_captions_file_that_is_not_utf8_still_stops_the_batch(photos, tmp_path, capsys):
    (photos / "captions.jsonl").write_bytes(b'{"image": "a.png", "captions": ["caf\xe9"]}\n')
    out = tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 2
    assert not out.exists() or not any(out.iterdir())
    assert "not UTF-8 text" in capsys.readouterr().err
    shutil.move(photos / "captions.jsonl", tmp_path / "named.jsonl")
    assert main(["compress", str(photos), *CODE, "--captions", str(tmp_path / "named.jsonl"),
                 "-o", str(out)]) == 2
    capsys.readouterr()


def test_captions_from_standard_input_is_refused_in_one_line(photos, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compress", str(photos), *CODE, "--captions", "-", "-o", "out/"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "taco compress: error: --captions -: `-` (standard input) is not read here; use /dev/stdin"]
    # a file named - is read, as import-captions reads one
    (tmp_path / "-").write_text('{"image": "a.png", "caption": "a red cat"}\n', encoding="utf-8")
    assert main(["compress", str(photos / "a.png"), *CODE, "--captions", "-", "-o", "a.taco"]) == 0
    capsys.readouterr()


def test_evaluate_captions_file_from_standard_input_is_refused_in_one_line(photos, capsys):
    assert main(["evaluate", str(photos), "-m", "elic-tiny", "--captions-file", "-", "-o",
                 str(photos.parent / "ev")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "taco evaluate: error: captions file -: `-` (standard input) is not read here; use /dev/stdin")


BATCH = [(i, Path(f"in/{i}.png"), Path(f"out/{i}.taco")) for i in (1, 2, 3, 4)]


def test_a_stop_after_a_failed_input_counts_it_finished(capsys):
    """Input 1 fails alone (skipped), input 2 stops the batch on a full disk: 1 of 4 finished."""
    def do_one(i, src, dst):
        if i == 1:
            raise CLIError("not an image")
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    failures = Failures("compress")
    assert failures.run(BATCH, do_one, total=4, noun="image") == 2
    assert "stopped after 1 of 4 images: " in capsys.readouterr().err
