"""``taco plot`` (and the figure ``taco evaluate`` draws of its whole output folder) put results
of one dataset name into one figure and BD table even when a photo had been replaced between the
runs (another ``dataset.image_content``: WebP -15.8 % instead of -36.6 %, no warning) or FID was
measured on whole images by one run and on 256 px patches by another (BD-rate FID +43 % instead
of -17 %, the axis labelled by whichever result came first). Runs on other images are now
refused; FID (CMMD) measured in different ways is left out of the figure and the BD table, with
a warning (taco.evaluation.plot)."""

from __future__ import annotations

import json
import warnings

import pytest

import taco.cli
from taco.errors import TacoWarning
from taco.evaluation.plot import collect_curves, load_results, plot_results

FULL = "whole images resized to 299x299 (Muckley et al. 2023)"
PATCHES = "256x256 patches, grid + grid shifted by 128 px (HiFiC, Mentzer et al. 2020), each resized to 299x299"


def _result(codec: str, *, content: str | None = "aaaa", fid: str | None = PATCHES, clip: str | None = None,
            scale: float = 1.0) -> dict:
    points = [{"setting": f"q{q}", "images": 4, "bpp": scale * b, "psnr": p, "ms_ssim": m, "lpips": lp,
               **({"fid": f} if fid else {}), **({"cmmd": c} if clip else {})}  # off: no key, as taco writes
              for q, b, p, m, lp, f, c in [(20, 0.4, 28.0, 0.93, 0.20, 60.0, 0.9), (50, 0.8, 31.0, 0.96, 0.10, 30.0, 0.5),
                                           (80, 1.5, 34.0, 0.98, 0.05, 12.0, 0.2)]]
    run = {"codec": {"name": codec}, "dataset": {"name": "val", "kind": "folder", "crop": "none"}}
    dataset = {"name": "val", "kind": "folder", "images": 4, "crop": "none"}
    if content is not None:
        dataset["image_content"] = content
    return {"format": "taco-eval", "version": 1, "kind": "classic", "label": codec.upper(), "codec": codec,
            "dataset": dataset, "run": run,
            "set_metrics": {"fid": {"computed": True, "mode": fid} if fid else {"computed": False},
                            "cmmd": {"computed": True, "clip": clip} if clip else {"computed": False}},
            "points": points}


def _folder(tmp_path, **results: dict):
    folder = tmp_path / "eval"
    folder.mkdir(parents=True)
    for name, data in results.items():
        (folder / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def _plot(folder, out, **kw) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_results([folder], out, **kw)
    return [w for w in caught if issubclass(w.category, TacoWarning)]


def test_runs_on_other_images_are_refused_naming_the_files(tmp_path):
    folder = _folder(tmp_path, jpeg=_result("jpeg", content="aaaa"), webp=_result("webp", content="bbbb", scale=0.8))
    with pytest.raises(ValueError, match="results on val were run on different images") as exc:
        collect_curves(load_results(folder))
    assert f"aaaa: {folder / 'jpeg.json'}" in str(exc.value) and f"bbbb: {folder / 'webp.json'}" in str(exc.value)
    with pytest.raises(ValueError, match="different images"):
        plot_results([folder], tmp_path / "rd", anchor="JPEG")
    assert not list(tmp_path.glob("rd*"))


def test_taco_plot_says_it_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    folder = _folder(tmp_path, jpeg=_result("jpeg", content="aaaa"), webp=_result("webp", content="bbbb", scale=0.8))
    assert taco.cli.main(["plot", str(folder), "-o", str(tmp_path / "rd")]) == 2
    err = capsys.readouterr().err
    assert "different images (image digest aaaa" in err and len(err.strip().splitlines()) == 1


def test_the_same_images_or_an_older_file_without_a_digest_plot_as_before(tmp_path):
    for other in ("aaaa", None):
        curves = collect_curves([_result("jpeg"), _result("webp", content=other, scale=0.8)])
        assert [c.label for c in curves["val"]] == ["JPEG", "WEBP"]


def test_fid_of_whole_images_and_of_patches_is_left_out_with_a_warning(tmp_path):
    pytest.importorskip("bjontegaard")
    folder = _folder(tmp_path, jpeg=_result("jpeg", fid=FULL), webp=_result("webp", fid=PATCHES, scale=0.8))
    out = tmp_path / "fig" / "rd"
    (warning,) = _plot(folder, out, anchor="JPEG")
    text = str(warning.message)
    assert text.startswith("FID left out of the figure and BD table of val: measured in different ways")
    assert f"whole images resized to 299x299: {folder / 'jpeg.json'}" in text and "256x256 patches: " in text
    svg = out.with_suffix(".svg").read_text()
    assert "PSNR" in svg and "FID" not in svg
    bd = json.loads(out.with_name("rd.bdrate.json").read_text())
    assert set(bd["table"]["WEBP"]) == {"psnr", "ms_ssim", "lpips"} and set(bd["left_out"]) == {"fid"}
    assert "FID left out: measured in different ways" in out.with_name("rd.bdrate.md").read_text()


def test_cmmd_of_two_clip_models_is_left_out(tmp_path):
    folder = _folder(tmp_path, jpeg=_result("jpeg", clip="openai/clip-vit-large-patch14"),
                     webp=_result("webp", clip="openai/clip-vit-base-patch32", scale=0.8))
    out = tmp_path / "rd"
    (warning,) = _plot(folder, out)
    assert str(warning.message).startswith("CMMD left out") and "one --cmmd-clip" in str(warning.message)
    svg = out.with_suffix(".svg").read_text()
    assert "CMMD" not in svg and "FID" in svg


def test_one_fid_mode_plots_as_before(tmp_path):
    pytest.importorskip("bjontegaard")
    # a run without FID (--fid off) beside one with it measures it in no other way
    folder = _folder(tmp_path, jpeg=_result("jpeg", fid=PATCHES), webp=_result("webp", fid=PATCHES, scale=0.8),
                     avif=_result("avif", fid=None, scale=0.7))
    out = tmp_path / "rd"
    assert _plot(folder, out, anchor="JPEG") == []
    svg = out.with_suffix(".svg").read_text()
    assert "FID ↓ (256 px patches)" in svg
    bd = json.loads(out.with_name("rd.bdrate.json").read_text())
    assert "fid" in bd["table"]["WEBP"] and "left_out" not in bd
    assert "left out" not in out.with_name("rd.bdrate.md").read_text()
    full = _folder(tmp_path / "full", jpeg=_result("jpeg", fid=FULL), webp=_result("webp", fid=FULL, scale=0.8))
    assert _plot(full, tmp_path / "full" / "rd") == []
    svg = (tmp_path / "full" / "rd.svg").read_text()
    assert "FID ↓" in svg and "256 px patches" not in svg


def test_runs_with_other_captions_on_the_same_images_plot_together(tmp_path):
    """A caption-source study, or JPEG run before the captions were written beside a model run
    with them: the run blocks' content digests (captions included) differ, the images do not."""
    jpeg, webp = _result("jpeg"), _result("webp", scale=0.8)
    jpeg["run"]["dataset"]["content"], webp["run"]["dataset"]["content"] = "1111", "2222"
    curves = collect_curves([jpeg, webp])
    assert [c.label for c in curves["val"]] == ["JPEG", "WEBP"]


def test_one_run_written_before_and_after_device_and_version_were_recorded_is_one_run():
    """The same run in a folder from before (no device, no taco_version in its run) and one from
    now was refused as one label's weights twice with other results."""
    old, new = _result("jpeg"), _result("jpeg")
    new["run"].update(device="cpu", taco_version="0.1.0")
    curves = collect_curves([old, new])
    assert [c.label for c in curves["val"]] == ["JPEG"]


def classic_result(psnr: float, *, crop: str = "none", lpips_input: str | None = None) -> dict:
    r = {"kind": "classic", "label": "JPEG", "codec": "jpeg", "run": {"codec": "jpeg"},
         "dataset": {"name": "val", "crop": crop}, "points": [{"setting": 50, "bpp": 1.0, "psnr": psnr}]}
    return r if lpips_input is None else {**r, "lpips_input": lpips_input}


def test_a_run_on_center_crops_is_a_dataset_of_its_own():
    out = collect_curves([classic_result(30.0), classic_result(28.0, crop="center 256x256")])
    assert sorted(out) == ["val", "val (crop center 256x256)"]
    assert out["val"][0].points[0]["psnr"] == 30.0
    assert out["val (crop center 256x256)"][0].points[0]["psnr"] == 28.0


def test_a_run_with_official_lpips_input_is_a_dataset_of_its_own():
    out = collect_curves([classic_result(30.0, lpips_input="official"),
                          classic_result(28.0, lpips_input="rgb01")])
    assert sorted(out) == ["val", "val [LPIPS official]"]
    assert out["val [LPIPS official]"][0].points[0]["psnr"] == 30.0
    assert out["val"][0].points[0]["psnr"] == 28.0


def test_a_run_without_fid_values_measures_fid_in_no_other_way(tmp_path):
    """A result recording its FID mode but no FID value does not make FID 'mixed'."""
    def result(codec, mode, fids, scale):
        return {"format": "taco-eval", "version": 1, "kind": "classic", "label": codec.upper(), "codec": codec,
                "dataset": {"name": "val", "kind": "folder", "images": 4, "crop": "none"},
                "run": {"codec": {"name": codec}, "dataset": {"name": "val", "kind": "folder", "crop": "none"}},
                "set_metrics": {"fid": {"computed": True, "mode": mode}, "cmmd": {"computed": False}},
                "points": [{"setting": f"q{q}", "images": 4, "bpp": scale * b, "psnr": p, "fid": f}
                           for q, b, p, f in zip((20, 50, 80), (0.4, 0.8, 1.5), (28.0, 31.0, 34.0), fids,
                                                 strict=True)]}
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "jpeg.json").write_text(json.dumps(result("jpeg", "whole images resized", (60.0, 30.0, 12.0), 1.0)))
    (folder / "webp.json").write_text(json.dumps(result("webp", "256x256 patches", (None, None, None), 0.8)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_results([folder], tmp_path / "rd", metrics=("psnr", "fid"))
    assert [str(w.message) for w in caught if issubclass(w.category, TacoWarning)] == []
    assert "FID" in (tmp_path / "rd.svg").read_text()
