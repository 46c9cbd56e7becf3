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


def test_a_bare_json_means_standard_output(monkeypatch, capsys):
    """``taco bench --quick --json`` failed "argument --json: expected one argument" while ``taco
    info --json`` takes no value: a bare --json is ``--json -`` (here refused, stdout closed)."""
    monkeypatch.setattr(sys, "stdout", None)
    image = str(SAMPLES_DIR / "skimage-chelsea.png")
    assert main(["bench", "--quick", "--images", image, "--json"]) == 2
    assert "--json -: standard output is closed" in capsys.readouterr().err
    assert main(["bench", "--json", "--quick", "--images", image]) == 2
    assert "--json -: standard output is closed" in capsys.readouterr().err
