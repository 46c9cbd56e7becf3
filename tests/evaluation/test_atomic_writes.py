"""The evaluation's whole-file writes go through taco.atomic: a failed write (a full disk) keeps
the previous file and leaves no temporary file beside it."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

from taco.captions_file import CaptionRecord
from taco.evaluation.import_captions import write_captions_jsonl
from taco.evaluation.runner import FeatureStore, Job, _merge, read_rows
from taco.jsonfiles import write_json


@pytest.fixture
def full_disk(fail_writes):
    """Call it to make every write from then on write half its bytes, then fail: a full disk."""
    return lambda: fail_writes(errno.ENOSPC)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_json(tmp_path, full_disk):
    path = tmp_path / "summary.json"
    write_json(path, {"a": float("nan")})
    assert path.read_text(encoding="utf-8") == '{\n  "a": null\n}\n'
    full_disk()
    with pytest.raises(OSError):
        write_json(path, {"a": 2.0})
    assert path.read_text(encoding="utf-8") == '{\n  "a": null\n}\n'
    assert _names(tmp_path) == ["summary.json"]


def test_write_captions_jsonl(tmp_path, full_disk):
    path = tmp_path / "captions.jsonl"
    write_captions_jsonl([CaptionRecord("a.png", ("été",))], path, "OFA")
    old = '{"image": "a.png", "captions": ["été"], "captioner": "OFA"}\n'
    assert path.read_text(encoding="utf-8") == old
    full_disk()
    with pytest.raises(OSError):
        write_captions_jsonl([CaptionRecord("b.png", ("x",))] * 100, path, "OFA")
    assert path.read_text(encoding="utf-8") == old
    assert _names(tmp_path) == ["captions.jsonl"]


def test_feature_chunks(tmp_path, full_disk):
    store = FeatureStore(tmp_path / "features", "m")
    store.add("k1", {"clip": np.ones((1, 4), np.float32)})
    store.flush()
    assert FeatureStore.load(tmp_path / "features")["k1"]["clip"].tolist() == [[1, 1, 1, 1]]
    full_disk()
    store.add("k2", {"clip": np.zeros((1, 4), np.float32)})
    with pytest.raises(OSError):
        store.flush()
    assert len(_names(tmp_path / "features")) == 1  # the first chunk, no temporary
    assert set(FeatureStore.load(tmp_path / "features")) == {"k1"}


def test_merged_results_csv(tmp_path, full_disk):
    csv_path = tmp_path / "r.csv"
    columns = ["image", "setting", "bpp"]
    (tmp_path / "r.rank0.csv").write_text("image,setting,bpp\nb.png,,0.5\n", encoding="utf-8")
    (tmp_path / "r.rank1.csv").write_text("image,setting,bpp\na.png,,0.25\n", encoding="utf-8")
    jobs = [Job(0, "a.png"), Job(1, "b.png")]
    _merge(csv_path, columns, jobs)
    assert csv_path.read_text(encoding="utf-8") == "image,setting,bpp\na.png,,0.25\nb.png,,0.5\n"
    assert _names(tmp_path) == ["r.csv"]  # the shards folded in

    (tmp_path / "r.rank0.csv").write_text("image,setting,bpp\nc.png,,1.0\n", encoding="utf-8")
    full_disk()
    with pytest.raises(OSError):
        _merge(csv_path, columns, [*jobs, Job(2, "c.png")])
    assert [r["image"] for r in read_rows(csv_path)] == ["a.png", "b.png"]
    assert _names(tmp_path) == ["r.csv", "r.rank0.csv"]  # the shard is kept for the next merge


def test_plot_figures_and_bd_table(tmp_path, full_disk):
    pytest.importorskip("bjontegaard")
    pytest.importorskip("matplotlib")
    from taco.evaluation.plot import plot_results

    def result(label, points):
        return {"format": "taco-eval", "version": 1, "kind": "classic", "label": label, "codec": label.lower(),
                "dataset": {"name": "val", "kind": "folder", "images": 14, "crop": "none"},
                "set_metrics": {}, "points": points}

    results = tmp_path / "results"
    results.mkdir()
    jpeg = [{"setting": f"q{q}", "bpp": b, "psnr": p} for q, b, p in [(20, 0.4, 28.0), (50, 0.8, 31.0), (80, 1.5, 34.0)]]
    for name, label, f in (("jpeg.json", "JPEG", 1.0), ("webp.json", "WebP", 0.8)):
        (results / name).write_text(json.dumps(result(label, [{**p, "bpp": f * p["bpp"]} for p in jpeg])))
    out = tmp_path / "fig" / "rd"
    written = plot_results([results], out, anchor="JPEG", metrics=["psnr"])
    assert sorted(p.name for p in written) == ["rd.bdrate.json", "rd.bdrate.md", "rd.png", "rd.svg"]
    before = {p.name: p.read_bytes() for p in written}
    assert before["rd.png"].startswith(b"\x89PNG") and b"<svg" in before["rd.svg"]
    for p in written:
        os.utime(p, ns=(10**18, 10**18))  # a mark a file written again loses
    full_disk()
    with pytest.raises(OSError):
        plot_results([results], out, anchor="JPEG", metrics=["psnr"])
    assert _names(out.parent) == sorted(before)  # no temporary left
    assert all(p.stat().st_mtime_ns == 10**18 and p.read_bytes() == before[p.name] for p in written)
