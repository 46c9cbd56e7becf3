"""The written tables say what they measure: a BD-metric or difference column names its unit
(PSNR in dB), and the caption-mode table names its model and dataset (review W)."""

from __future__ import annotations

import pytest

from taco.evaluation import compare_caption_modes, format_comparison


def test_bd_table_names_the_unit_of_bd_psnr():
    pytest.importorskip("bjontegaard")
    from taco.evaluation.bdrate import bd_table, format_bd_table

    curves = {"A": [{"bpp": 0.1, "psnr": 25.0, "lpips": 0.5}, {"bpp": 0.2, "psnr": 27.0, "lpips": 0.4},
                    {"bpp": 0.5, "psnr": 30.0, "lpips": 0.3}],
              "T": [{"bpp": 0.12, "psnr": 25.5, "lpips": 0.48}, {"bpp": 0.25, "psnr": 27.8, "lpips": 0.38},
                    {"bpp": 0.55, "psnr": 30.5, "lpips": 0.29}]}
    md = format_bd_table(bd_table(curves, "A", ["psnr", "lpips"]), "A")
    assert "| codec | BD-rate psnr (%) | BD-rate lpips (%) | BD-psnr (dB) | BD-lpips |" in md


def test_caption_mode_table_names_model_dataset_and_units(rd_run, tmp_path):
    write_rd_run, _ = rd_run
    base = [{"image": f"img{i}.png", "setting": "", "bpp": 0.3 + 0.01 * i,
             "psnr": 26.3 + 0.5 * i, "ms_ssim": 0.95, "lpips": 0.2} for i in range(6)]
    runs = {mode: write_rd_run(tmp_path, f"run-{mode}", label=mode, kind="learned", codec="taco",
                               rows=[{**r, "psnr": r["psnr"] - shift} for r in base])
            for mode, shift in (("true", 0.0), ("empty", 0.01))}
    comparison = compare_caption_modes(runs, resamples=200)
    assert "| Δbpp | Δpsnr (dB) | Δms_ssim | Δlpips |" in format_comparison(comparison)
    comparison.update(model={"model_id": "taco-tiny", "tag": "taco-tiny-0123abcd.q2"},
                      dataset={"name": "kodak", "crop": "center 64x64"})
    table = format_comparison(comparison)
    assert table.startswith("# Caption modes of taco-tiny-0123abcd.q2 on kodak (center 64x64 crop)\n\n"
                            "Difference vs `true` captions")
    comparison["dataset"]["crop"] = "none"
    assert format_comparison(comparison).startswith("# Caption modes of taco-tiny-0123abcd.q2 on kodak\n")
