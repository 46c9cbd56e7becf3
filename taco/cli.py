"""The ``taco`` command line: compress, decompress, info, demo.

Entry points stay thin: parse arguments, hand them to the library, print what happened.

Start-up is part of the interface: this module, and every module in :data:`COMMAND_MODULES`,
imports no torch at the top, so ``taco --help``, ``taco X --help`` and ``taco info`` answer at
once; a command imports what it uses when it runs (tests/test_startup.py checks which modules
each command pays for).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .commands import CLIError
from .memory import MAX_DECODE_PIXELS, decode_memory_estimate
from .resolve import DEFAULT_MODEL
from .suffixes import DECODED_SUFFIX, IMAGE_SUFFIXES

if TYPE_CHECKING:
    from .models.elic import ELIC

#: Modules that add their own subcommands through ``register(subparsers)`` (train, evaluate, ...).
#: Each must import no torch (nor CompressAI, transformers) at module level, its package's
#: ``__init__`` included: ``taco --help`` imports all of them.
COMMAND_MODULES: tuple[str, ...] = ("taco.train.cli", "taco.evaluation.cli", "taco.bench.cli",
                                    "taco.official.cli")

#: Library errors that bad input causes, printed as one line (exit status 2). Named rather than
#: imported: importing them would cost every command a torch import, and an error class whose
#: module was never imported cannot have been raised.
USER_ERRORS: tuple[tuple[str, str], ...] = (
    ("taco.bitstream", "TacoFormatError"),
    ("taco.codec", "ImageSizeError"),
    ("taco.images", "ImageReadError"),
    ("taco.models", "CheckpointError"),
    ("taco.text.base", "TextEncoderUnavailable"),
)
#: The user errors that belong to one input of a batch (and CLIError, raised by a check of one
#: input): that input is reported and skipped, the rest is done. The others (a missing text
#: encoder, a bad --model) would fail every input alike and stop the command.
INPUT_ERRORS: tuple[tuple[str, str], ...] = (
    ("taco.bitstream", "TacoFormatError"),
    ("taco.codec", "ImageSizeError"),
    ("taco.images", "ImageReadError"),
)


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


def expand_inputs(paths: Sequence[str], suffixes: Collection[str], *,
                  skip_in_folders: str | None = None) -> tuple[list[Path], bool]:
    """Files named and files in the folders named -> (files, whether any argument was a folder).
    In a folder, names ending with ``skip_in_folders`` are left out (taco's own outputs)."""
    out: list[Path] = []
    folder = False
    for p in map(Path, paths):
        if p.is_dir():
            folder = True
            try:
                found = sorted(f for f in p.iterdir() if f.suffix.lower() in suffixes and f.is_file()
                               and not (skip_in_folders and f.name.endswith(skip_in_folders)))
            except OSError as exc:
                raise CLIError(f"{p}: cannot list the folder ({exc.strerror})") from None
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise CLIError(f"{p}: no such file or folder")
    if not out:
        kinds = ", ".join(sorted(suffixes))
        raise CLIError(f"no input files ({kinds}) found in {', '.join(paths)}")
    return out, folder


def read_captions_jsonl(path: Path) -> dict[str, str]:
    """``{"image": name, "captions": [...]}`` per line -> {name: first caption}."""
    captions: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CLIError(f"{path}: cannot read captions ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path}: cannot read captions (not UTF-8 text)") from None
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

    def __call__(self, image: Path) -> str | None:
        """The caption of ``image``, or None when it has none."""
        if self.caption is not None:
            return self.caption
        for key in (image.name, str(image)):
            if key in self.table:
                return self.table[key]
        sidecar = image.with_suffix(".txt")
        if sidecar.is_file():
            try:
                return sidecar.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                raise CLIError(f"{sidecar}: cannot read the caption (not readable UTF-8 text)") from None
        folder = image.parent
        if folder not in self._beside:
            f = folder / "captions.jsonl"
            self._beside[folder] = read_captions_jsonl(f) if f.is_file() else {}
        if image.name in self._beside[folder]:
            return self._beside[folder][image.name]
        return None


def uncaptioned_note(images: Sequence[Path], captions: Sequence[str | None]) -> str | None:
    """The one line telling which images a text-guided model codes without a caption, if any."""
    missing = [image for image, caption in zip(images, captions, strict=True) if caption is None]
    if not missing:
        return None
    how = "(a caption guides the encoder: give --caption TEXT, --captions FILE.jsonl, "
    if len(missing) == 1:
        return (f"{missing[0]} has no caption, so it is coded without one {how}"
                f"a sidecar {missing[0].with_suffix('.txt').name}, or a captions.jsonl beside it)")
    return (f"{len(missing)} of {len(images)} images have no caption, so they are coded without one: "
            f"{some_names(missing)} {how}sidecar IMAGE.txt files, or a captions.jsonl beside them)")


def some_names(paths: Sequence[Path], most: int = 5) -> str:
    """``a, b, c, d, e and 2 more``: a list of inputs for one line."""
    more = f" and {len(paths) - most} more" if len(paths) > most else ""
    return ", ".join(str(p) for p in paths[:most]) + more


# --------------------------------------------------------------------------- outputs


def plan_outputs(
    sources: Sequence[Path], out: str | None, *, to_folder: bool, suffix: str,
    beside_suffix: str, force: bool,
) -> list[Path]:
    """One output path per source, checked before any work (so nothing fails after the work).

    Without ``out`` each output goes beside its source (``NAME + beside_suffix``). ``out`` is a
    folder when ``to_folder`` (a folder or several files in), when it is an existing folder or
    when it ends with a slash; the folder is created (with its parents). Otherwise ``out`` is the
    one output file and its folder must exist. Refused, with one line each: an output folder that
    is a file or not writable, a missing or unwritable folder for the output file, two sources
    with the same output, an output that is one of the inputs, and outputs that exist already
    (unless ``force``).
    """
    if out is None:
        dsts = [src.with_name(src.stem + beside_suffix) for src in sources]
        folders = sorted({d.parent for d in dsts})
    else:
        o = Path(out)
        if to_folder or o.is_dir() or out.endswith(("/", os.sep)):
            if o.exists() and not o.is_dir():
                raise CLIError(f"{o} exists and is not a folder (the output of a folder or of "
                               "several files is a folder)")
            dsts = [o / (src.stem + suffix) for src in sources]
            folders = [o]
        else:
            dsts = [o]
            folders = [o.parent]
    for folder in folders:
        _check_folder(folder, create=out is not None and folder == Path(out))
    seen: dict[Path, Path] = {}
    for src, dst in zip(sources, dsts, strict=True):
        if dst in seen:
            raise CLIError(f"{seen[dst]} and {src} would both be written to {dst}; "
                           "compress them into separate folders")
        seen[dst] = src
    inputs = {s.resolve() for s in sources}
    for dst in dsts:
        if dst.resolve() in inputs:
            raise CLIError(f"{dst} is an input; it cannot be its own output")
    existing = [d for d in dsts if d.exists()]
    if existing and not force:
        if len(existing) == 1:
            raise CLIError(f"{existing[0]} exists; pass --force to overwrite it")
        raise CLIError(f"{existing[0]} and {len(existing) - 1} more outputs exist; "
                       "pass --force to overwrite them")
    if force:
        for d in existing:
            if d.is_dir():
                raise CLIError(f"{d} is a folder; it cannot be overwritten by a file")
    return dsts


def _check_folder(folder: Path, *, create: bool) -> None:
    """Raise a one-line :class:`CLIError` unless files can be written into ``folder``."""
    if folder.is_dir():
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CLIError(f"cannot write into {folder}: permission denied")
        return
    if folder.exists():
        raise CLIError(f"{folder} is not a folder")
    if not create:
        raise CLIError(f"folder {folder} does not exist (create it first, or give a folder "
                       "ending with / to -o)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create the output folder {folder}: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    """An OSError without its ``[Errno N]`` prefix: ``strerror``, else the message."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _os_error_line(exc: OSError) -> str:
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    return f"{where}: {_reason(exc)}" if where else _reason(exc)


def _check_image_format(path: Path, modes: set[str]) -> None:
    """Refuse, before decoding, an output suffix Pillow cannot write or a mode it cannot hold."""
    import io

    from PIL import Image

    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise CLIError(f"{path}: cannot write {path.suffix or 'files without a suffix'} images; "
                       "use .png (lossless), or .tif, .webp, .bmp, ...")
    for mode in sorted(modes):
        try:
            Image.new(mode, (1, 1)).save(io.BytesIO(), format=fmt)
        except (OSError, ValueError, KeyError):
            raise CLIError(f"{path}: {fmt} cannot hold the decoded {mode} image; use .png") from None


@contextmanager
def _input_warnings(command: str, src: Path, about_input: tuple[type[Warning], ...]) -> Iterator[None]:
    """Print the warnings raised while one input is processed, one line each: those about the
    input (``about_input``: alpha dropped, caption truncated, ...) as ``taco CMD: warning: SRC:
    MESSAGE`` for every input they concern, any other once, without source lines."""
    others: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            for category in about_input:
                warnings.simplefilter("always", category)
            try:
                yield
            finally:
                seen: set[str] = set()
                for w in caught:
                    text = str(w.message)
                    if text in seen:
                        continue
                    seen.add(text)
                    if issubclass(w.category, about_input):
                        print(f"taco {command}: warning: {src}: {text}", file=sys.stderr)
                    else:
                        others.append(w)
    finally:
        for w in others:  # through the command's printer, restored by now
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _warning_printer(command: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` for one command: warnings outside an image's own lines, each
    text once and without source code: taco's own (a photo's colour profile met in training,
    which names the photo) as ``taco CMD: warning: MESSAGE``, a library's
    (deprecations, ...) as ``warning: CATEGORY: MESSAGE``. Python's "default" action means once
    per place, but every ``catch_warnings`` forgets which places have warned (a training run
    loading a photo with a colour profile each epoch would say so each epoch)."""
    shown: set[str] = set()

    def show(message: Any, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        ours = category.__module__.partition(".")[0] == "taco"  # without importing them here
        text = f"taco {command}: warning: {message}" if ours else f"warning: {category.__name__}: {message}"
        if text not in shown:
            shown.add(text)
            print(text, file=file or sys.stderr)

    return show


# --------------------------------------------------------------------------- commands


def cmd_compress(args: argparse.Namespace) -> int:
    if args.clip_path:
        os.environ["TACO_CLIP_PATH"] = args.clip_path
    files, from_folder = expand_inputs(args.images, IMAGE_SUFFIXES, skip_in_folders=DECODED_SUFFIX)
    captions = CaptionSource(args.caption, args.captions)
    found = [captions(f) for f in files]  # before any work starts
    many = len(files) > 1
    dsts = plan_outputs(files, args.output, to_folder=from_folder or many, suffix=".taco",
                        beside_suffix=".taco", force=args.force)

    from .atomic import write_bytes_atomic
    from .codec import coding_quality, compress_image
    from .images import ImageConversionWarning, load_image
    from .progress import StageReporter
    from .text.base import CaptionTruncatedWarning

    about_input = (ImageConversionWarning, CaptionTruncatedWarning)
    model = _model(args.model)
    try:
        quality = coding_quality(model, args.quality)
    except ValueError as e:
        raise CLIError(str(e)) from None
    note = uncaptioned_note(files, found) if model.uses_text else None
    if note:
        print(f"taco compress: note: {note}", file=sys.stderr, flush=True)
    jobs = [(src, caption or "") for src, caption in zip(files, found, strict=True)]
    total_bytes = total_pixels = 0
    failures = _Failures("compress")
    t_all = time.perf_counter()
    for i, ((src, caption), dst) in enumerate(zip(jobs, dsts, strict=True), 1):
        count = f"[{i}/{len(jobs)}] " if many else ""
        try:
            with (_input_warnings("compress", src, about_input),
                  StageReporter(f"{count}{src}", delay=_stage_delay(args)) as progress):
                progress("reading", 0, 1)
                image = load_image(src)
                t0 = time.perf_counter()
                res = compress_image(image, caption, model, quality=quality, progress=progress)
                ms = 1000 * (time.perf_counter() - t0)
                write_bytes_atomic(dst, res.data)
        except Exception as exc:
            if not failures.skip(src, exc):
                raise
            continue
        total_bytes += len(res.data)
        total_pixels += res.height * res.width
        if res.height * res.width > MAX_DECODE_PIXELS:
            print(f"taco compress: warning: {dst}: {res.width}x{res.height} is over the decoder's "
                  f"default cap of {MAX_DECODE_PIXELS:,} pixels: decode it with taco decompress "
                  f"--max-pixels 0 (about {decode_memory_estimate(res.height * res.width) / 2**30:.1f} "
                  "GiB with the built-in models)", file=sys.stderr)
        if not args.quiet:
            turned = image.info.get("exif_orientation", 1)
            note = f" (EXIF orientation {turned} applied)" if turned != 1 else ""
            print(f"{count}{src} -> {dst}: {res.width}x{res.height}{note}, {len(res.data)} bytes, "
                  f"{res.bpp:.4f} bpp, {ms:.0f} ms", flush=True)
    secs = time.perf_counter() - t_all
    at = f" at quality {quality}" if quality is not None else ""
    done = len(files) - len(failures.inputs)
    overall = f"{8 * total_bytes / total_pixels:.4f} bpp overall, " if done else ""
    if done or many:
        print(f"compressed {done} image(s) with {model.model_id}{at}: {total_bytes} bytes, "
              f"{overall}{secs:.2f} s")
    return failures.status(len(files), "image(s)")


def cmd_decompress(args: argparse.Namespace) -> int:
    files, from_folder = expand_inputs(args.files, {".taco"})
    many = len(files) > 1
    failures = _Failures("decompress")
    headers: dict[Path, Any] = {}
    for src in files:  # every file checked first, with the decoder's own cap, before any model loads
        try:
            headers[src] = h = read_taco(src).header
            pixels = h.width * h.height
            if args.max_pixels and pixels > args.max_pixels:
                raise CLIError(
                    f"{src}: this file declares a {h.width}x{h.height} image ({pixels:,} pixels), "
                    f"over the decoder's cap of {args.max_pixels:,}; decoding it would take about "
                    f"{decode_memory_estimate(pixels) / 2**30:.1f} GiB with the built-in models: "
                    "pass --max-pixels 0 to decode it anyway")
        except Exception as exc:
            if not failures.skip(src, exc):
                raise
            headers.pop(src, None)
    dsts = plan_outputs(files, args.output, to_folder=from_folder or many, suffix=".png",
                        beside_suffix=DECODED_SUFFIX, force=args.force)
    for dst in set(dsts):
        _check_image_format(dst, {h.mode for h in headers.values()})

    import io

    from .atomic import write_bytes_atomic
    from .codec import decompress
    from .progress import StageReporter

    models: dict[str, ELIC] = {}
    if args.model:
        models[args.model] = _model(args.model)
    for src, h in list(headers.items()):  # every model is found before any decoding
        key = args.model or h.model_id
        try:
            if key not in models:
                models[key] = _model(key)
        except Exception as exc:  # the model this file names is not here: the file's failure
            if not failures.skip(src, exc, (("taco.models", "CheckpointError"),)):
                raise
            del headers[src]
    t_all = time.perf_counter()
    for i, (src, dst) in enumerate(zip(files, dsts, strict=True), 1):
        if src not in headers:
            continue
        count = f"[{i}/{len(files)}] " if many else ""
        model = models[args.model or headers[src].model_id]
        try:
            with StageReporter(f"{count}{src}", delay=_stage_delay(args)) as progress:
                t0 = time.perf_counter()
                image = decompress(src.read_bytes(), model, max_pixels=args.max_pixels or None,
                                   progress=progress)
                ms = 1000 * (time.perf_counter() - t0)
                progress("writing", 0, 1)
                buf = io.BytesIO()
                image.save(buf, format=_save_format(dst))
                write_bytes_atomic(dst, buf.getvalue())
        except Exception as exc:
            if not failures.skip(src, exc):
                raise
            continue
        if not args.quiet:
            print(f"{count}{src} -> {dst}: {image.width}x{image.height} {image.mode}, {ms:.0f} ms",
                  flush=True)
    done = len(files) - len(failures.inputs)
    if done or many:
        print(f"decompressed {done} file(s) in {time.perf_counter() - t_all:.2f} s")
    return failures.status(len(files), "file(s)")


class _Failures:
    """The inputs of one batch command that failed alone: each is reported on one line when it
    fails and skipped, the rest of the batch is still done, and :meth:`status` ends the command."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.inputs: list[Path] = []

    def skip(self, src: Path, exc: Exception, also: Sequence[tuple[str, str]] = ()) -> bool:
        """Whether ``exc`` is a failure of the input ``src`` alone (:data:`INPUT_ERRORS`,
        ``also``, a CLIError of its checks, running out of memory on it): then it is reported
        now, naming the input, and counted. False for anything else (a missing text encoder, a
        bug), which stops the command as ``main`` reports it."""
        if not (isinstance(exc, CLIError) or _is_one_of(exc, (*INPUT_ERRORS, *also))
                or allocation_failure_line(exc)):
            return False
        text = error_line(exc)
        where = "" if str(src) in str(text) else f"{src}: "
        print(f"taco {self.command}: error: {where}{text}", file=sys.stderr, flush=True)
        self.inputs.append(src)
        return True

    def status(self, total: int, what: str) -> int:
        """The exit status: 0, or 2 when an input failed, after one line naming them in a batch."""
        failed = self.inputs
        if not failed:
            return 0
        if total > 1:
            print(f"taco {self.command}: error: {len(failed)} of {total} {what} failed: "
                  f"{some_names(failed)}",
                  file=sys.stderr)
        return 2


def _stage_delay(args: argparse.Namespace) -> float:
    """Seconds before an image's stages are shown on stderr: 2, or never with --quiet."""
    return float("inf") if args.quiet else 2.0


def _save_format(path: Path) -> str:
    from PIL import Image

    return Image.registered_extensions()[path.suffix.lower()]


def read_taco(path: Path) -> Any:
    """Read and parse a ``.taco`` file; a bad one is a :class:`CLIError` naming the file."""
    from .bitstream import TacoFormatError, unpack

    try:
        return unpack(path.read_bytes())
    except TacoFormatError as exc:
        raise CLIError(f"{path}: {exc}") from None


def cmd_info(args: argparse.Namespace) -> int:
    files, _ = expand_inputs(args.files, {".taco"})
    failures = _Failures("info")
    shown = 0
    for src in files:
        try:
            f = read_taco(src)
        except Exception as exc:
            if failures.skip(src, exc):  # reported; the other files are still read
                continue
            raise
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
            "bytes": f.header_bytes + f.payload_bytes,
            "header_bytes": f.header_bytes,
            "payload_bytes": f.payload_bytes,
            "bpp": round(8 * (f.header_bytes + f.payload_bytes) / (h.width * h.height), 4),
        }
        if args.json:
            print(json.dumps(info), flush=True)
        else:
            if not h.quality:
                info["quality"] = "- (single-rate model)"  # the header's 0
            blank = "\n" if shown else ""  # a blank line between files
            print(blank + "\n".join(f"{k:>18}: {v}" for k, v in info.items()), flush=True)
        shown += 1
    return failures.status(len(files), "file(s)")


_TEXT_NAMES = {"clip": "CLIP", "clip-tiny": "tiny CLIP", "minilm": "MiniLM"}


def _model_kind(info: dict[str, Any]) -> str:
    """``TACO + MiniLM``, ``TACO (TGIC) + CLIP``, ``ELIC``: one model's kind, for a table."""
    if info["architecture"] == "elic":
        return "ELIC"
    tgic = " (TGIC)" if info["config"].get("text_injection") == "tgic" else ""
    return f"TACO{tgic} + {_TEXT_NAMES.get(info['text_encoder'], info['text_encoder'])}"


def _model_rate(info: dict[str, Any]) -> str:
    if info["qualities"]:
        return f"{len(info['qualities'])} qualities"
    return f"λ {info['lmbda']:g}" if info["lmbda"] is not None else "single rate"


def _training_line(t: dict[str, Any]) -> str:
    """What a checkpoint's training wrote into it, in one line."""
    parts = [f"{t['trained_steps_total']:,} steps" if "trained_steps_total" in t else None,
             f"{t['epochs']:.1f} epochs" if isinstance(t.get("epochs"), (int, float)) else None,
             f"{t['wall_time_s']:.0f} s" if isinstance(t.get("wall_time_s"), (int, float)) else None,
             f"on {t['device']} x {t.get('world_size', 1)}" if "device" in t else None,
             f"batch {t['global_batch']}" if "global_batch" in t else None]
    data = t.get("train_data")
    if isinstance(data, dict) and data.get("root"):
        parts.append(f"data {data['root']}" + (f" ({data['images']} images)" if "images" in data else ""))
    return ", ".join(p for p in parts if p)


def cmd_models(args: argparse.Namespace) -> int:
    import textwrap

    from .models import describe_model, list_models
    from .resolve import DEFAULT_MODEL

    names = args.names or list_models()
    try:
        infos = [describe_model(n) for n in names]
    except KeyError as exc:
        name = exc.args[0]
        raise CLIError(f"no model {name!r} (a name, or a checkpoint file); the models are: "
                       f"{', '.join(list_models())}") from None
    if args.json:
        for info in infos:
            print(json.dumps({**info, "default": info["name"] == DEFAULT_MODEL}), flush=True)
        return 0
    if args.names:  # each one in full
        for i, info in enumerate(infos):
            training = info.get("training")
            lines = {"name": info["name"] + (" (the default)" if info["name"] == DEFAULT_MODEL else ""),
                     "model id": info.get("model_id"),
                     "trained": ("yes (a checkpoint file)" if training is not None else
                                 "yes (ships with taco)" if info["trained"] else
                                 "no: random seed-0 weights until trained (taco train --set model=NAME)"),
                     "training": _training_line(training) if training else None,
                     "model": _model_kind(info), "rate": _model_rate(info),
                     "qualities (λ)": ", ".join(f"{q}: {lmbda:g}" for q, lmbda in
                                                enumerate(info["qualities"] or [], 1)) or None,
                     "parameters": f"{info['parameters']:,}",
                     "width": f"N={info['config']['N']}, M={info['config']['M']}, "
                              f"groups {'/'.join(map(str, info['config']['groups']))}",
                     "file": info.get("file"),
                     "file size": f"{info['file_bytes'] / 1e6:.1f} MB" if info.get("file_bytes") else None,
                     "sha256": info.get("sha256"), "trained on": info.get("trained_on")}
            print(("\n" if i else "") + "\n".join(f"{k:>14}: {v}" for k, v in lines.items() if v))
            if info.get("description"):
                print(textwrap.fill(info["description"], 96, initial_indent=" " * 16,
                                    subsequent_indent=" " * 16))
        return 0
    width = max(len(i["name"]) for i in infos) + 2
    kind_width = max(len(_model_kind(i)) for i in infos)
    for trained, title in ((True, "Trained models (ship with taco: --model NAME):"),
                           (False, "Architectures (random seed-0 weights until trained: "
                                   "taco train --set model=NAME):")):
        group = [i for i in infos if i["trained"] == trained]
        if not group:
            continue
        print(title)
        for info in group:
            mark = "*" if info["name"] == DEFAULT_MODEL else " "
            size = f"  {info['file_bytes'] / 1e6:5.1f} MB" if info.get("file_bytes") else ""
            print(f"  {info['name']:<{width}}{mark} {_model_kind(info):<{kind_width}}  {_model_rate(info):<12} "
                  f"{info['parameters'] / 1e6:6.2f} M parameters{size}")
    print("* the default. taco models NAME: one model in full.")
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
                  f"(random seed-0 weights; taco models lists the names); default: {DEFAULT_MODEL}")

    c = sub.add_parser("compress", help="images -> .taco files, guided by captions",
                       description="Compress images into .taco files. A caption guides the encoder: "
                       "--caption for all, --captions FILE.jsonl, a sidecar IMG.txt, or a "
                       "captions.jsonl beside the images (looked up in this order); an image "
                       "without one is coded with an empty caption (a note names it). The EXIF orientation "
                       "is applied; alpha, 16-bit depth, CMYK and palettes are not kept (a "
                       "warning says so).")
    c.add_argument("images", nargs="+", help="image files or folders of images (in a folder, "
                   "taco's own outputs NAME.decoded.png are left out)")
    c.add_argument("--caption", help="caption for every image ('' to code without one)")
    c.add_argument("--captions", metavar="FILE.jsonl",
                   help='captions file, one {"image": NAME, "captions": [TEXT, ...]} per line')
    c.add_argument("-o", "--output", help="output file (one image in) or folder (a folder or "
                   "several images in; created if missing); default: NAME.taco beside each image")
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
    d.add_argument("-o", "--output", help="output image (one file in; its suffix picks the "
                   "format) or folder (a folder or several files in; created if missing); "
                   "default: NAME.decoded.png beside each file")
    d.add_argument("-m", "--model", help="model to decode with (default: the one named in the file)")
    d.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    d.add_argument("--quiet", action="store_true", help="print only the summary line")
    d.add_argument("--max-pixels", type=int, metavar="N", default=MAX_DECODE_PIXELS,
                   help=f"refuse files that declare more than N pixels (default: {MAX_DECODE_PIXELS}, "
                   "decoded in under 2 GB of memory; 0: no cap)")
    d.set_defaults(func=cmd_decompress)

    i = sub.add_parser("info", help="show the header of .taco files",
                       description="Print what a .taco file's header says, without decoding it.")
    i.add_argument("files", nargs="+", help=".taco files or folders of them")
    i.add_argument("--json", action="store_true",
                   help="one JSON object per file (quality 0: a single-rate model)")
    i.set_defaults(func=cmd_info)

    ls = sub.add_parser("models", help="list the built-in trained models and the architectures",
                        description="List the trained models that ship with taco and the "
                        "architectures it can build (parameters, rate, file size), or show "
                        "the named ones, or checkpoint files, in full (a checkpoint's training "
                        "record too). Nothing is loaded but the checkpoints' headers.")
    ls.add_argument("names", nargs="*", metavar="NAME",
                    help="show these models in full: names, or checkpoint files (.safetensors)")
    ls.add_argument("--json", action="store_true", help="one JSON object per model")
    ls.set_defaults(func=cmd_models)

    m = sub.add_parser("demo", help="compress and decode a built-in sample photo, print the numbers",
                       description="Compress a built-in sample photo with its caption, decode it "
                       "without the caption, print bpp/PSNR/LPIPS/timings, the same for JPEG, "
                       "WebP and AVIF at the nearest file size they make, and write the "
                       "reconstruction and a side-by-side PNG.")
    m.add_argument("-m", "--model", default=None, help=model_help)
    m.add_argument("--image", help="use this image instead of the built-in sample")
    m.add_argument("--caption", help="caption for --image (default: the sample's own caption)")
    m.add_argument("-o", "--output", default="taco-demo", help="output folder (default: taco-demo)")
    m.set_defaults(func=cmd_demo)

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is bad input (printed as one line) rather than a bug (a traceback)."""
    return isinstance(exc, (CLIError, OSError)) or _is_one_of(exc, USER_ERRORS)


def _is_one_of(exc: BaseException, names: Sequence[tuple[str, str]]) -> bool:
    """Whether ``exc`` is an instance of one of the (module, class name) ``names``; a module not
    imported yet cannot have raised it."""
    for module, name in names:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return True
    return False


def error_line(exc: BaseException) -> str | None:
    """The one line a person sees for ``exc``: bad input (:func:`is_user_error`) or an allocation
    failure (MemoryError, std::bad_alloc, torch's allocator); None for anything else, a bug that
    deserves its traceback."""
    if is_user_error(exc):
        # OSError: a file that cannot be read or written (missing, a folder, disk full)
        return _os_error_line(exc) if isinstance(exc, OSError) else str(exc)
    return allocation_failure_line(exc)


def allocation_failure_line(exc: BaseException) -> str | None:
    """What an allocation failure (MemoryError, std::bad_alloc, torch's allocator) says, in one
    line; None if ``exc`` is not one."""
    from .memory import OutOfMemoryError, allocation_failure

    what = allocation_failure(exc)
    if what is None:
        return None
    return what if isinstance(exc, OutOfMemoryError) else f"out of memory: {what}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():  # the caller's filters and showwarning come back after
        warnings.simplefilter("default")
        warnings.showwarning = _warning_printer(args.command)
        try:
            return int(args.func(args))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # `taco models | head`: the reader has gone; so do we, quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
            return 141  # as a program ended by SIGPIPE
        except Exception as exc:
            text = error_line(exc)
            if text is None:
                raise
            print(f"taco {args.command}: error: {text}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
