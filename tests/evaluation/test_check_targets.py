"""``scripts/check_targets.py``: issue 14's targets on synthetic results in taco evaluate's format."""

from __future__ import annotations

import json
import math

import pytest

pytest.importorskip("bjontegaard")

def run(module, capsys, *argv: str) -> tuple[int, str, str]:
    rc = module.main([*argv, "--bootstrap", "200"])
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_model_that_meets_every_target(check_targets, tmp_path, rd_folder, capsys):
    rd_folder(tmp_path, model_bits=0.7)  # 0.7x AVIF's bits, 0.44x JPEG's for the same quality
    rc, out, _ = run(check_targets, capsys, str(tmp_path), "--model", "TACO", "--json")
    assert rc == 0
    report = json.loads(out)  # strict JSON: no NaN
    assert report["passed"] and report["dataset"] == "val" and report["lpips_input"] == "standard"
    by_name = {t["name"]: t for t in report["targets"]}
    assert list(by_name) == ["BD-PSNR vs JPEG", "BD-rate (PSNR) vs WebP", "BD-rate (PSNR) vs AVIF",
                             "LPIPS vs AVIF at equal bpp"]
    jpeg = by_name["BD-PSNR vs JPEG"]  # 4 dB per doubling of bits: 4 log2(1.6 / 0.7) = 4.77 dB
    assert jpeg["value"] == pytest.approx(4 * math.log2(1.6 / 0.7), abs=0.1)
    assert jpeg["low"] <= jpeg["value"] <= jpeg["high"] and jpeg["op"] == ">=" and jpeg["threshold"] == 2.0
    assert by_name["BD-rate (PSNR) vs WebP"]["value"] == pytest.approx((0.7 / 1.3 - 1) * 100, abs=1.0)
    avif = by_name["BD-rate (PSNR) vs AVIF"]
    assert avif["value"] == pytest.approx(-30.0, abs=1.0) and avif["images"] == 10
    assert avif["overlap_used"].startswith("psnr ") and avif["defined"] + avif["undefined"] == 200
    lpips = by_name["LPIPS vs AVIF at equal bpp"]
    assert lpips["metric"] == "lpips" and lpips["delta"] == "bd_metric" and lpips["value"] < 0
    assert lpips["overlap_used"].startswith("bpp ")
    assert all(t["passed"] and t["ci_passed"] for t in report["targets"])
    assert report["comparisons"] == []  # no --elic

    rc, table, _ = run(check_targets, capsys, str(tmp_path / "val"), "--model", "TACO")
    assert rc == 0 and table.count("| PASS |") == 4 and "4 of 4 targets pass" in table
    assert "BD-metric of LPIPS" in table  # says what "lower LPIPS at equal bpp" is measured as


def test_a_model_that_misses_them_fails(check_targets, tmp_path, rd_folder, capsys):
    rd_folder(tmp_path, model_bits=1.2)  # 20 % more bits than AVIF: fails all four
    rc, out, _ = run(check_targets, capsys, str(tmp_path), "--model", "TACO")
    assert rc == 1
    assert out.count("| FAIL |") == 4 and "0 of 4 targets pass" in out
    rc, out, _ = run(check_targets, capsys, str(tmp_path), "--model", "TACO", "--json")
    report = json.loads(out)
    assert rc == 1 and not report["passed"]
    assert {t["name"]: t["passed"] for t in report["targets"]} == dict.fromkeys(
        ["BD-PSNR vs JPEG", "BD-rate (PSNR) vs WebP", "BD-rate (PSNR) vs AVIF", "LPIPS vs AVIF at equal bpp"],
        False)


def test_require_ci_and_no_overlap(check_targets, tmp_path, rd_folder, capsys):
    # 1.0x AVIF's bits: the BD-rate vs AVIF is ~0 (passes or not by noise), so its CI
    # straddles the threshold and --require-ci fails it
    rd_folder(tmp_path, model_bits=1.0)
    rc, out, _ = run(check_targets, capsys, str(tmp_path), "--model", "TACO", "--json", "--require-ci")
    avif = {t["name"]: t for t in json.loads(out)["targets"]}["BD-rate (PSNR) vs AVIF"]
    assert avif["low"] < 0 < avif["high"] and not avif["ci_passed"] and not avif["passed"] and rc == 1
    # a ">=" target too: 1.6/sqrt(2) x AVIF's bits is half a doubling below JPEG's, a BD-PSNR of
    # ~4 log2(sqrt(2)) = 2 dB, its CI straddling the threshold: a pass on the value alone, not
    # under --require-ci (whose low end is below 2 dB)
    rd_folder(tmp_path / "jpeg", model_bits=1.6 / math.sqrt(2))
    rc, out, _ = run(check_targets, capsys, str(tmp_path / "jpeg"), "--model", "TACO", "--json", "--require-ci")
    jpeg = {t["name"]: t for t in json.loads(out)["targets"]}["BD-PSNR vs JPEG"]
    assert jpeg["op"] == ">=" and jpeg["low"] < 2.0 < jpeg["value"] < jpeg["high"]
    assert not jpeg["ci_passed"] and not jpeg["passed"] and rc == 1
    _, out, _ = run(check_targets, capsys, str(tmp_path / "jpeg"), "--model", "TACO", "--json")
    assert {t["name"]: t for t in json.loads(out)["targets"]}["BD-PSNR vs JPEG"]["passed"]
    # curves that do not overlap: no value, the ranges of both curves instead, FAIL
    rd_folder(tmp_path / "far", model_bits=100.0)
    rc, out, _ = run(check_targets, capsys, str(tmp_path / "far"), "--model", "TACO")
    assert rc == 1 and "n/a (the curves do not overlap" in out and "none: bpp " in out


def test_elic_comparison(check_targets, tmp_path, rd_folder, capsys):
    rd_folder(tmp_path, model_bits=0.7, elic_bits=0.8)
    rc, out, _ = run(check_targets, capsys, str(tmp_path), "--elic", "ELIC", "--json")
    report = json.loads(out)
    assert rc == 0 and report["model"] == "TACO" and report["model_curve"] == "TACO (3 points)"  # the only learned curve but ELIC
    comp = {c["name"]: c for c in report["comparisons"]}
    assert list(comp) == ["BD-rate (PSNR) vs ELIC", "BD-rate (LPIPS) vs ELIC"]
    psnr = comp["BD-rate (PSNR) vs ELIC"]
    assert psnr["value"] == pytest.approx((0.7 / 0.8 - 1) * 100, abs=1.0)
    assert psnr["low"] <= psnr["value"] <= psnr["high"]
    assert comp["BD-rate (LPIPS) vs ELIC"]["value"] < 0


def test_unusable_results_exit_2(check_targets, tmp_path, rd_folder, capsys):
    rc, _, err = run(check_targets, capsys, str(tmp_path / "missing"))
    assert rc == 2 and "no such folder" in err
    rd_folder(tmp_path)
    rc, _, err = run(check_targets, capsys, str(tmp_path))  # TACO and ELIC: which one?
    assert rc == 2 and "choose the model with --model" in err and "'ELIC', 'TACO'" in err
    rc, _, err = run(check_targets, capsys, str(tmp_path), "--model", "nope")
    assert rc == 2 and "no learned curve labelled 'nope'" in err
    for p in (tmp_path / "val").glob("webp.*"):
        p.unlink()
    rc, _, err = run(check_targets, capsys, str(tmp_path), "--model", "TACO")
    assert rc == 2 and "no webp curve" in err
    rd_folder(tmp_path / "again")
    (tmp_path / "again" / "val" / "taco-vr-abcdef12.q2.csv").unlink()
    rc, _, err = run(check_targets, capsys, str(tmp_path / "again"), "--model", "TACO")
    assert rc == 2 and "no per-image CSV" in err
    rd_folder(tmp_path / "newer")
    taco_json = tmp_path / "newer" / "val" / "taco-vr-abcdef12.q1.json"
    result = json.loads(taco_json.read_text())
    taco_json.write_text(json.dumps({**result, "version": result["version"] + 1}))
    rc, _, err = run(check_targets, capsys, str(tmp_path / "newer"), "--model", "TACO")
    assert rc == 2 and "version" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_a_thin_overlap_fails(check_targets, tmp_path, rd_folder, capsys):
    rd_folder(tmp_path, model_bits=0.7)  # meets every target over a wide overlap
    rc, out, _ = run(check_targets, capsys, str(tmp_path), "--model", "TACO", "--json")
    report = json.loads(out)
    assert rc == 0 and all(t["overlap_ok"] for t in report["targets"])
    assert "over at least 20 % of the curves' union" in report["pass_rule"]
    # the same values, but demanding more overlap than any pair of curves has
    rc, out, _ = run(check_targets, capsys, str(tmp_path), "--model", "TACO", "--min-overlap", "1.01")
    assert rc == 1 and out.count("| FAIL (overlap too thin) |") == 4


def test_an_untrained_architecture_is_found_by_its_model_name(check_targets, tmp_path, rd_folder, capsys):
    """taco evaluate labels an untrained architecture's curve 'NAME (untrained)'; --model NAME,
    the name given to -m, finds it (docs/evaluation.md's pair of commands with MODEL)."""
    folder = rd_folder(tmp_path)
    for path in folder.glob("taco-vr-*.json"):
        result = json.loads(path.read_text())
        result["label"] = "taco-tiny (untrained)"
        path.write_text(json.dumps(result))
    rc, out, err = run(check_targets, capsys, str(tmp_path), "--model", "taco-tiny", "--json")
    assert rc == 0, err
    rc, _, err = run(check_targets, capsys, str(tmp_path), "--model", "taco-small")
    assert rc == 2 and "no learned curve labelled 'taco-small'" in err
