"""taco bench: --memory and --profile each replace the timing bench, so they are one at a time,
and each says where its --json went, as the timing bench does; --memory says each model's line
as its probe returns."""
from __future__ import annotations

import errno
import json
import sys

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


def _probes(monkeypatch, before=lambda: None):
    """Stub probes, each calling ``before`` as it begins; their lines 'peak memory, MODEL'."""
    def probe(model, h, w, device):
        before()
        return {"model": model, "width": w, "height": h, "device": device}

    monkeypatch.setattr(peak_memory, "peak_memory", probe)
    monkeypatch.setattr(report, "format_memory", lambda m: f"peak memory, {m['model']}")


def test_memory_says_each_line_as_its_probe_returns(monkeypatch, capsys):
    """``taco bench --memory 128x128 > log`` said nothing until both models' probes (child
    processes, seconds each) had returned; the first model's line now comes before the second
    probe starts."""
    printed: list[str] = []
    _probes(monkeypatch, lambda: printed.append(capsys.readouterr().out))
    assert _bench(["--quick", "--device", "cpu", "--memory", "128x192"], monkeypatch) == 0
    assert printed == ["", "peak memory, taco-tiny\n"]
    assert capsys.readouterr().out == "peak memory, elic-tiny\n"


class _Full:
    """A standard output that takes nothing: ``>/dev/full``."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self) -> None:
        pass


def test_memory_lines_that_cannot_be_printed_keep_the_json(tmp_path, monkeypatch, capsys):
    """``--json FILE >/dev/full``: the probes go on and the file is written (as the timing
    bench writes it before its table), then the line left unprinted fails as before."""
    _probes(monkeypatch)
    monkeypatch.setattr(sys, "stdout", _Full())
    out = tmp_path / "m.json"
    assert _bench(["--quick", "--device", "cpu", "--memory", "128x192", "--json", str(out)],
                  monkeypatch) == 2
    assert [m["model"] for m in json.loads(out.read_text())["memory"]] == ["taco-tiny", "elic-tiny"]
    assert capsys.readouterr().err.splitlines()[-1] == "taco bench: error: <stdout>: no space left on device"
