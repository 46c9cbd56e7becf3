"""An ``-o`` that is no name of a file or folder: standard output by another name
(``/dev/stdout``), a device or pipe (``/dev/null``, a named pipe), a name under /dev or /proc.
The commands that write files by their names refuse them as they refuse ``-o -``: taco plot -o
/dev/null wrote /dev/null.png, /dev/null.svg, ... (as root, regular files inside /dev), taco
caption -o /dev/stdout said "remove the link", import-checkpoint -o /dev/stdout "name it
stdout.safetensors". taco compress and decompress write into a device or pipe (``-o /dev/null
-f``, ``-o >(...)``) and refuse any other name under /dev or /proc (``-o /dev/stdin < f`` was told
"name it stdin.taco") (:func:`taco.cli.files.unfit_output`).

``-o -`` itself is standard output to taco compress and decompress; taco plot wrote ./-.png,
./-.svg, ..., and taco evaluate, taco demo and taco train made a folder ./-/, taco caption a file
FOLDER/- (review A): the same commands refuse it in one line, exit 2, before any work, as taco
import-captions does; ``./-`` still names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taco.cli import main
from taco.cli.files import system_name, unfit_output
from taco.samples import SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[1]
CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"
SYSTEM = "into /dev or /proc (the system's devices and processes)"

#: The commands that write files or a folder by name: their arguments but -o, what they write,
#: the -o their refusal offers.
NAMED = [
    (["plot", "r.json"], "plot writes files (-o NAME: NAME.png, NAME.svg, ...)", "rd"),
    (["evaluate", "kodak", "-m", "elic-tiny"], "evaluate writes a folder of results", "runs/eval"),
    (["demo", "-m", "elic-tiny"], "demo writes a folder of files", "taco-demo"),
    (["train", "--max-steps", "1"], "train writes a run folder", "runs/my-run"),
    (["caption", "."], "caption writes a captions file inside FOLDER", "captions.jsonl"),
    (["import-checkpoint", "ck.pth.tar"], "import-checkpoint writes a .safetensors checkpoint",
     "model.safetensors"),
]


def _refused(argv: list[str], output: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main([*argv, "-o", output]) == 2
    return capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(("argv", "words", "example"), NAMED)
def test_dash_output_is_refused(argv, words, example, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "-o", "-"]) == 2
    err = capsys.readouterr().err
    dash = "./-.safetensors" if argv[0] == "import-checkpoint" else "./-"  # what it then takes
    assert err.splitlines() == [f"taco {argv[0]}: error: -: {words}, not standard output: name it "
                                f"(e.g. -o {example}; -o {dash} for the name -)"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "words", "example"), NAMED)
def test_standard_output_by_another_name_is_refused(argv, words, example, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert _refused(argv, "/dev/stdout", capsys) == [
        f"taco {argv[0]}: error: /dev/stdout: {words}, not standard output: name it (e.g. -o {example})"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
@pytest.mark.parametrize(("argv", "words", "example"), NAMED)
def test_a_device_or_pipe_is_refused(argv, words, example, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    for output in ("/dev/null", "pipe"):
        assert _refused(argv, output, capsys) == [
            f"taco {argv[0]}: error: {output}: {words}, not into a device or pipe: name it (e.g. -o {example})"]
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


#: Names under /dev and /proc that nothing can be made at, not even by root (a command that took
#: them made nothing there): /dev/null/x is as much a name under /dev as /dev/x.png.
UNDER = ["/dev/null/taco-test", "/proc/taco-test/"]


@pytest.mark.parametrize("output", UNDER)
@pytest.mark.parametrize(("argv", "words", "example"), NAMED)
def test_a_name_under_dev_or_proc_is_refused(argv, words, example, output, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert _refused(argv, output, capsys) == [
        f"taco {argv[0]}: error: {output}: {words}, not {SYSTEM}: name it (e.g. -o {example})"]


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_compress_and_decompress_refuse_a_name_under_dev_that_is_no_device(command, tmp_path):
    """``-o /dev/stdin -f < f``: standard input a regular file, which /dev/stdin names; compress
    said "name it stdin.taco", decompress "cannot write an image to a name without a suffix"."""
    source = tmp_path / "in"
    source.write_bytes(b"not read")
    args = [str(CHELSEA), "--caption", "", "-m", "elic-tiny"] if command == "compress" else [str(tmp_path / "x.taco")]
    if command == "decompress":
        assert main(["compress", *[str(CHELSEA), "--caption", "", "-m", "elic-tiny"], "--quiet",
                     "-o", args[0]]) == 0
    with source.open("rb") as stdin:
        r = subprocess.run([sys.executable, "-m", "taco", command, *args, "-o", "/dev/stdin", "-f"],
                           stdin=stdin, capture_output=True, timeout=300,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    err = [line for line in r.stderr.decode().splitlines() if ": note: " not in line]
    assert r.returncode == 2
    assert err == [f"taco {command}: error: /dev/stdin: {command} writes files, not {SYSTEM}: give another -o"]
    assert source.read_bytes() == b"not read"


@pytest.mark.parametrize("output", ["/dev/null/x.taco", *UNDER, "/dev/null/out/"])
def test_compress_refuses_a_new_name_under_dev_or_proc_before_any_work(output, capsys):
    """``-o /dev/x.taco`` made a file inside /dev (as root), ``-o /dev/x/`` a folder there."""
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", output]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"taco compress: error: {output.rstrip('/')}: compress writes files, not {SYSTEM}: give another -o"]


def test_devices_and_pipes_are_kept_for_compress_and_decompress(tmp_path):
    """``-o /dev/null -f`` (timing) and a named pipe (``-o >(...)``) are written into by the
    codec commands; the same name is no folder of files for the others."""
    pipe = tmp_path / "pipe"
    if hasattr(os, "mkfifo"):
        os.mkfifo(pipe)
        assert unfit_output(pipe, devices=False) is None
        assert unfit_output(pipe) == "into a device or pipe"
    assert unfit_output("/dev/null", devices=False) is None
    assert unfit_output(tmp_path / "x.taco") is None and unfit_output(tmp_path) is None


def test_system_name_is_dev_and_proc_but_a_ram_disk_mounted_there():
    assert system_name("/dev/null.png") and system_name("/dev") and system_name("/dev/")
    assert system_name("/proc/x/y.safetensors") and system_name("/dev/fd/5")
    assert not system_name("/devices/x.png") and not system_name("/tmp/x.png")
    if os.path.isdir("/dev/shm") and os.stat("/dev/shm").st_dev != os.stat("/dev").st_dev:
        assert not system_name("/dev/shm/run1/") and not system_name("/dev/shm")
