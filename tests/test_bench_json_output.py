"""taco bench --json FILE: the output is checked before the bench runs (minutes), and an
existing file is replaced only with -f/--force."""

from __future__ import annotations

import json

import pytest

from taco import cli
from taco.bench import latency


def _bench(argv):
    return cli.main(["bench", *argv])  # through the real CLI parser


@pytest.fixture
def no_bench(monkeypatch):
    """The bench must not start: a refusal comes before any timing."""
    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: pytest.fail("the bench ran"))


def _refused(argv, capsys) -> str:
    assert _bench(["--quick", "--device", "cpu", *argv]) == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_a_file_where_the_folder_should_be_is_refused_before_the_bench(tmp_path, capsys, no_bench):
    (tmp_path / "a.taco").write_bytes(b"x")
    err = _refused(["--json", str(tmp_path / "a.taco" / "x.json")], capsys)
    assert "a.taco is not a folder" in err


def test_an_existing_file_is_refused_without_force(tmp_path, capsys, no_bench):
    out = tmp_path / "existing.json"
    out.write_text("{}")
    err = _refused(["--json", str(out)], capsys)
    assert "existing.json exists; pass --force" in err
    assert out.read_text() == "{}"


def test_a_folder_is_refused(tmp_path, capsys, no_bench):
    err = _refused(["--json", str(tmp_path)], capsys)
    assert "is a folder" in err


def test_force_replaces_an_existing_file(tmp_path, monkeypatch, capsys):
    out = tmp_path / "existing.json"
    out.write_text("{}")
    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: {"results": []})
    monkeypatch.setattr("taco.bench.report.format_table", lambda result: "table")
    assert _bench(["--quick", "--device", "cpu", "-f", "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == {"results": []}
