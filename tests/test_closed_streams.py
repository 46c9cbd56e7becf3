"""A hostile environment's standard streams: closed (``2>&-``, ``>&-``, ``<&-``), unable to
encode a file's name (``PYTHONIOENCODING=ascii``), full (``> /dev/full``), limited
(``ulimit -f``), and a working folder that was deleted.

Each case runs ``python -m taco`` in a child process, its descriptors closed there
(``stderr=subprocess.DEVNULL`` is a stream, not a closed one). Python makes a stream closed at
start-up None, and ``print(file=None)`` writes to stdout: with stderr closed, the report lines
went into the data of ``-o -`` (exit 0, a .taco file with a checksum mismatch).
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from taco.bitstream import unpack
from taco.cli import main
from taco.samples import SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[1]
CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"
CODE = ["--caption", "", "-m", "elic-tiny"]
PNG_END = b"IEND\xaeB`\x82"


def taco(*args: str, close: tuple[int, ...] = (), stdin: object = subprocess.DEVNULL,
         stdout: object = subprocess.PIPE, stderr: object = subprocess.PIPE, file_limit: int | None = None,
         env: dict[str, str] | None = None, cwd: Path | None = None,
         shell_cd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m taco ARGS`` with the descriptors ``close`` closed, files limited to
    ``file_limit`` bytes (ulimit -f); ``shell_cd``: run from that folder after deleting it."""

    def before() -> None:
        for fd in close:
            os.close(fd)
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    command = [sys.executable, "-m", "taco", *args]
    if shell_cd is not None:  # a shell: the child's folder is gone before taco starts
        command = ["sh", "-c", 'cd "$0" && rmdir "$0" && exec "$@"', str(shell_cd), *command]
    return subprocess.run(command, stdin=stdin, stdout=stdout, stderr=stderr,
                          preexec_fn=before, timeout=300, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
                               **(env or {})})


def said(r: subprocess.CompletedProcess[bytes]) -> list[str]:
    """The child's stderr lines but for notes (elic-tiny's untrained weights)."""
    return [line for line in r.stderr.decode().splitlines() if ": note: " not in line]


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("closed") / "cat.taco"
    assert main(["compress", str(CHELSEA), *CODE, "--quiet", "-o", str(path)]) == 0
    return path


def test_closed_stderr_keeps_report_lines_out_of_compressed_data():
    r = taco("compress", str(CHELSEA), *CODE, "-o", "-", close=(2,))
    assert r.returncode == 0
    assert b"compressed" not in r.stdout and b"<stdout>" not in r.stdout
    assert unpack(r.stdout).header.width == 451  # the checksum holds: not one byte more


def test_closed_stderr_keeps_report_lines_out_of_a_decoded_png(coded):
    r = taco("decompress", str(coded), "-o", "-", close=(2,))
    assert r.returncode == 0 and r.stdout.endswith(PNG_END), r.stdout[-120:]


JOINED = ("standard error goes where standard output does (2>&1), so its report lines would be "
          "written into the data: send it elsewhere (2>FILE, 2>/dev/null)")


@pytest.mark.parametrize(("command", "args"), [
    ("compress", [str(CHELSEA), *CODE, "-o", "-"]),
    ("decompress", ["{coded}", "-o", "/dev/stdout"]),
    ("bench", ["--quick", "--json"]),
])
@pytest.mark.parametrize("into", ["file", "pipe"])
def test_stderr_sent_where_the_data_goes_is_refused(command, args, into, coded, tmp_path):
    """``taco compress X -o - > o.taco 2>&1`` wrote its report line into the .taco file (exit 0,
    then a checksum mismatch), decompress's after the PNG's end, bench's log lines ahead of its
    JSON; a pipe both go to (``2>&1 | cat``) is the same. Refused: the file holds that one line."""
    filled = [a.format(coded=coded) for a in args]
    if into == "file":
        with open(tmp_path / "out", "wb") as out:
            r = taco(command, *filled, stdout=out, stderr=subprocess.STDOUT)
        got = (tmp_path / "out").read_bytes()
    else:
        r = taco(command, *filled, stderr=subprocess.STDOUT)
        got = r.stdout
    lines = [line for line in got.decode().splitlines() if ": note: " not in line]
    assert r.returncode == 2
    assert lines == [f"taco {command}: error: {'--json -: ' if command == 'bench' else ''}{JOINED}"]


def test_stdout_and_stderr_both_the_null_device_take_the_data():
    """``-o - >/dev/null 2>&1`` (timing the encoder): nothing there to spoil."""
    r = taco("compress", str(CHELSEA), *CODE, "-o", "-", stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    assert r.returncode == 0


@pytest.mark.parametrize(("args", "close", "message"), [
    (["info", "{coded}"], 1, "taco info: error: standard output is closed, so what it prints "
     "would be lost"),
    (["models"], 1, "taco models: error: standard output is closed"),
    (["bench", "--quick", "--runs", "1", "--warmup", "0", "--batch", "0", "--no-clip-b"], 1,
     "taco bench: error: standard output is closed, so what it prints would be lost"),
    (["decompress", "{coded}", "-o", "-"], 1, "taco decompress: error: standard output is "
     "closed: redirect it"),
    (["decompress", "-", "-o", "{out}"], 0, "taco decompress: error: - reads standard input, "
     "which is closed here"),
    (["info", "-"], 0, "taco info: error: - reads standard input, which is closed here"),
])
def test_a_closed_stdout_or_stdin_is_said_to_be_closed(args, close, message, coded, tmp_path):
    filled = [a.format(coded=coded, out=tmp_path / "x.png") for a in args]
    r = taco(*filled, close=(close,), stdout=None if close == 1 else subprocess.PIPE)
    err = said(r)
    assert r.returncode == 2 and len(err) == 1 and err[0].startswith(message), err
    assert not (tmp_path / "x.png").exists()


def test_closed_stdout_leaves_a_compress_to_files_alone(tmp_path):
    """Its report lines have nowhere to go; the files are its output, and they are written."""
    r = taco("compress", str(CHELSEA), *CODE, "-o", str(tmp_path / "x.taco"), close=(1,),
             stdout=None)
    assert r.returncode == 0 and said(r) == [], r.stderr
    assert unpack((tmp_path / "x.taco").read_bytes()).header.height == 300


@pytest.mark.parametrize("encoding", ["ascii", "utf-8:strict"])
def test_a_stdout_that_cannot_encode_a_name_gets_it_escaped(encoding, tmp_path):
    """``caf\\xe9.png`` (a Latin-1 byte: a surrogate in the name) and ``café.png`` (no é in
    ASCII) raised UnicodeEncodeError at the report line, after the file was written."""
    photos = tmp_path / "lat"
    photos.mkdir()
    data = CHELSEA.read_bytes()
    with open(os.fsencode(photos) + b"/caf\xe9.png", "wb") as f:
        f.write(data)
    (photos / "café.png").write_bytes(data)
    env = {"PYTHONIOENCODING": encoding}
    r = taco("compress", str(photos), *CODE, "-o", str(tmp_path / "out"), env=env)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out = r.stdout.decode("ascii" if encoding == "ascii" else "utf-8")
    assert "compressed 2 images" in out and "caf\\udce9.png -> " in out
    r = taco("info", str(tmp_path / "out"), env=env)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert len(r.stdout.decode().split("\n\n")) == 2 and "out/caf\\udce9.taco" in r.stdout.decode()
    if encoding == "ascii":
        assert "caf\\xe9.taco" in r.stdout.decode()


@pytest.mark.parametrize("command", ["compress", "decompress", "info"])
def test_a_full_stdout_is_named(command, coded):
    source = {"compress": [str(CHELSEA), *CODE, "-o", "-"], "decompress": [str(coded), "-o", "-"],
              "info": [str(coded)]}[command]
    with open("/dev/full", "wb") as full:
        r = taco(command, *source, stdout=full)
    assert r.returncode == 2
    assert said(r) == [f"taco {command}: error: <stdout>: no space left on device"]


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["info", "--help"]])
def test_a_full_stdout_is_named_for_help_and_version(args):
    """argparse swallowed the OSError: ``taco --help >/dev/full`` exited 0, nothing said."""
    with open("/dev/full", "wb") as full:
        r = taco(*args, stdout=full)
    prog = "taco info" if args[0] == "info" else "taco"
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == [f"{prog}: error: <stdout>: no space left on device"]


def test_a_file_size_limit_on_stdout_names_stdout_and_says_how_much_got_through(coded, tmp_path):
    with open(tmp_path / "x.png", "wb") as out:
        r = taco("decompress", str(coded), "-o", "-", stdout=out, file_limit=40 * 1024)
    err = said(r)
    assert r.returncode == 2 and len(err) == 1, err
    assert err[0].startswith(f"taco decompress: error: {coded}: <stdout>: file too large after "
                             "40,960 of "), err
    assert err[0].endswith(" bytes were written: the data is cut short")


def test_a_deleted_working_folder_is_one_line(coded, tmp_path):
    """Importing torch there ended the process with "Intel oneMKL FATAL ERROR"."""
    gone = tmp_path / "gone"
    gone.mkdir()
    r = taco("decompress", str(coded), "-o", str(tmp_path / "x.png"), shell_cd=gone)
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == [
        "taco decompress: error: the current folder no longer exists (it was deleted): cd to "
        "another"]
    assert not (tmp_path / "x.png").exists()


def test_a_full_disk_writing_the_results_csv_names_it(tmp_path, monkeypatch):
    from taco.evaluation import runner

    path = tmp_path / "results.csv"
    writer = runner._CSVWriter(path, ["image", "bpp"])

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(runner.os, "fsync", full)
    with pytest.raises(OSError) as caught:
        writer.append([{"image": "a.png", "bpp": 0.5}])
    assert (caught.value.errno, caught.value.filename) == (errno.ENOSPC, str(path))
