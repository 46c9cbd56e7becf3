"""A second writer without --force no longer replaces the first one's output (review CONC2):
``taco bench --json FILE`` checked FILE when it started, then replaced it, so two benches at once
both exit 0 and said they wrote FILE, which held one run's measurements. Without --force the
file is now published only if its name is free (``replace=False``, a hard link), as ``taco
compress`` publishes: the one that finds it written meanwhile says so and exits 2. Real races
are flaky: the file is made between the check and the publish (inside the stand-in bench).
Also :func:`taco.atomic.write_all_atomic` with ``replace=False``, which ``taco plot`` uses: all
files or none, never a mix of two writers'."""

from __future__ import annotations

import json
import os

import pytest

from taco import cli
from taco.atomic import stale_temporaries, write_all_atomic, write_text_atomic
from taco.bench import latency

THEIRS = '{"theirs": true}\n'


def _bench_writing_first(monkeypatch, out):
    """The bench, which meanwhile another bench's --json file appears at ``out``."""
    def run_bench(*args, **kwargs):
        out.write_text(THEIRS)
        return {"results": []}

    monkeypatch.setattr(latency, "run_bench", run_bench)
    monkeypatch.setattr("taco.bench.report.format_table", lambda result: "the table")


def test_bench_json_written_meanwhile_is_left_and_refused(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bj.json"
    _bench_writing_first(monkeypatch, out)
    assert cli.main(["bench", "--quick", "--device", "cpu", "--json", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == (
        f"taco bench: error: {out} exists (written meanwhile, by another process?): --force replaces it")
    assert "the table" in captured.out and "wrote" not in captured.out  # measurements not lost
    assert out.read_text() == THEIRS
    assert not stale_temporaries(out)


def test_bench_json_with_force_replaces_one_written_meanwhile(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bj.json"
    _bench_writing_first(monkeypatch, out)
    assert cli.main(["bench", "--quick", "--device", "cpu", "-f", "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == {"results": []}
    assert f"wrote {out}" in capsys.readouterr().out


def test_write_text_atomic_without_replace_keeps_a_file_there(tmp_path):
    out = tmp_path / "x.json"
    out.write_text("first")
    with pytest.raises(FileExistsError) as e:
        write_text_atomic(out, "second", replace=False)
    assert e.value.filename == str(out) and out.read_text() == "first"
    write_text_atomic(tmp_path / "new.json", "new", replace=False)
    assert (tmp_path / "new.json").read_text() == "new"


def test_write_all_atomic_without_replace_takes_back_what_it_published(tmp_path):
    """The second name is another writer's: the first, published already, is removed again."""
    png, svg = tmp_path / "rd.png", tmp_path / "rd.svg"
    svg.write_bytes(b"their svg")
    with pytest.raises(FileExistsError) as e:
        write_all_atomic({png: b"my png", svg: b"my svg"}, replace=False)
    assert e.value.filename == str(svg)
    assert not os.path.lexists(png) and svg.read_bytes() == b"their svg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rd.svg"]  # no temporaries


def test_write_all_atomic_without_replace_leaves_another_writers_file_of_a_name_it_published(
        tmp_path, monkeypatch):
    """A name this call published and another writer replaced since (with --force) is not
    removed on the way out: only this call's own files are."""
    a, b = tmp_path / "a.png", tmp_path / "b.svg"
    real = os.link

    def link(src, dst, *args, **kwargs):
        if os.fspath(dst) == str(b):
            a.unlink()
            a.write_bytes(b"forced")  # another writer's --force, after this one published a
            b.write_bytes(b"theirs")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(FileExistsError):
        write_all_atomic({a: b"mine a", b: b"mine b"}, replace=False)
    assert a.read_bytes() == b"forced" and b.read_bytes() == b"theirs"


def test_write_all_atomic_without_replace_writes_new_files_and_folders(tmp_path):
    files = {tmp_path / "new" / "rd.png": b"png", tmp_path / "new" / "rd.svg": b"svg"}
    assert write_all_atomic(files, replace=False) == list(files)
    assert [p.read_bytes() for p in files] == [b"png", b"svg"]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["rd.png", "rd.svg"]
