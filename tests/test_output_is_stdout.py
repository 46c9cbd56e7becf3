"""An output path that is standard output (``-o /dev/stdout``, ``-o /dev/fd/1``, ``--json
/dev/stdout``) is written as ``-o -`` writes it: the data alone on standard output, the report
lines on stderr (they followed the data there: a .taco whose checksum failed, lines after a PNG's
IEND, a JSON with extra data), and on a regular file (``> f.png``) too
(:func:`taco.cli.files.is_stdout`)."""

from __future__ import annotations

import json
import os
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


def _run(*command: str, stdout: object = subprocess.PIPE, cwd: Path | None = None,
         close_stdout: bool = False) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                          timeout=300, cwd=cwd, preexec_fn=(lambda: os.close(1)) if close_stdout else None,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})


def taco(*args: str, stdout: object = subprocess.PIPE, close_stdout: bool = False,
         ) -> subprocess.CompletedProcess[bytes]:
    """``python -m taco ARGS``, standard output a pipe unless ``stdout`` says otherwise, or
    closed (``>&-``: ``close_stdout``)."""
    return _run(sys.executable, "-m", "taco", *args, stdout=stdout, close_stdout=close_stdout)


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("to_stdout") / "cat.taco"
    assert main(["compress", str(CHELSEA), *CODE, "--quiet", "-o", str(path)]) == 0
    return path


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1"])
def test_compress_to_a_name_of_a_piped_stdout_writes_the_taco_alone(name):
    r = taco("compress", str(CHELSEA), *CODE, "-o", name, "-f")
    assert r.returncode == 0, r.stderr
    assert b"bpp" not in r.stdout
    assert unpack(r.stdout).header.width == 451  # the checksum holds: not one byte more
    assert "compressed 1 image" in r.stderr.decode()


def test_compress_to_dev_stdout_needs_no_force_as_dash_needs_none():
    r = taco("compress", str(CHELSEA), *CODE, "-o", "/dev/stdout")
    assert r.returncode == 0, r.stderr
    assert unpack(r.stdout).header.width == 451


def test_decompress_to_dev_stdout_writes_the_png_alone(coded):
    r = taco("decompress", str(coded), "-o", "/dev/stdout", "-f")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(PNG_END), r.stdout[-120:]
    assert "decompressed 1 file" in r.stderr.decode()


def test_decompress_to_dev_stdout_redirected_to_a_file_writes_it(coded, tmp_path):
    """``-o /dev/stdout -f > f.png``: it was refused, with advice (``or stdout/ for a folder``)
    that did not fit."""
    png = tmp_path / "f.png"
    with png.open("wb") as f:
        r = taco("decompress", str(coded), "-o", "/dev/stdout", "-f", stdout=f)
    assert r.returncode == 0, r.stderr
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and data.endswith(PNG_END)


def test_compress_to_dev_stdout_redirected_to_a_file_writes_it(tmp_path):
    out = tmp_path / "g.taco"
    with out.open("wb") as f:
        r = taco("compress", str(CHELSEA), *CODE, "-o", "/dev/stdout", stdout=f)
    assert r.returncode == 0, r.stderr
    assert unpack(out.read_bytes()).header.width == 451


def test_dev_null_with_stdout_dev_null_is_written_as_a_device(coded):
    """``-o /dev/null >/dev/null`` (timing the decoder) is no ``-o -``: the report stays on
    stdout (gone with it), nothing on stderr."""
    r = taco("decompress", str(coded), "-o", "/dev/null", "-f", stdout=subprocess.DEVNULL)
    assert r.returncode == 0 and "decompressed" not in r.stderr.decode()


@pytest.mark.parametrize(("args", "refused"), [
    (["compress", str(CHELSEA), *CODE, "-o", "/dev/stdout"], ""),
    (["compress", str(CHELSEA), *CODE, "-o", "/dev/stdout", "-f"], ""),
    (["decompress", "{coded}", "-o", "/dev/fd/1", "-f"], ""),
    (["bench", "--quick", "--json", "/dev/stdout", "-f"], "--json /dev/stdout: "),
])
def test_a_name_of_a_closed_stdout_is_refused_as_closed(args, refused, coded):
    """``-o /dev/stdout >&-``: a closed standard output is the null device in taco (its
    descriptor is pointed there), and /dev/stdout was taken for /dev/null: 'exists; pass
    --force', and with -f exit 0 and the data gone (bench's JSON too)."""
    r = taco(*[a.format(coded=coded) for a in args], stdout=None, close_stdout=True)
    err = [line for line in r.stderr.decode().splitlines() if ": note: " not in line]
    assert r.returncode == 2
    assert err == [f"taco {args[0]}: error: {refused}standard output is closed: redirect it (> FILE, | ...) "
                   f"or give {'--json' if args[0] == 'bench' else '-o'} FILE"]


def test_dev_null_with_stdout_closed_is_still_the_null_device():
    """``-o /dev/null -f >&-`` names the null device itself: written there, as asked."""
    r = taco("compress", str(CHELSEA), *CODE, "-o", "/dev/null", "-f", stdout=None, close_stdout=True)
    assert r.returncode == 0, r.stderr


def test_import_captions_to_dev_stdout_writes_the_jsonl_alone(tmp_path):
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({"a.png": ["a cat", "a dog"], "b.png": ["a bird"]}))
    r = taco("import-captions", str(caps), "-o", "/dev/stdout", "-f")
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [rec["image"] for rec in records] == ["a.png", "b.png"]
    assert "/dev/stdout: 2 images, 3 captions" in r.stderr.decode()


def test_import_captions_to_dev_stdout_appended_to_a_file_keeps_it(tmp_path):
    """``-o /dev/stdout -f >> log.txt``: the atomic write followed /dev/stdout to log.txt and
    renamed a new file over it (a new inode, its earlier lines gone); the JSONL is appended now,
    as ``-o -`` writes, the report line on stderr."""
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps({"a.png": ["a cat"], "b.png": ["a bird"]}))
    log = tmp_path / "log.txt"
    log.write_text("an earlier line\n")
    inode = log.stat().st_ino
    with log.open("ab") as f:
        r = taco("import-captions", str(caps), "-o", "/dev/stdout", "-f", stdout=f)
    assert r.returncode == 0, r.stderr
    assert log.stat().st_ino == inode
    first, *rest = log.read_text().splitlines()
    assert first == "an earlier line"
    assert [json.loads(line)["image"] for line in rest] == ["a.png", "b.png"]
    assert "/dev/stdout: 2 images, 2 captions" in r.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["caps.json", "log.txt"]  # no temporary left


_BENCH = """
import sys
from taco import cli
from taco.bench import latency
latency.run_bench = lambda *a, **k: {"results": []}
import taco.bench.report
taco.bench.report.format_table = lambda result: "the table"
sys.exit(cli.main(["bench", "--quick", "--device", "cpu", "--json", sys.argv[1], "-f"]))
"""


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1"])
def test_bench_json_to_a_name_of_a_piped_stdout_writes_the_json_alone(name):
    r = _run(sys.executable, "-c", _BENCH, name)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"results": []}  # no table after it
    assert "the table" in r.stderr.decode() and "wrote" not in r.stderr.decode()


def test_bench_json_to_dev_stdout_redirected_to_a_file_writes_it(tmp_path):
    out = tmp_path / "r.json"
    with out.open("wb") as f:
        r = _run(sys.executable, "-c", _BENCH, "/dev/stdout", stdout=f)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text()) == {"results": []}


def test_is_stdout_tells_names_of_stdout_from_other_files(tmp_path):
    probe = ("import sys\nfrom taco.cli.files import STDOUT, is_stdout\n"
             "print([is_stdout(p) for p in (STDOUT, *sys.argv[1:])], file=sys.stderr)")
    other = tmp_path / "other.txt"
    other.write_text("")
    r = _run(sys.executable, "-c", probe, "/dev/stdout", "/dev/fd/1", "/dev/null", str(other),
             str(tmp_path / "missing"), "-")
    assert r.stderr.decode().strip() == "[True, True, True, False, False, False, False]"
    out = tmp_path / "out.txt"
    with out.open("wb") as f:  # stdout a regular file: its own name is a file like any
        r = _run(sys.executable, "-c", probe, "/dev/stdout", str(out), cwd=tmp_path, stdout=f)
    assert r.stderr.decode().strip() == "[True, True, False]"


def test_is_stdout_of_a_name_no_file_can_have_is_false():
    """A name holding a null byte (no file's) is not standard output: False, not ValueError."""
    from taco.cli.files import is_stdout

    assert is_stdout("out\x00.taco") is False
