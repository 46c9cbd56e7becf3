"""The ``taco`` command line: compress, decompress, info, demo.

Entry points stay thin: parse arguments, hand them to the library, print what happened.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .commands import CLIError
from .memory import MAX_DECODE_PIXELS
from .resolve import DEFAULT_MODEL

if TYPE_CHECKING:
    from .models.elic import ELIC

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".ppm", ".pgm"}
#: Modules that add their own subcommands through ``register(subparsers)`` (train, evaluate, ...).
COMMAND_MODULES: tuple[str, ...] = ("taco.train.cli", "taco.evaluation.cli", "taco.bench.cli",
                                    "taco.official.cli")


# --------------------------------------------------------------------------- models


def _model(name: str | None) -> ELIC:
    """``--model`` value -> model (:func:`taco.resolve.resolve_model`), saying so when it is
    an architecture's untrained seed-0 initialisation."""
    from .resolve import resolve_model

    resolved = resolve_model(name)
    if resolved.note:
        print(f"note: {resolved.note}", file=sys.stderr)
    return resolved.model


# --------------------------------------------------------------------------- inputs and captions


def expand_inputs(paths: Sequence[str], suffixes: set[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in suffixes and f.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise CLIError(f"{p}: no such file or folder")
    if not out:
        raise CLIError(f"no input files found in {', '.join(paths)}")
    return out


def read_captions_jsonl(path: Path) -> dict[str, str]:
    """``{"image": name, "captions": [...]}`` per line -> {name: first caption}."""
    captions: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CLIError(f"{path}: cannot read captions ({exc.strerror})") from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            name, caps = rec["image"], rec["captions"]
            captions[str(name)] = caps[0] if isinstance(caps, list) else str(caps)
        except (json.JSONDecodeError, KeyError, IndexError, TypeError):
            raise CLIError(
                f'{path}:{i}: expected {{"image": NAME, "captions": [TEXT, ...]}}'
            ) from None
    return captions


class CaptionSource:
    """Finds the caption of an image: --caption, --captions FILE, IMG.txt, captions.jsonl beside it."""

    def __init__(self, caption: str | None, captions_file: str | None) -> None:
        self.caption = caption
        self.table = read_captions_jsonl(Path(captions_file)) if captions_file else {}
        self._beside: dict[Path, dict[str, str]] = {}

    def __call__(self, image: Path) -> str:
        if self.caption is not None:
            return self.caption
        for key in (image.name, str(image)):
            if key in self.table:
                return self.table[key]
        sidecar = image.with_suffix(".txt")
        if sidecar.is_file():
            return sidecar.read_text(encoding="utf-8").strip()
        folder = image.parent
        if folder not in self._beside:
            f = folder / "captions.jsonl"
            self._beside[folder] = read_captions_jsonl(f) if f.is_file() else {}
        if image.name in self._beside[folder]:
            return self._beside[folder][image.name]
        raise CLIError(
            f"{image}: no caption. Give --caption TEXT, --captions FILE.jsonl, a sidecar "
            f"{sidecar.name}, or a captions.jsonl beside the image (--caption '' codes without one)"
        )


def output_path(src: Path, out: str | None, many: bool, suffix: str) -> Path:
    if out is None:
        return src.with_suffix(suffix)
    o = Path(out)
    if many or o.is_dir() or out.endswith(("/", "\\")):
        o.mkdir(parents=True, exist_ok=True)
        return o / (src.stem + suffix)
    return o


def _check_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise CLIError(f"{path} exists; pass --force to overwrite it")


def _progress(items, enabled: bool, desc: str):  # noqa: ANN001, ANN202
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="img", file=sys.stderr, leave=False)


# --------------------------------------------------------------------------- commands


def cmd_compress(args: argparse.Namespace) -> int:
    from .codec import coding_quality, compress_image
    from .images import load_image

    if args.clip_path:
        os.environ["TACO_CLIP_PATH"] = args.clip_path
    files = expand_inputs(args.images, IMAGE_SUFFIXES)
    captions = CaptionSource(args.caption, args.captions)
    jobs = [(f, captions(f)) for f in files]  # every caption is found before any work starts
    model = _model(args.model)
    try:
        quality = coding_quality(model, args.quality)
    except ValueError as e:
        raise CLIError(str(e)) from None
    many = len(files) > 1
    total_bytes = total_pixels = 0
    t_all = time.perf_counter()
    for src, caption in _progress(jobs, many and not args.quiet, "compress"):
        dst = output_path(src, args.output, many, ".taco")
        _check_overwrite(dst, args.force)
        image = load_image(src)
        t0 = time.perf_counter()
        res = compress_image(image, caption, model, quality=quality)
        ms = 1000 * (time.perf_counter() - t0)
        dst.write_bytes(res.data)
        total_bytes += len(res.data)
        total_pixels += res.height * res.width
        if not args.quiet:
            print(f"{src} -> {dst}: {res.width}x{res.height}, {len(res.data)} bytes, "
                  f"{res.bpp:.4f} bpp, {ms:.0f} ms")
    secs = time.perf_counter() - t_all
    at = f" at quality {quality}" if quality is not None else ""
    print(f"compressed {len(files)} image(s) with {model.model_id}{at}: {total_bytes} bytes, "
          f"{8 * total_bytes / total_pixels:.4f} bpp overall, {secs:.2f} s")
    return 0


def cmd_decompress(args: argparse.Namespace) -> int:
    from .bitstream import unpack
    from .codec import decompress

    files = expand_inputs(args.files, {".taco"})
    many = len(files) > 1
    models: dict[str, ELIC] = {}
    t_all = time.perf_counter()
    for src in _progress(files, many and not args.quiet, "decompress"):
        data = src.read_bytes()
        header = unpack(data).header
        key = args.model or header.model_id
        if key not in models:
            models[key] = _model(key)
        dst = output_path(src, args.output, many, ".png" if args.output else ".decoded.png")
        _check_overwrite(dst, args.force)
        t0 = time.perf_counter()
        image = decompress(data, models[key], max_pixels=args.max_pixels or None)
        ms = 1000 * (time.perf_counter() - t0)
        image.save(dst)
        if not args.quiet:
            print(f"{src} -> {dst}: {image.width}x{image.height} {image.mode}, {ms:.0f} ms")
    print(f"decompressed {len(files)} file(s) in {time.perf_counter() - t_all:.2f} s")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .bitstream import unpack

    for src in map(Path, args.files):
        data = src.read_bytes()
        f = unpack(data)
        h = f.header
        info = {
            "file": str(src),
            "format_version": h.version,
            "model_id": h.model_id,
            "model_fingerprint": h.fingerprint.hex(),
            "quality": h.quality,
            "width": h.width,
            "height": h.height,
            "original_mode": h.mode,
            "bytes": len(data),
            "header_bytes": f.header_bytes,
            "payload_bytes": f.payload_bytes,
            "bpp": 8 * len(data) / (h.width * h.height),
        }
        if args.json:
            print(json.dumps(info))
        else:
            print("\n".join(f"{k:>18}: {v}" for k, v in info.items()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(model_name=args.model, image=args.image, caption=args.caption, out_dir=Path(args.output))
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="taco",
        description="TACO: text-guided neural image compression. A caption guides the encoder; "
        "the decoder needs only the .taco file.",
    )
    p.add_argument("--version", action="version", version=f"taco {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    model_help = (f"trained model name, checkpoint file (.safetensors), or architecture name "
                  f"(random seed-0 weights); default: {DEFAULT_MODEL}")

    c = sub.add_parser("compress", help="images -> .taco files, guided by captions",
                       description="Compress images into .taco files. Each image needs a caption: "
                       "--caption for all, --captions FILE.jsonl, a sidecar IMG.txt, or a "
                       "captions.jsonl beside the images (in this order).")
    c.add_argument("images", nargs="+", help="image files or folders of images")
    c.add_argument("--caption", help="caption for every image ('' to code without one)")
    c.add_argument("--captions", metavar="FILE.jsonl",
                   help='captions file, one {"image": NAME, "captions": [TEXT, ...]} per line')
    c.add_argument("-o", "--output", help="output file (one input) or folder (default: beside each image)")
    c.add_argument("-m", "--model", help=model_help)
    c.add_argument("--clip-path", metavar="DIR",
                   help="local folder with openai/clip-vit-base-patch32 (for models using the CLIP "
                   "text encoder when it is not in the Hugging Face cache; same as TACO_CLIP_PATH)")
    c.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    c.add_argument("-q", "--quality", type=int, metavar="N",
                   help="quality 1..Q of a variable-rate model (higher: more bytes, a better "
                   "image; the file records it); default: its middle one. A single-rate model "
                   "(one per λ) takes none")
    c.add_argument("--quiet", action="store_true", help="print only the summary line")
    c.set_defaults(func=cmd_compress)

    d = sub.add_parser("decompress", help=".taco files -> PNG images (no caption needed)",
                       description="Decode .taco files to PNG. No caption is needed or used.")
    d.add_argument("files", nargs="+", help=".taco files or folders")
    d.add_argument("-o", "--output", help="output file (one input) or folder "
                   "(default: NAME.decoded.png beside each file)")
    d.add_argument("-m", "--model", help="model to decode with (default: the one named in the file)")
    d.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    d.add_argument("--quiet", action="store_true", help="print only the summary line")
    d.add_argument("--max-pixels", type=int, metavar="N", default=MAX_DECODE_PIXELS,
                   help=f"refuse files that declare more than N pixels (default: {MAX_DECODE_PIXELS}, "
                   "decoded in under 2 GB of memory; 0: no cap)")
    d.set_defaults(func=cmd_decompress)

    i = sub.add_parser("info", help="show the header of .taco files",
                       description="Print what a .taco file's header says, without decoding it.")
    i.add_argument("files", nargs="+", help=".taco files")
    i.add_argument("--json", action="store_true", help="one JSON object per file")
    i.set_defaults(func=cmd_info)

    m = sub.add_parser("demo", help="compress and decode a built-in sample photo, print the numbers",
                       description="Compress a built-in sample photo with its caption, decode it "
                       "without the caption, print bpp/PSNR/LPIPS/timings and write the "
                       "reconstruction and a side-by-side PNG.")
    m.add_argument("-m", "--model", default=None, help=model_help)
    m.add_argument("--image", help="use this image instead of the built-in sample")
    m.add_argument("--caption", help="caption for --image (default: the sample's own caption)")
    m.add_argument("-o", "--output", default="taco-demo", help="output folder (default: taco-demo)")
    m.set_defaults(func=cmd_demo)

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from .bitstream import TacoFormatError
    from .images import ImageReadError
    from .models import CheckpointError
    from .text.base import TextEncoderUnavailable

    args = build_parser().parse_args(argv)
    warnings.simplefilter("default")
    try:
        return int(args.func(args))
    except (CLIError, TacoFormatError, ImageReadError, CheckpointError, TextEncoderUnavailable) as exc:
        print(f"taco {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written: missing, a folder, disk full
        print(f"taco {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as exc:  # MemoryError, std::bad_alloc, torch's allocator
        from .memory import OutOfMemoryError, allocation_failure

        what = allocation_failure(exc)
        if what is None:
            raise
        message = what if isinstance(exc, OutOfMemoryError) else f"out of memory: {what}"
        print(f"taco {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
