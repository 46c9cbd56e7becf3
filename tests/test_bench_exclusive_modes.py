"""taco bench: --memory and --profile each replace the timing bench, so they are one at a time,
and each says where its --json went, as the timing bench does."""
from __future__ import annotations

import json

import pytest

from taco import cli
from taco.bench import latency, peak_memory, report


def _bench(argv, monkeypatch):
    # through the real CLI parser, whether or not taco.cli lists taco.bench.cli yet
    if "taco.bench.cli" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "taco.bench.cli"))
    return cli.main(["bench", *argv])


def test_memory_and_profile_together_are_refused_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: pytest.fail("the bench ran"))
    with pytest.raises(SystemExit) as exc:
        _bench(["--quick", "--device", "cpu", "--memory", "128x192", "--profile"], monkeypatch)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--profile" in err and "--memory" in err and "not allowed" in err


def test_memory_json_is_announced(tmp_path, monkeypatch, capsys):
    probe = {"model": "m", "width": 192, "height": 128, "device": "cpu"}
    monkeypatch.setattr(peak_memory, "peak_memory", lambda m, h, w, device: {**probe, "model": m})
    monkeypatch.setattr(report, "format_memory", lambda m: f"peak memory, {m['model']}")
    out = tmp_path / "m.json"
    assert _bench(["--quick", "--device", "cpu", "--memory", "128x192", "--json", str(out)],
                  monkeypatch) == 0
    assert [m["model"] for m in json.loads(out.read_text())["memory"]] == ["taco-tiny", "elic-tiny"]
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {out}"
