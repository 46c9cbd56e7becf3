"""Write the golden files of the shipped built-in models: tests/data/builtin.

    python scripts/make_goldens.py            # bring the goldens in line with taco.models.PRETRAINED
    python scripts/make_goldens.py --check    # write nothing; exit 1 if anything would change
    python scripts/make_goldens.py --renew    # also replace goldens this code no longer reproduces

What depends on the weights the package ships, and so changes when the built-ins change (issue 14:
docs/models.md "Replacing the built-ins"):

- per built-in (per quality of a variable-rate one): a ``.taco`` file of a 96x64 crop of a bundled
  photo, its decoded image and the SHA-256 of its entropy-decoded latents, checked by
  tests/models/test_builtin_golden.py;
- for :data:`taco.resolve.DEFAULT_MODEL`: the SHA-256 of the file ``taco demo`` writes and its
  decoded image (``demo.png``), checked by tests/test_default_model.py.

All of it lands in ``tests/data/builtin/golden.json`` (+ the files it names). A golden is only
written when it is missing or its weights changed (each entry records the weights' SHA-256):
one the current code still reproduces is kept as it is, with the commit that made it, so the
oldest evidence stays; one it no longer reproduces is an error (a decoder regression, or a
deliberate format change: then ``--renew``). Goldens of models the package no longer ships are
removed. Run it with one torch thread (as the tests do). The pixels come out of g_s in float32,
so they are compared within one grey level: CPUs with other vector units (AVX2, AVX-512) round a
few of them the other way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

import taco
from taco.bitstream import unpack
from taco.codec import coding_codec
from taco.demo import SAMPLE, sample_dir
from taco.models import PRETRAINED, fast_codec
from taco.models.registry import checkpoint_config
from taco.resolve import DEFAULT_MODEL
from taco.samples import sample_caption

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "builtin"
#: The crop every per-model golden codes: small, so that a 12 M-parameter model codes it at once.
IMAGE = {"sample": "taco/assets/samples/skimage-coffee.png", "box": [100, 80, 196, 144]}
CAPTION = "a cup of coffee on a saucer"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def within_one_level(image: Image.Image, stored: Path) -> bool:
    """Whether ``image``'s pixels are within one grey level of the image stored at ``stored``."""
    with Image.open(stored) as im:
        golden = np.asarray(im.convert("RGB"), dtype=int)
    decoded = np.asarray(image.convert("RGB"), dtype=int)
    return decoded.shape == golden.shape and bool(np.abs(decoded - golden).max() <= 1)


def crop() -> Image.Image:
    return Image.open(ROOT / IMAGE["sample"]).convert("RGB").crop(tuple(IMAGE["box"]))


def as_version_2(data: bytes) -> bytes:
    """A one-chunk format-3 file as format 2 wrote it: the same stream, no quality byte, the CRC
    recomputed (docs/format.md). Goldens made before format 3 are version 2."""
    f = unpack(data)
    head = data[:4] + b"\x02" + data[5:6] + data[7 : f.header_bytes - 4]
    return head + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload


def latents_sha256(model: Any, data: bytes) -> str:
    """SHA-256 of the entropy-decoded latents y_hat of a file of the crop (padded to 64x128)."""
    f = unpack(data)
    quality = f.header.quality or None
    y_hat = fast_codec.decompress_latent(coding_codec(model), [[f.payload]],
                                         model.latent_shapes(64, 128, quality))["y_hat"]
    return sha256(y_hat.numpy().tobytes())


def golden_keys(name: str) -> list[tuple[str, int | None]]:
    """(golden key, quality) per golden of a built-in: one, or one per quality."""
    qualities = checkpoint_config(name).qualities
    if qualities is None:
        return [(name, None)]
    return [(f"{name}-q{q}", q) for q in range(1, len(qualities) + 1)]


def made_with() -> str:
    """``taco VERSION at COMMIT[-dirty]``: the code that made a golden."""
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty", "--abbrev=7"],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rev = "?"
    return f"taco {taco.__version__} at {rev}, scripts/make_goldens.py"


def model_golden(model: Any, name: str, quality: int | None) -> tuple[dict[str, Any], bytes, Image.Image]:
    """The golden entry of ``name`` at ``quality``, its .taco bytes and decoded image."""
    caption = CAPTION if model.uses_text else None
    data = taco.compress(crop(), caption, model, quality=quality)
    entry = {"model": name, "quality": quality, "weights_sha256": PRETRAINED[name].sha256,
             "caption": caption, "y_hat_sha256": latents_sha256(model, data), "made_with": made_with()}
    return entry, data, taco.decompress(data)  # no model: the file names its built-in


def reproduces(entry: dict[str, Any], model: Any) -> bool:
    """Whether this code encodes the stored file again and decodes it to the stored latents and
    (within one grey level) the stored pixels."""
    stored = (DATA / entry["file"]).read_bytes()
    data = taco.compress(crop(), entry["caption"], model, quality=entry.get("quality"))
    if unpack(stored).header.version == 2:
        data = as_version_2(data)
    if data != stored or latents_sha256(model, stored) != entry["y_hat_sha256"]:
        return False
    return within_one_level(taco.decompress(stored), DATA / entry["decoded"])


def demo_golden() -> tuple[dict[str, Any], Image.Image]:
    """What ``taco demo`` writes with :data:`DEFAULT_MODEL`: its entry (the file's SHA-256) and
    the decoded image."""
    from taco.resolve import resolve_model

    model = resolve_model(DEFAULT_MODEL).model
    with Image.open(sample_dir() / SAMPLE) as photo:
        data = taco.compress(photo, sample_caption(SAMPLE), model)
    entry = {"model": DEFAULT_MODEL, "weights_sha256": PRETRAINED[DEFAULT_MODEL].sha256,
             "sample": SAMPLE, "file_sha256": sha256(data), "decoded": "demo.png",
             "made_with": made_with()}
    return entry, taco.decompress(data)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything would change")
    p.add_argument("--renew", action="store_true",
                   help="replace goldens the current code no longer reproduces (a format change)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    path = DATA / "golden.json"
    old = json.loads(path.read_text()) if path.is_file() else {"files": {}}
    files: dict[str, Any] = {}
    writes: dict[str, bytes | Image.Image] = {}
    changes, errors = [], []
    for name in sorted(PRETRAINED):
        model = taco.load(name)
        for key, quality in golden_keys(name):
            entry = old["files"].get(key)
            same_weights = entry is not None and entry.get("weights_sha256",
                                                           PRETRAINED[name].sha256) == PRETRAINED[name].sha256
            if same_weights and reproduces(entry, model):
                files[key] = {**entry, "model": name, "quality": quality,
                              "weights_sha256": PRETRAINED[name].sha256}
                continue
            if same_weights and not args.renew:
                errors.append(f"{key}: this code no longer reproduces its golden (same weights); "
                              "a regression, or a format change: then --renew")
                files[key] = entry
                continue
            new, data, decoded = model_golden(model, name, quality)
            files[key] = {**new, "file": f"{key}.taco", "decoded": f"{key}.png"}
            writes[f"{key}.taco"], writes[f"{key}.png"] = data, decoded
            changes.append(f"{'new' if entry is None else 'renewed'}: {key}")
    changes += [f"removed: {key} (no longer shipped)" for key in sorted(set(old["files"]) - set(files))]

    demo = old.get("demo")
    if (demo is None or demo.get("model") != DEFAULT_MODEL or "decoded" not in demo
            or demo.get("weights_sha256") != PRETRAINED[DEFAULT_MODEL].sha256):
        demo, writes["demo.png"] = demo_golden()
        changes.append(f"demo: {DEFAULT_MODEL}")
    elif args.renew or args.check:  # the tests check it as well; --check says which golden moved
        fresh, decoded = demo_golden()
        if fresh["file_sha256"] != demo["file_sha256"] or not within_one_level(decoded, DATA / "demo.png"):
            if args.renew:
                demo, writes["demo.png"] = fresh, decoded
                changes.append(f"renewed: demo ({DEFAULT_MODEL})")
            else:
                errors.append(f"demo ({DEFAULT_MODEL}): this code no longer reproduces its golden")

    golden = {
        "about": "written by scripts/make_goldens.py: per shipped built-in, a .taco file of the "
                 "crop, its decoded image and the SHA-256 of its entropy-decoded latents; the "
                 "demo's file SHA-256 and decoded image for DEFAULT_MODEL",
        "image": IMAGE,
        "files": files,
        "demo": demo,
    }
    text = json.dumps(golden, indent=2, ensure_ascii=False) + "\n"
    for line in changes:
        print(line)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if args.check:
        return 1 if changes or errors or text != (path.read_text() if path.is_file() else "") else 0
    if errors:
        return 1
    for key in set(old["files"]) - set(files):
        for what in ("file", "decoded"):
            (DATA / old["files"][key][what]).unlink(missing_ok=True)
    for file, content in writes.items():
        if isinstance(content, bytes):
            (DATA / file).write_bytes(content)
        else:
            content.save(DATA / file)
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)} ({len(files)} goldens, demo: {DEFAULT_MODEL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
