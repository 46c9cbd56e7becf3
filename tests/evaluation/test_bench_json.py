"""``taco bench --json``: ``--json -`` with standard output closed is refused before the bench
runs, and a JSON file written is named after the table."""

from __future__ import annotations

import sys
from types import SimpleNamespace

from taco.cli import main
from taco.samples import SAMPLES_DIR


def test_bench_json_to_a_closed_stdout_is_refused_before_the_bench(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", None)
    image = str(SAMPLES_DIR / "skimage-chelsea.png")
    assert main(["bench", "--quick", "--images", image, "--json", "-"]) == 2
    assert "--json -: standard output is closed" in capsys.readouterr().err


def test_bench_says_where_it_wrote_its_json(tmp_path):
    from taco.bench.cli import write_result

    said: list[str] = []
    out = tmp_path / "b.json"
    write_result(SimpleNamespace(output=str(out)), {"a": 1}, said.append, "a table")  # type: ignore[arg-type]
    assert said == ["a table", f"wrote {out}"] and out.is_file()
