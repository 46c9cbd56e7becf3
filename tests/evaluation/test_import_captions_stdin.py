"""taco import-captions -: standard input is not read as FILE.json; the refusal says so in the
words of the other commands (it said "-: cannot read (No such file or directory)"), and
/dev/stdin is read. A missing ./- is a file not there, not standard input (Review CL #4: it was
refused as `-`, Path("./-") being "-")."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from taco.cli.files import refuse_stdin
from taco.errors import TacoError
from taco.evaluation.import_captions import CaptionImportError, read_caption_json
from taco.messages import stdin_refused

OFA = {"kodim01.png": "a brick building with red doors and windows"}


DASH_REFUSED = ("-: taco import-captions does not read standard input: name a file (./- for a "
                "file named -)")
DOT_DASH_MISSING = "./-: cannot read (No such file or directory)"


@pytest.mark.parametrize("where", ["file", "--images"])
@pytest.mark.parametrize(("name", "error"), [("-", DASH_REFUSED), ("./-", DOT_DASH_MISSING)])
def test_dash_is_refused_and_a_missing_dot_slash_dash_is_a_missing_file(
        eval_main, tmp_path, monkeypatch, capsys, where, name, error):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ofa.json").write_text(json.dumps(OFA))
    argv = [name, "-o", "ic.jsonl"] if where == "file" else ["ofa.json", "--images", name, "-o", "ic.jsonl"]
    assert eval_main(["import-captions", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == f"taco import-captions: error: {error}"
    assert not (tmp_path / "ic.jsonl").exists()


def test_a_file_named_dash_is_read(eval_main, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_text(json.dumps(OFA))
    assert eval_main(["import-captions", "-", "-o", "ic.jsonl"]) == 0
    assert json.loads((tmp_path / "ic.jsonl").read_text())["image"] == "kodim01.png"


@pytest.mark.skipif(not os.path.exists("/dev/stdin"), reason="no /dev/stdin here")
def test_dev_stdin_is_read(tmp_path):
    src = tmp_path / "auth.json"
    src.write_text(json.dumps(OFA))
    with open(src, "rb") as stdin:
        run = subprocess.run([sys.executable, "-m", "taco", "import-captions", "/dev/stdin", "-o", "ic.jsonl"],
                             stdin=stdin, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "ic.jsonl").read_text())["captions"] == [OFA["kodim01.png"]]


WORDS = "-: taco plot does not read standard input: name a file (./- for a file named -)"


def test_the_refusal_of_dash_is_worded_in_one_place(tmp_path, monkeypatch):
    assert stdin_refused("plot") == WORDS
    with pytest.raises(TacoError) as cli:
        refuse_stdin(["-"], "plot")
    assert str(cli.value) == WORDS
    monkeypatch.chdir(tmp_path)  # no file named - here
    with pytest.raises(CaptionImportError) as lib:
        read_caption_json("-")
    assert str(lib.value) == stdin_refused("import-captions")
