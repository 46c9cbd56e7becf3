"""benchmarks/cli_photo.py: the photo's size from --megapixels, and one short round of both
commands reporting each one's resource usage and what it wrote."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(("megapixels", "aspect", "size"), [
    (12, "4:3", (4000, 3000)), (24, "3:2", (6000, 4000)), (1e-6, "4:3", (1, 1)), (0.25, "1:1", (500, 500)),
])
def test_the_photo_size_follows_megapixels_and_aspect(load_script, megapixels, aspect, size):
    assert load_script("benchmarks/cli_photo.py").photo_size(megapixels, aspect) == size


@pytest.mark.slow  # two commands in fresh processes: ~10 s
def test_one_round_reports_both_commands(load_script, tmp_path, capsys):
    bench = load_script("benchmarks/cli_photo.py")
    out = tmp_path / "r.json"
    assert bench.main(["--megapixels", "0.02", "--runs", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert (report["width"], report["height"]) == (163, 122)
    (rows,) = report["runs"][str(bench.ROOT)]
    for command in ("compress", "decompress"):
        assert set(rows[command]) == set(bench.FIELDS)
        assert rows[command]["cpu_s"] > 0 and rows[command]["peak_rss_mib"] > 100
        assert rows[command]["out_bytes"] > 0
    assert "(.taco bytes: the same in every run)" in capsys.readouterr().out


def test_a_root_that_is_no_checkout_is_refused(load_script, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        load_script("benchmarks/cli_photo.py").main(["--root", str(tmp_path)])
    assert exit_.value.code == 2
    assert "not a taco checkout" in capsys.readouterr().err
