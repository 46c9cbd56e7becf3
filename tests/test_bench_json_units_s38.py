"""``taco bench --json``: the unit of its times is said (``time_unit``), and each image has its own
size next to the size coded (padded to a multiple of 64)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from taco import cli
from taco.bench.report import format_table


def _bench(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
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
    assert _bench(argv, monkeypatch) == 0
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
