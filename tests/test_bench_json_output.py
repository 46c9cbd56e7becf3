"""taco bench --json FILE: the output is checked before the bench runs (minutes), and an
existing file is replaced only with -f/--force, and one written meanwhile (another bench
publishing first) is left without it; the JSON's time unit and image sizes."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from PIL import Image

from taco import cli
from taco.atomic import stale_temporaries
from taco.bench import latency
from taco.bench.report import format_table


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


def _bench_units(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    if "taco.bench.cli" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "taco.bench.cli"))
    return cli.main(["bench", *argv])


def test_the_json_says_its_time_unit_and_each_image_s_own_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tmp_path / "odd.png"
    Image.new("RGB", (65, 33), (120, 80, 40)).save(odd)
    out = tmp_path / "bench.json"
    argv = ["--quick", "--runs", "1", "--warmup", "0", "--images", str(odd), "--crop", "0",
            "--batch", "0", "--device", "cpu", "--threads", "1", "--json", str(out)]
    assert _bench_units(argv, monkeypatch) == 0
    result = json.loads(out.read_text())
    assert result["time_unit"] == "ms"  # was: no unit anywhere in the JSON
    assert set(result["systems"]["taco"]["decode"]) == {"median", "p90", "n"}  # as before
    # was: [{"name": "odd.png", "height": 64, "width": 128}], the padded size as the image's
    assert result["images"] == [{"name": "odd.png", "height": 33, "width": 65,
                                 "padded_height": 64, "padded_width": 128}]
    assert "images: odd.png 65x33 (padded to 128x64);" in capsys.readouterr().out


def test_the_table_reads_results_with_and_without_the_padded_size() -> None:
    def result(image: dict[str, object]) -> dict[str, object]:
        return {"mode": "quick", "device": "cpu", "torch": "t", "compressai": "c",
                "images": [image], "config": {"runs": 1, "warmup": 0}, "systems": {}, "ratios": {}}

    old = format_table(result({"name": "a.png", "height": 64, "width": 128}))  # before time_unit
    assert "images: a.png 128x64;" in old
    same = format_table(result({"name": "a.png", "height": 64, "width": 64,
                                "padded_height": 64, "padded_width": 64}))
    assert "images: a.png 64x64;" in same


def test_the_table_shows_an_image_s_name_as_every_message_does() -> None:
    """``--images "$(printf '\\e]0;pwned\\aa.png')"`` printed ``images: ^[]0;pwned^Ga.png
    64x64``: an escape code that set the terminal's title."""
    table = format_table({"mode": "quick", "device": "cpu", "torch": "t", "compressai": "c",
                          "images": [{"name": "\x1b]0;pwned\x07a.png", "height": 64, "width": 64}],
                          "config": {"runs": 1, "warmup": 0}, "systems": {}, "ratios": {}})
    assert "images: \\x1b]0;pwned\\x07a.png 64x64;" in table and "\x1b" not in table


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


def test_bench_json_to_a_device_without_force_writes_it(tmp_path, monkeypatch, capsys):
    """--json /dev/null without --force: a device is written into (no name to publish)."""
    from taco import cli
    from taco.bench import latency

    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: {"results": []})
    monkeypatch.setattr("taco.bench.report.format_table", lambda result: "the table")
    assert cli.main(["bench", "--quick", "--device", "cpu", "--json", "/dev/null"]) == 0
    out = capsys.readouterr().out
    assert "the table" in out and "wrote /dev/null" in out


def test_bench_memory_with_force_replaces_one_written_meanwhile(tmp_path, monkeypatch, capsys):
    from taco import cli

    out = tmp_path / "bm.json"

    def peak_memory(model, h, w, device):
        out.write_text(THEIRS)
        return {"model": model}

    monkeypatch.setattr("taco.bench.peak_memory.peak_memory", peak_memory)
    monkeypatch.setattr("taco.bench.report.format_memory", lambda m: "a memory line")
    assert cli.main(["bench", "--memory", "64x64", "--device", "cpu", "-f", "--json", str(out)]) == 0
    assert "memory" in out.read_text()
    assert f"wrote {out}" in capsys.readouterr().out


def test_bench_profile_with_force_replaces_one_written_meanwhile(tmp_path, monkeypatch, capsys):
    import torch

    from taco import cli

    out = tmp_path / "bp.json"

    class _Model:
        def to(self, device):
            return self

    def profile(model, x, runs):
        out.write_text(THEIRS)
        return {"profiled": True}

    monkeypatch.setattr("taco.bench.inputs.load_inputs", lambda images, crop: [("img", torch.zeros(1, 3, 8, 8), None)])
    monkeypatch.setattr("taco.models.create_model", lambda name: None)
    monkeypatch.setattr("taco.bench.systems.compressai_elic", lambda model: _Model())
    monkeypatch.setattr("taco.bench.profiling.profile_entropy_coding", profile)
    monkeypatch.setattr("taco.bench.report.format_profile", lambda prof: "a profile")
    assert cli.main(["bench", "--profile", "--quick", "--device", "cpu", "-f", "--json", str(out)]) == 0
    assert '"profiled": true' in out.read_text()
    assert f"wrote {out}" in capsys.readouterr().out


def test_bench_json_another_files_exists_error_is_not_said_as_written_meanwhile(tmp_path, monkeypatch, capsys):
    from taco import cli
    from taco.bench import latency

    out = tmp_path / "bj.json"
    elsewhere = str(tmp_path / "elsewhere")

    def write_json(path, obj, *, replace=True):
        raise FileExistsError(errno.EEXIST, "File exists", elsewhere)

    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: {"results": []})
    monkeypatch.setattr("taco.bench.report.format_table", lambda result: "the table")
    monkeypatch.setattr("taco.jsonfiles.write_json", write_json)
    assert cli.main(["bench", "--quick", "--device", "cpu", "--json", str(out)]) != 0
    err = capsys.readouterr().err
    assert "written meanwhile" not in err and "elsewhere" in err
