"""What a finer scale table costs besides the bits it saves: load, first-compress tables, decode.

For each model and each number of scale levels, the model is set to those levels
(``ELIC.set_scale_levels``) and saved as a built-in ships (fp16, compact tables) in a temporary
folder; then, in rounds that alternate the order of the levels (so that a load change on a shared
machine falls on both):

    load      ``taco.load(path)``: the header and shapes checked, the Gaussian tables rebuilt
              from the stored scale table and checked against their digest
    tables    on the freshly loaded model, what the first compress builds once: the float64
              coding copy with its tables checked (``taco.codec.coding_codec``) and the coder's
              Python lists (``taco.bitstream.rans.coder_tables``) of every entropy model
    first     the first ``taco.compress`` of a 256x256 crop (smaller images: their own
              height or width) after loading, and ``again`` the second (their difference is the one-time cost)
    decode    ``taco.decompress`` of the model's own file of the image (default: astronaut
              resized to 1920x1080, 2.07 MP)

Medians over ``--rounds``, and the median over rounds of each round's ratio to the first level
given (the two runs of a round are back to back, so a load change on the machine between rounds
cancels out). Run with one thread (``OMP_NUM_THREADS=1``) for comparable numbers.

    OMP_NUM_THREADS=1 python benchmarks/scale_levels.py --models elic-small-q4 elic-vr
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from PIL import Image  # noqa: E402

import taco  # noqa: E402
from taco.bitstream import (  # noqa: E402
    MAX_SIDE,  # noqa: E402
    rans,
    unpack,
)
from taco.cli.common import positive_int  # noqa: E402
from taco.codec import coding_codec  # noqa: E402
from taco.errors import TacoError  # noqa: E402
from taco.models import create_model, load, save_checkpoint  # noqa: E402
from taco.models.elic import MAX_SCALE_LEVELS  # noqa: E402
from taco.models.registry import locate_model  # noqa: E402
from taco.samples import SAMPLES_DIR  # noqa: E402
from taco.text import model_text_encoder  # noqa: E402


def timed(f: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = f(*args, **kwargs)
    return time.perf_counter() - t, out


def table_build_seconds(model: taco.models.ELIC) -> float:
    """coding_codec + coder_tables of each entropy model, on a model that has built neither."""
    from compressai.entropy_models import EntropyModel

    t = time.perf_counter()
    codec = coding_codec(model)
    for em in codec.modules():
        if isinstance(em, EntropyModel):
            rans.coder_tables(em)
    return time.perf_counter() - t


def first_compress_crop(image: Image.Image) -> Image.Image:
    """The top-left 256x256 of ``image`` that "first" and "again" compress, smaller sides for a
    smaller image (``crop`` past the edge pads with black, which codes nearly for free)."""
    side = min(256, image.width, image.height)
    return image.crop((0, 0, side, side))


def image_size(text: str) -> tuple[int, int]:
    """``--size WxH`` -> (W, H), each 1 to taco's largest side (an argparse ``type``)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes WxH, e.g. 1920x1080, not {text!r}") from None
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise argparse.ArgumentTypeError(f"sides must be 1 to {MAX_SIDE}, got {width}x{height}")
    return width, height


def scale_levels(text: str) -> int:
    """``--levels N``: 2..:data:`MAX_SCALE_LEVELS` (an argparse ``type``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 2 <= value <= MAX_SCALE_LEVELS:
        raise argparse.ArgumentTypeError(f"must be 2..{MAX_SCALE_LEVELS}, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["elic-small-q4"],
                   help="built-in names or checkpoint files (as trained), or architecture names "
                   "(random weights: load and table times only mean something then)")
    p.add_argument("--levels", nargs="+", type=scale_levels, default=[64, 256],
                   help=f"scale-table sizes to compare, each 2..{MAX_SCALE_LEVELS} (default: 64 256)")
    p.add_argument("--rounds", type=positive_int, default=7)
    p.add_argument("--image", default=str(SAMPLES_DIR / "skimage-astronaut.png"))
    p.add_argument("--size", type=image_size, default="1920x1080",
                   help="the decoded image's WxH (the image resized)")
    p.add_argument("--caption", default="an astronaut in a white suit in front of a flag")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    try:  # a mistyped name or a missing file: one line, before anything is measured
        kinds = {name: locate_model(name).kind for name in args.models}
        return compare_levels(args, kinds)
    except (TacoError, OSError) as e:
        p.error(str(e))


def compare_levels(args: argparse.Namespace, kinds: dict[str, str]) -> int:
    """Print (and with --json write) a row per model and scale levels. ``kinds``: each
    model's :func:`taco.models.registry.locate_model` kind."""
    width, height = args.size
    big = Image.open(args.image).convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    small = first_compress_crop(big)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            trained = kinds[name] != "architecture"
            paths, files = {}, {}
            for levels in args.levels:
                model = load(name) if trained else create_model(name)
                model.set_scale_levels(levels)
                paths[levels] = save_checkpoint(model, Path(tmp) / f"{levels}.safetensors", half=True,
                                                compact_tables=True)
                loaded = load(paths[levels])
                caption = args.caption if loaded.uses_text else None
                files[levels] = taco.compress(big, caption, loaded)
            times: dict[int, dict[str, list[float]]] = {n: {} for n in args.levels}
            for r in range(args.rounds):
                for levels in args.levels if r % 2 == 0 else args.levels[::-1]:
                    t = times[levels]
                    seconds, model = timed(load, paths[levels])
                    t.setdefault("load", []).append(seconds)
                    t.setdefault("tables", []).append(table_build_seconds(model))
                    model = load(paths[levels])
                    caption = args.caption if model.uses_text else None
                    if caption is not None:  # the text encoder loaded before, not timed
                        model_text_encoder(model).encode([caption])
                    t.setdefault("first", []).append(timed(taco.compress, small, caption, model)[0])
                    t.setdefault("again", []).append(timed(taco.compress, small, caption, model)[0])
                    seconds, decoded = timed(taco.decompress, files[levels], model)
                    t.setdefault("decode", []).append(seconds)
                    assert decoded.size == (width, height)
            base = args.levels[0]
            for levels in args.levels:
                med = {k: statistics.median(v) for k, v in times[levels].items()}
                ratio = {k: statistics.median(a / b for a, b in zip(v, times[base][k], strict=True))
                         for k, v in times[levels].items()}
                row = {"model": name, "levels": levels, "rounds": args.rounds,
                       "threads": torch.get_num_threads(), "size": f"{width}x{height}",
                       "file_bytes": len(files[levels]),
                       "payload_bytes": len(unpack(files[levels]).payload),
                       "checkpoint_bytes": paths[levels].stat().st_size,
                       **{f"{k}_s": v for k, v in med.items()},
                       **{f"{k}_vs_{base}": v for k, v in ratio.items()},
                       "samples_s": times[levels]}
                rows.append(row)
                print(f"{name:>14} {levels:>3} levels: load {med['load'] * 1e3:6.1f} ms "
                      f"({ratio['load']:.2f}x)  tables {med['tables'] * 1e3:6.1f} ms "
                      f"({ratio['tables']:.2f}x)  first compress {med['first'] * 1e3:6.0f} ms "
                      f"(again {med['again'] * 1e3:5.0f})  decode {width}x{height} "
                      f"{med['decode']:6.2f} s ({ratio['decode']:.3f}x)  file "
                      f"{row['file_bytes']} B  checkpoint {row['checkpoint_bytes']} B", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
