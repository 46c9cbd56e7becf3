"""taco import-captions -o DIR: a folder not made yet (docs/evaluation.md's ``-o /data/kodak``)
is created and gets DIR/captions.jsonl, as ``taco compress -o x/`` takes a folder; a name with a
.jsonl/.json suffix stays a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ofa(tmp_path):
    src = tmp_path / "kodak_ofa.json"
    src.write_text(json.dumps({"kodim01.png": "a brick building with red doors"}))
    return src


@pytest.mark.parametrize("given", ["kd2/", "kd2", "deep/er/kd2", "deep/er/kd2/"])
def test_a_new_folder_gets_captions_jsonl(taco_main, ofa, tmp_path, capsys, given):
    out = tmp_path / given
    assert taco_main(["import-captions", str(ofa), "--captioner", "OFA",
                      "-o", str(out) + ("/" if given.endswith("/") else "")]) == 0
    assert out.is_dir()
    line = json.loads((out / "captions.jsonl").read_text())
    assert line["image"] == "kodim01.png" and line["captioner"] == "OFA"
    assert "captions.jsonl: 1 image, 1 caption" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["new.jsonl", "new.json"])
def test_a_captions_suffix_stays_a_file(taco_main, ofa, tmp_path, name):
    assert taco_main(["import-captions", str(ofa), "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / name).is_file()


def test_an_existing_file_without_suffix_is_a_file(taco_main, ofa, tmp_path, capsys):
    out = tmp_path / "kd3"
    out.write_text("keep me\n")
    assert taco_main(["import-captions", str(ofa), "-o", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_text() == "keep me\n"
    assert taco_main(["import-captions", str(ofa), "-o", str(out) + "/"]) == 2
    err = capsys.readouterr().err
    assert "exists and is not a folder" in err and len(err.strip().splitlines()) == 1
    assert out.read_text() == "keep me\n"


def test_a_refused_input_creates_no_folder(taco_main, tmp_path, capsys):
    bad = tmp_path / "broken.json"
    bad.write_text('{"a.png": "x",')
    assert taco_main(["import-captions", str(bad), "-o", str(tmp_path / "kd4")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "kd4").exists()


@pytest.mark.parametrize(("given", "advice"), [("-", "-: import-captions writes a captions file, not standard output: "
                                                      "name it (e.g. -o captions.jsonl; -o ./-/ for the name -)"),
                                                ("./-", "name it captions.jsonl, or captions/ for a folder"),
                                                ("captions.txt", "name it captions.jsonl, or captions/"),
                                                ("kodak.v2", "name it kodak.jsonl, or kodak/")])
def test_another_suffix_or_a_dash_is_refused_not_a_folder(taco_main, ofa, tmp_path, monkeypatch,
                                                         capsys, given, advice):
    """``-o -`` made a folder named '-' and ``-o captions.txt`` a folder captions.txt/: every other
    command reads '-' as standard output, and a suffix says a file was meant."""
    monkeypatch.chdir(tmp_path)
    assert taco_main(["import-captions", str(ofa), "-o", given]) == 2
    err = capsys.readouterr().err
    assert advice in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / given).exists()


def test_a_dash_folder_is_named_as_the_refusal_of_a_dash_says(taco_main, ofa, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert taco_main(["import-captions", str(ofa), "-o", "./-/"]) == 0
    assert (tmp_path / "-" / "captions.jsonl").is_file()


@pytest.mark.parametrize("given", ["/proc/taco-test.jsonl", "/dev/null/taco-test.jsonl", "/proc/taco-test/"])
def test_a_name_under_dev_or_proc_is_refused(taco_main, ofa, capsys, given):
    """As root, -o /dev/x.jsonl wrote a regular file inside /dev; a device or pipe (-o /dev/null -f)
    and standard output by name (-o /dev/stdout -f) are still written into."""
    assert taco_main(["import-captions", str(ofa), "-o", given, "-f"]) == 2
    err = capsys.readouterr().err
    assert err == (f"taco import-captions: error: {given}: import-captions writes files, not into /dev or /proc "
                   "(the system's devices and processes): give another -o\n")


def test_the_null_device_is_still_written_into(taco_main, ofa, capsys):
    assert taco_main(["import-captions", str(ofa), "-o", "/dev/null", "-f"]) == 0
    assert capsys.readouterr().out.startswith("/dev/null: ")


def _to_dev_stdout(ofa: Path, **streams: Any) -> subprocess.CompletedProcess[bytes]:
    """``python -m taco import-captions OFA -o /dev/stdout -f`` with the ``streams`` given."""
    return subprocess.run([sys.executable, "-m", "taco", "import-captions", str(ofa), "-o", "/dev/stdout", "-f"],
                          stdin=subprocess.DEVNULL, timeout=300, **streams,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_dev_stdout_closed_is_refused_not_written_into_the_null_device(ofa):
    """``-o /dev/stdout -f >&-`` exited 0, the captions gone: taco points a closed descriptor 1 at
    the null device."""
    r = _to_dev_stdout(ofa, stdout=None, stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
    assert r.returncode == 2
    assert r.stderr.decode() == ("taco import-captions: error: standard output is closed: redirect it "
                                 "(> FILE, | ...) or give -o FILE\n")


@pytest.mark.parametrize("into", ["file", "pipe"])
def test_dev_stdout_shared_with_stderr_is_refused(ofa, tmp_path, into):
    """``-o /dev/stdout -f > caps.jsonl 2>&1`` wrote the report line into the JSONL (exit 0); a pipe
    both go to (``2>&1 | cat``) the same. Refused: the one error line is all there is."""
    if into == "file":
        with (tmp_path / "caps.jsonl").open("wb") as out:
            r = _to_dev_stdout(ofa, stdout=out, stderr=subprocess.STDOUT)
        written = (tmp_path / "caps.jsonl").read_bytes()
    else:
        r = _to_dev_stdout(ofa, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        written = r.stdout
    assert r.returncode == 2
    assert written.decode() == ("taco import-captions: error: standard error goes where standard output does "
                                "(2>&1), so its report lines would be written into the data: send it elsewhere "
                                "(2>FILE, 2>/dev/null)\n")
