"""``taco compress``: images -> ``.taco`` files, guided by captions."""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import special_file
from ..memory import MAX_DECODE_PIXELS, MAX_ENCODE_PIXELS, decode_memory_text
from ..messages import count, note, shell_word, shown_path, some, to_stderr
from ..suffixes import DECODED_SUFFIX, IMAGE_SUFFIXES
from .common import (
    COMMAND_HELP,
    MODEL_HELP,
    CLIError,
    Failures,
    add_existing_options,
    command_model,
    input_warnings,
    non_negative_int,
    path_arg,
    positive_int,
)
from .files import (
    STDIN,
    another_photo,
    is_regular_file,
    names_one_file,
    plan_outputs,
    read_taco,
    refuse_system_name,
    report_to,
    rest_hint,
    without_existing,
    write_output,
)
from .inputs import (
    CaptionSource,
    SidecarUnreadable,
    camera_raw,
    caption_file_note,
    expand_inputs,
    read_stdin_image,
    refuse_taco_input,
    uncaptioned_note,
)
from .progress_line import StageReporter, stage_delay

if TYPE_CHECKING:
    from ..captions_file import CaptionLookup
    from ..codec import CompressResult
    from ..models.elic import ELIC
    from ..resolve import ResolvedModel

#: How ``--skip-existing`` tells an output already made here: a .taco of the same name holding
#: an image of another size is another photo's (:func:`taco.cli.files.another_photo`).
_MATCHED = "by name and image size"


def register(sub: Any) -> None:
    """Add ``taco compress`` to the ``taco`` command line (see :data:`taco.cli.COMMAND_MODULES`)."""
    c = sub.add_parser("compress", help=COMMAND_HELP["compress"],
                       description="Compress images into .taco files. A caption guides the encoder: "
                       "--caption for all, or --captions FILE.jsonl (then the only source), else a "
                       "sidecar IMG.txt, else a captions.jsonl beside the images; an image "
                       "without one is coded with an empty caption (a note names it). The EXIF orientation "
                       "is applied; alpha, 16-bit depth, CMYK and palettes are not kept (a "
                       "warning says so), nor is other metadata (EXIF date, camera and GPS, XMP, "
                       "IPTC, PNG text chunks; a note says so). Colours are coded as sRGB: a colour "
                       "profile (ICC, RGB or grey; a PNG gamma; an EXIF Adobe RGB mark) is applied "
                       "first, with a warning; one that cannot be used, or of another kind than the "
                       "image, is ignored with a warning. "
                       "Camera RAW files (.dng, .cr2, .nef, ...) are not read: export a TIFF, "
                       "JPEG or PNG first. --skip-existing leaves an output of the same name "
                       "only when it holds an image of the same size; another is refused; a note "
                       "says when one left was made with another model or quality (or, when an image is "
                       "left to code, with other weights of the same model), or is over the "
                       "--max-bytes or --target-bpp limit of its image.")
    c.add_argument("images", nargs="+", type=path_arg, help="image files or folders of images (in a folder, "
                   "taco's own outputs NAME.decoded.png beside their source, NAME.<image suffix> or NAME.taco, "
                   "are left out; any other is an image); - reads one image from "
                   "standard input (its .taco goes to standard output unless -o FILE)")
    given = c.add_mutually_exclusive_group()  # each is the only source: one or the other
    given.add_argument("--caption", help="caption for every image ('' to code without one); the "
                       "text encoder reads its first 38 tokens (the paper's m; about 30 words), a "
                       "warning says when it cut one")
    given.add_argument("--captions", "--captions-file", dest="captions", metavar="FILE.jsonl", type=path_arg,
                       help='captions file, one {"image": NAME, "captions": [TEXT, ...]} per line, '
                       "read as given (from the current folder, not inside a folder named); "
                       "the only source of captions when given (not with --caption; sidecars and "
                       "captions.jsonl are not read; an image it does not list has none)")
    c.add_argument("-o", "--output", type=path_arg, help="output file NAME.taco (one image named; - or "
                   "/dev/stdout for standard output) or folder (a folder or several images named; created if "
                   "missing; a new one ending with / where one image is named); default: "
                   "NAME.taco beside each image")
    c.add_argument("-m", "--model", type=path_arg, help=MODEL_HELP)
    c.add_argument("--clip-path", metavar="DIR", type=path_arg,
                   help="local folder with openai/clip-vit-base-patch32 (for models using the CLIP "
                   "text encoder when it is not in the Hugging Face cache; same as TACO_CLIP_PATH); "
                   "used instead of the CLIP folder a trained checkpoint records; unused (a note "
                   "says so) with a model whose text encoder is not CLIP")
    add_existing_options(c, _MATCHED)
    rate = c.add_mutually_exclusive_group()
    rate.add_argument("-q", "--quality", type=int, metavar="N",
                      help="quality 1..Q of a variable-rate model (higher: more bytes, a better "
                      "image; the file records it); default: its middle one. A single-rate model "
                      "(one per λ) takes none")
    rate.add_argument("--max-bytes", type=positive_int, metavar="N",
                      help="instead of -q: the highest quality of a variable-rate model whose "
                      "whole .taco file (header included) is at most N bytes, per image (as cwebp "
                      "-size; the analysis runs once, the entropy coder tries ~log2(Q) qualities); "
                      "an image that does not fit even at quality 1 is an error naming its "
                      "smallest size")
    rate.add_argument("--target-bpp", type=target_bpp, metavar="B",
                      help="instead of -q: --max-bytes floor(B x width x height / 8), per image "
                           f"(0 < B <= {MAX_TARGET_BPP}; raw 8-bit RGB is 24)")
    c.add_argument("--max-pixels", type=non_negative_int, metavar="N", default=MAX_ENCODE_PIXELS,
                   help=f"refuse images of more than N pixels, read from their headers before the "
                   "model loads, or, for standard input and pipes, when they are read "
                   f"(default: {MAX_ENCODE_PIXELS}; {ENCODE_MEMORY}; 0: no cap, "
                   "Pillow's decompression-bomb check lifted too)")
    c.add_argument("--quiet", action="store_true", help="print only the summary line")
    c.set_defaults(func=cmd_compress)


#: What coding takes, for ``--max-pixels``'s help: peak RSS of ``taco compress`` with the default
#: model, 1,253 MiB at 12 MP and 1,569 MiB at 25.2 MP (2026-12-05, 2-core box), ~25 bytes a pixel
#: over ~970 MiB, extrapolated (2,028 MiB was measured at 48 MP: docs/performance.md).
ENCODE_MEMORY = "coding peaks at ~2.1 GiB of memory at 50 MP with the default model, ~3.3 GiB at 100 MP"


#: The largest ``--target-bpp``: far above any image's (raw 8-bit RGB is 24 bpp), low enough that
#: B x width x height stays a number of bytes a file can have.
MAX_TARGET_BPP = 1024


def target_bpp(text: str) -> Fraction:
    """``--target-bpp``'s value: a finite number, 0 < B <= :data:`MAX_TARGET_BPP`, exactly as
    written (``0.7`` is 7/10, so 0.7 bpp of a 96x80 image is 672 bytes, not the 671 a float's
    0.69999... gives)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_TARGET_BPP:
        raise argparse.ArgumentTypeError(f"must be a number > 0 and <= {MAX_TARGET_BPP}, got {text}")
    try:
        return Fraction(text)
    except ValueError:  # a form float reads and Fraction does not
        return Fraction(value)


def bpp_bytes(bpp: Fraction, width: int, height: int) -> int:
    """floor(``bpp`` x width x height / 8): the bytes ``--target-bpp`` gives an image (0 for a
    tiny target: the budget is then raised to 1)."""
    return math.floor(bpp * width * height / 8)


def byte_budget(args: argparse.Namespace, width: int, height: int) -> int | None:
    """The ``max_bytes`` for one width x height image: ``--max-bytes``, or ``--target-bpp`` B as
    floor(B x width x height / 8) (at least 1), or None when coding at a quality."""
    if args.target_bpp is not None:
        return max(1, bpp_bytes(args.target_bpp, width, height))
    return args.max_bytes


def cmd_compress(args: argparse.Namespace) -> int:
    files, from_folder = expand_inputs(args.images, IMAGE_SUFFIXES, skip_in_folders=DECODED_SUFFIX,
                                       note_left_out="compress", command="compress")
    for f in files:  # a .taco named by mistake: say what it is, before its caption is looked up
        refuse_taco_input(f)
    mixed_up = caption_file_note(args.caption)  # --caption FILE meant as --captions FILE
    if mixed_up:
        note("compress", mixed_up)
    # folder or file by the arguments as given: `a.jpg ./a.jpg -o out` (one image once its
    # names are merged) still writes into the folder out, as --help says of several images
    to_folder = from_folder or len(args.images) > 1
    if names_one_file(args.output, to_folder=to_folder):
        refuse_output_name(Path(args.output))
    named = named_rate(args)  # -q or a size target the model cannot take: before the images and torch
    total, many = len(files), len(files) > 1
    batch = files  # what the count runs over (below)
    failures = Failures("compress")
    cap = args.max_pixels or None
    # no output planned; the pixel cap from the headers, before the model loads
    files = [f for f in files if not _refused(f, failures, camera_raw(f) or over_cap(f, cap))]
    if not files:
        return _none_left(failures, total)
    source = CaptionSource(args.caption, args.captions, folders=[p for p in args.images if p != "-"])
    caption_of = captions_of(files, source, failures, many)
    if not caption_of:
        return _none_left(failures, total)
    files = list(caption_of)
    dsts = plan_outputs(files, args.output, to_folder=to_folder, suffix=".taco",
                        beside_suffix=".taco", force=args.force, skip_existing=args.skip_existing,
                        command="compress", matches=_MATCHED)
    kept: dict[Path, Path] = {}  # --skip-existing: the images skipped, their outputs
    if args.skip_existing:
        files, dsts, kept = without_done(files, dsts, failures)
        if not files:  # said without loading the model: its id and quality from its config and header
            if named is None:  # a --model that names no model: refused as without --skip-existing
                command_model(args.model, "compress")
            model_id, early_quality = named or (None, args.quality)  # None: not known, not compared
            kept_note = kept_settings_note(kept.values(), model_id, early_quality, limit=args)
            if kept_note:
                note("compress", kept_note)
            return _none_left(failures, total)
    # the inputs the count ([2/3]) and the exit status run over, as taco decompress counts them:
    # all but those skipped; one refused before coding keeps its place ([1/1] read oddly beside
    # "1 of 2 images failed")
    batch = [f for f in batch if f not in kept]
    place = {src: i for i, src in enumerate(batch, 1)}
    considered = len(batch)

    resolved = command_model(args.model, "compress")  # first: a mistyped name is refused before torch loads
    model = resolved.model

    from ..images import ImageConversionWarning
    from ..models import model_fingerprint
    from ..text import model_text_encoder, model_text_encoder_spec
    from ..text.base import CaptionTruncatedWarning
    from ..text.clip import CLIP_PATH_ENV

    if args.clip_path:  # read where the clip text encoder is built (taco.text.model_text_encoder)
        os.environ[CLIP_PATH_ENV] = args.clip_path
        spec = model_text_encoder_spec(model)
        if spec is None:
            note("compress", f"--clip-path is unused: {model.model_id} reads no text (a text-free model)")
        elif spec["name"] != "clip":
            note("compress", f"--clip-path is unused: {model.model_id}'s text encoder is {spec['name']}")

    about_input = (ImageConversionWarning, CaptionTruncatedWarning)
    sized = args.max_bytes is not None or args.target_bpp is not None
    quality = rate_of(args, model.model_id, model.qualities)  # the model's own, as loaded
    # the model's text encoder (shared: compress_image takes this one), before any image is read:
    # a recorded folder that is gone, or tokens of the wrong width, are said once, naming the folder
    model_text_encoder(model)
    if args.skip_existing:
        kept_note = kept_settings_note(kept.values(), model.model_id, quality, model_fingerprint(model), limit=args)
        if kept_note:
            note("compress", kept_note)
    report = report_to(dsts)
    totals = Totals()
    t_all = time.perf_counter()

    def code(i: int, src: Path, dst: Path) -> tuple[bool, Callable[[], None]]:
        label = f"[{i}/{considered}] " if many else ""
        profiles: list[str] = []  # in a batch, the colour profile converted: said at the end
        with (input_warnings("compress", src, about_input, keeping_profiles(profiles) if many else None),
              StageReporter(f"{label}{shown_path(src)}", delay=stage_delay(args)) as progress):
            res, turned, budget, ms, written = code_one(args, src, caption_of[src] or "", dst, model,
                                                        quality, cap, progress, totals)

        def counted() -> None:
            totals.add(res, src)
            totals.profiles.extend(profiles[:1])
            if res.height * res.width > MAX_DECODE_PIXELS:
                to_stderr(f"taco compress: warning: {shown_path(dst)}: {res.width}x{res.height} is over the "
                          f"decoder's default cap of {MAX_DECODE_PIXELS:,} pixels: decode it with taco "
                          f"decompress --max-pixels 0 ({decode_memory_text(res.height * res.width)})")
            if not args.quiet:
                report(image_line(label, src, dst, res, turned, budget, ms))
        return written, counted

    stopped = failures.run([(place[src], src, dst) for src, dst in zip(files, dsts, strict=True)], code,
                           total=considered, noun="image", rest=rest_hint(dsts, args.force),
                           also=(("taco.codec", "SizeBudgetError"),))
    if stopped is not None:  # said: no summary, the batch did not end
        return stopped
    if totals.done:  # the images coded: none when every one failed
        caption_note = captions_note(args, model, totals.coded, [caption_of[src] for src in totals.coded],
                                     source.lookup)
        if caption_note:
            note("compress", caption_note)
    end_of_batch(args, resolved, totals, failures, report, quality=quality, sized=sized, many=many,
                 seconds=time.perf_counter() - t_all)
    return failures.status(considered, "image")


def rate_of(args: argparse.Namespace, model_id: str, qualities: Sequence[float] | None) -> int | None:
    """The quality to code at (:func:`taco.models.rates.checked_quality`: ``-q``, else the
    middle one; None for a single-rate model or a size target) for model ``model_id`` with
    ``qualities`` (None: a single rate); a CLIError for a quality it does not have, or for
    ``--max-bytes`` / ``--target-bpp`` with a single-rate model."""
    from ..models.rates import checked_quality, needs_variable_rate  # no torch

    if args.max_bytes is not None or args.target_bpp is not None:
        if qualities is None:
            option = "--max-bytes" if args.max_bytes is not None else "--target-bpp"
            raise CLIError(needs_variable_rate(option, model_id))
        return None
    try:
        return checked_quality(qualities, model_id, args.quality)
    except ValueError as e:
        raise CLIError(str(e)) from None


def named_rate(args: argparse.Namespace) -> tuple[str, int | None] | None:
    """:func:`rate_of` for the model ``--model`` names, read from its config and header
    (:func:`taco.models.rates.named_rates`) before torch, the images and the untrained-weights
    note: (its model id, the quality to code at: ``-q`` or its default, None as for
    :func:`rate_of`); None for a model that cannot be looked up, left to
    :func:`~taco.cli.common.command_model`, which refuses it in its own words. A ``TACO_PLUGINS`` module that fails to import
    (:class:`~taco.models.config.PluginError`) is said here: the import is tried once per
    process, so the later lookup would not see it again."""
    from ..errors import TacoError
    from ..models.config import PluginError
    from ..models.rates import named_rates
    from ..resolve import DEFAULT_MODEL

    try:
        model_id, qualities = named_rates(args.model or DEFAULT_MODEL)
    except PluginError:
        raise
    except (TacoError, OSError):
        return None
    return model_id, rate_of(args, model_id, qualities)


def captions_of(files: list[Path], captions: CaptionSource, failures: Failures,
                many: bool) -> dict[Path, str | None]:
    """{image: its caption, None for none}, in the order of ``files``, for the images whose
    captions could be looked up, before any work starts. An image's own sidecar that cannot be
    read (:class:`SidecarUnreadable`) is that image's failure alone in a batch (``many``), and
    the command's error for one image."""
    found: dict[Path, str | None] = {}
    for f in files:
        try:
            found[f] = captions(f)
        except SidecarUnreadable as exc:
            if not many:
                raise
            failures.skip(f, exc)
    return found


def without_done(files: list[Path], dsts: list[Path],
                 failures: Failures) -> tuple[list[Path], list[Path], dict[Path, Path]]:
    """For ``--skip-existing``: (``files`` and their outputs ``dsts`` without the images whose
    outputs exist, counted as skipped in ``failures``; {image skipped: its output kept}). An
    output of the same name but of another image size is another photo's
    (:func:`taco.cli.files.another_photo`): that image is refused, not skipped."""
    mine = [(src, dst) for src, dst in zip(files, dsts, strict=True)
            if not _refused(src, failures, another_photo(src, dst))]
    failures.skipped, dsts, (files,) = without_existing([dst for _, dst in mine], [src for src, _ in mine])
    left = set(files)
    return files, dsts, {src: dst for src, dst in mine if src not in left}


def kept_settings_note(kept: Iterable[Path], model_id: str | None, quality: int | None,
                       fingerprint: bytes | None = None, *,
                       limit: argparse.Namespace | None = None) -> str | None:
    """For ``--skip-existing``: a note on the outputs ``kept`` that another model or quality
    made than this run's ``model_id`` (None: not known, not compared) with weights
    ``fingerprint`` (:func:`taco.models.model_fingerprint`; None: the model not loaded, not
    compared, so another checkpoint of the same model id is not told) at ``quality`` (None:
    chosen per image by a size budget, a single-rate model, or not known: the model alone
    compared), and, with ``limit`` (the run's arguments) giving --max-bytes or --target-bpp,
    on those whose file is over its image's byte budget (:func:`byte_budget`, of the image size
    in its header), read from their headers; None when each is this run's (or cannot be read:
    it is left as the user had it)."""
    others, over = [], []
    for dst in kept:
        try:
            summary = read_taco(dst)
        except (CLIError, OSError):
            continue
        header = summary.header
        if (model_id is not None and header.model_id != model_id) or (
                fingerprint is not None and header.fingerprint != fingerprint) or (
                quality is not None and header.quality and header.quality != quality):
            others.append((dst, header))
        budget = None if limit is None else byte_budget(limit, header.width, header.height)
        if budget is not None and summary.total_bytes > budget:
            over.append((dst, summary.total_bytes, budget))
    said = []
    if others:
        dst, header = others[0]
        weights = fingerprint is not None and header.model_id == model_id and header.fingerprint != fingerprint
        made = header.model_id + (f" -q {header.quality}" if header.quality else "") + (
            ", other weights" if weights else "")
        this = " ".join(filter(None, [model_id, f"-q {quality}" if quality else ""]))
        said.append(f"{count(len(others), 'output')} kept by --skip-existing "
                    f"{'was' if len(others) == 1 else 'were'} made with another model or quality "
                    f"({shown_path(dst)}: {made}; this run: {this})")
    if over and limit is not None:
        dst, nbytes, budget = over[0]
        option = (f"--max-bytes {limit.max_bytes}" if limit.target_bpp is None  # as the option takes it
                  else f"--target-bpp {float(limit.target_bpp)!r}")
        here = "" if limit.target_bpp is None else f", {count(budget, 'byte')} for its image"
        whose = f"{len(over):,}" if others else f"{count(len(over), 'output')} kept by --skip-existing"
        said.append(f"{whose} {'is' if len(over) == 1 else 'are'} over the {option} limit "
                    f"({shown_path(dst)}: {count(nbytes, 'byte')}{here})")
    if not said:
        return None
    named = {dst for dst, _ in others} | {dst for dst, _, _ in over}  # the outputs the note is about
    return ", and ".join(said) + f": --force codes {'it' if len(named) == 1 else 'them'} again"


def captions_note(args: argparse.Namespace, model: ELIC, files: Sequence[Path],
                  found: Sequence[str | None], lookup: CaptionLookup | None = None) -> str | None:
    """The note on the captions of a run, or None: for a text-guided ``model``, the images coded
    without one (:func:`uncaptioned_note`, with ``lookup``: the one that found their captions,
    so no file is read again); for a text-free one, that --caption or --captions, asked for by
    name, changes nothing."""
    if model.uses_text:
        return uncaptioned_note(files, found, args.captions, lookup)
    if args.caption or args.captions:
        return (f"{model.model_id} takes no caption (a text-free model): "
                f"{'--caption' if args.caption else '--captions'} is not used")
    return None


def code_one(args: argparse.Namespace, src: Path, caption: str, dst: Path, model: ELIC,
             quality: int | None, cap: int | None, progress: Any, totals: Totals,
             ) -> tuple[CompressResult, int, int | None, float, bool]:
    """One image of ``taco compress`` read (under the pixel ``cap``: --max-pixels, None for
    none), coded and written to ``dst``: (its result, its EXIF orientation, its byte budget or
    None, the milliseconds coding took, whether it was written:
    :func:`taco.cli.files.write_output`). An image carrying metadata a .taco file does not keep
    is counted in ``totals``."""
    from ..codec import compress_image
    from ..errors import SizeBudgetError
    from ..images import ImageReadError, cap_refusal, load_image, without_file

    progress("reading", 0, 1)
    data = read_stdin_image() if src is STDIN else None
    try:
        with without_file(src is STDIN):
            image = load_image(src, data=data, max_pixels=cap)
    except ImageReadError as e:  # over the cap: stdin, a pipe, or a header
        # over_cap could not read; e.size is upright, as over_cap words it
        if e.size is None or e.max_pixels is None:
            raise
        raise CLIError(cap_refusal(*e.size, e.max_pixels, LIFT_CAP)) from None
    totals.with_metadata += _carries_metadata(image)
    budget = byte_budget(args, image.width, image.height)
    t0 = time.perf_counter()
    try:
        res = compress_image(image, caption, model, quality=quality, progress=progress, max_bytes=budget)
    except SizeBudgetError as e:  # name the bpp asked for, not only the byte budget it made
        if args.target_bpp is None:
            raise
        exact = bpp_bytes(args.target_bpp, image.width, image.height)
        raise SizeBudgetError(f"--target-bpp {float(args.target_bpp)!r} is {count(exact, 'byte')} here"
                              f"{', raised to 1' if exact < 1 else ''}: {e}") from None
    ms = 1000 * (time.perf_counter() - t0)
    progress("writing", 0, 1)  # not "entropy coding" while an output blocks (a pipe without a reader, NFS)
    written = write_output(dst, res.data, force=args.force, skip_existing=args.skip_existing)
    return res, image.info.get("exif_orientation", 1), budget, ms, written


@dataclass
class Totals:
    """What a ``taco compress`` run has written so far, for its summary line."""

    nbytes: int = 0
    pixels: int = 0
    chosen: set[int] = field(default_factory=set)  # the qualities coded at
    with_metadata: int = 0  # images read with EXIF, XMP or IPTC data a .taco file does not keep
    coded: list[Path] = field(default_factory=list)  # the images written, in order
    #: in a batch, the colour profile each image written was converted from (one per image)
    profiles: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        """The images written."""
        return len(self.coded)

    def add(self, res: CompressResult, src: Path) -> None:
        """Count the file ``res``, coded from the image ``src``, as written."""
        self.coded.append(src)
        self.chosen.add(res.quality)
        self.nbytes += len(res.data)
        self.pixels += res.height * res.width


def image_line(label: str, src: Path, dst: Path, res: CompressResult, turned: int,
               budget: int | None, ms: float) -> str:
    """The line ``taco compress`` prints for an image written: ``[2/3] SRC -> DST: WxH (EXIF
    orientation 6 applied), quality 4 (budget 2000 bytes), BYTES bytes, BPP bpp, MS ms``. The
    orientation where ``turned`` (EXIF) is not 1; quality and budget under --max-bytes or
    --target-bpp (``budget``, None when coding at a quality)."""
    turn = f" (EXIF orientation {turned} applied)" if turned != 1 else ""
    fit = f"quality {res.quality} (budget {budget} bytes), " if budget is not None else ""
    return (f"{label}{shown_path(src)} -> {shown_path(dst)}: {res.width}x{res.height}{turn}, {fit}"
            f"{len(res.data)} bytes, {res.bpp:.4f} bpp, {ms:.0f} ms")


def end_of_batch(args: argparse.Namespace, resolved: ResolvedModel, totals: Totals,
                 failures: Failures, report: Callable[[str], None], *, quality: int | None, sized: bool, many: bool,
                 seconds: float) -> None:
    """The end of ``taco compress``: a note on the colour profiles converted (a batch), one on the
    metadata not kept, and (a batch, or an image written) the summary line on ``report``:
    ``compressed 3 images with MODEL at quality 4: BYTES bytes, BPP bpp overall, SECS s``; under
    --max-bytes/--target-bpp the qualities chosen."""
    from ..bitstream import bits_per_pixel

    chosen = totals.chosen
    if quality is not None:
        at = f" at quality {quality}"
    elif sized and chosen:
        at = (f" at quality {min(chosen)}" if len(chosen) == 1
              else f" at qualities {min(chosen)}..{max(chosen)}")
    else:
        at = ""
    if totals.profiles:
        note("compress", profiles_note(totals.profiles, totals.done))
    if totals.with_metadata:
        n = totals.with_metadata
        whose = "1 image's" if n == 1 else f"{count(n, 'image')}'"
        note("compress", f"{whose} metadata (EXIF, XMP, IPTC or PNG text: date, camera, GPS, author, "
             "copyright) is not kept in .taco files")
    overall = f"{bits_per_pixel(totals.nbytes, totals.pixels):.4f} bpp overall, " if totals.done else ""
    # a checkpoint's model id names its architecture: say which weights, which decoding needs; a
    # name shown escaped (a line feed, a terminal escape) gets the way in words, as pasted it
    # would name another file (shell_word)
    weights = ""
    if resolved.checkpoint is not None:
        weights = (f" ({shown_path(args.model)}; decode with --model "
                   f"{shell_word(args.model, 'naming this file')})")
    if totals.done or many:
        report(f"compressed {count(totals.done, 'image')} with {resolved.model.model_id}{weights}{at}: "
               f"{totals.nbytes} bytes, {overall}{seconds:.2f} s{failures.summary()}")


def keeping_profiles(profiles: list[str]) -> Callable[[Warning | str], bool]:
    """For :func:`taco.cli.common.input_warnings` in a batch: a colour profile's conversion to
    sRGB (a :class:`taco.images.ColourProfileConvertedWarning`) keeps its profile in
    ``profiles``, for :func:`profiles_note`, which counts every image converted; it is not
    printed, unless it also says the alpha channel is dropped (that image's own warning line)."""
    from ..images import ColourProfileConvertedWarning

    def fold(message: Warning | str) -> bool:
        if not isinstance(message, ColourProfileConvertedWarning):
            return False
        profiles.append(message.profile)
        return not message.alpha_dropped
    return fold


def profiles_note(profiles: Sequence[str], done: int) -> str:
    """The note, at the end of a batch, on the images of ``done`` coded whose colours were
    converted from their colour profiles (``profiles``, one name per image) to sRGB: ``5 of 6
    images were converted from their colour profiles (Display P3) to sRGB; they decode as sRGB``,
    naming a few profiles, then how many more."""
    shown, n = some(list(dict.fromkeys(profiles))), len(profiles)
    if n == 1:
        which = "the image" if done == 1 else f"1 of {done} images"
        return f"{which} was converted from its colour profile ({shown}) to sRGB; it decodes as sRGB"
    return f"{n:,} of {done:,} images were converted from their colour profiles ({shown}) to sRGB; they decode as sRGB"


def over_cap(source: Path, cap: int | None) -> str | None:
    """Why the image file ``source`` is refused under ``--max-pixels`` ``cap`` (None: no cap),
    from its header alone (no pixel decoded), worded with its upright size, or None: within the
    cap, or a header Pillow cannot read here (load_image then says what is wrong). Regular files
    only: standard input, a named pipe or a device (``<(cat x.png)``) is None, as it is read once,
    by :func:`taco.images.load_image`, which applies the cap itself (opened here too, a pipe's
    header would be gone and the second open would wait for a writer for ever)."""
    if cap is None or source is STDIN or not is_regular_file(source):
        return None
    from ..images import ConversionNotes, ImageReadError, cap_refusal, open_image, upright_size

    # what Pillow warns of the file is said when it is read whole: dropped here; Pillow's own
    # decompression-bomb check stays in force for a cap within it (moved above a larger cap), and
    # an image it refuses is over the cap: open_image says its size
    try:
        with ConversionNotes(), open_image(source, max_pixels=cap) as im:
            if im.width * im.height <= cap:
                return None
            width, height = upright_size(im)
    except ImageReadError as e:
        if e.size is None:
            return None
        width, height = e.size
    except Exception:  # Pillow raises several types for a file it cannot read
        return None
    return cap_refusal(width, height, cap, LIFT_CAP)


#: How ``taco compress`` says its cap is lifted, ending :func:`taco.images.cap_refusal`.
LIFT_CAP = "pass --max-pixels 0 (or a larger N) to code it anyway, if the file is trusted"


def refuse_output_name(path: Path) -> None:
    """Raise a one-line :class:`CLIError` unless the output file ``path`` (``-o FILE``, one
    image in) ends with ``.taco``: ``-o noext`` wrote a file without a suffix, ``-o x.png`` a
    .taco file under an image's name. Something there that is no regular file (``-o /dev/null``
    to time the encoder, a named pipe) is taken as it is; any other name under /dev or /proc is
    refused (:func:`taco.cli.files.refuse_system_name`: ``-o /dev/stdin < f`` was told "name it
    stdin.taco")."""
    refuse_system_name(path, "compress")
    if path.name.lower().endswith(".taco") or special_file(path):
        return
    suffix = path.suffix
    if not suffix:
        raise CLIError(f"{shown_path(path)}: compress writes a .taco file: name it {path.name}.taco, "
                       f"or {path.name}/ for a folder")
    kind = "image" if suffix.lower() in IMAGE_SUFFIXES else "file"
    raise CLIError(f"{shown_path(path)}: compress writes a .taco file, not a {suffix} {kind}: "
                   f"name it {path.with_suffix('.taco').name}")


def _refused(src: Path, failures: Failures, why: str | None) -> bool:
    """Whether the input ``src`` is refused, ``why`` saying why (None: it is not): then it is
    the failure of that input alone, reported and counted in ``failures``."""
    if why is not None:
        failures.skip(src, CLIError(why))
    return why is not None


def _none_left(failures: Failures, total: int) -> int:
    """The end of a run left with no image to code (all refused or skipped): its summary line
    and exit status, without loading a model."""
    if total > 1 or not failures.inputs:
        print(f"compressed {count(0, 'image')}{failures.summary()}")
    return failures.status(total - failures.skipped, "image")


#: EXIF tags that say who, when, where and with what a photo was taken (date, camera, GPS,
#: copyright, description; the Exif and GPS blocks), besides those that describe the pixels.
_METADATA_TAGS = frozenset({0x010E, 0x010F, 0x0110, 0x0132, 0x013B, 0x8298, 0x8769, 0x8825,
                            0x83BB, 0x02BC, 0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F})


def _carries_metadata(image: Any) -> bool:
    """Whether ``image`` (loaded, its orientation applied and removed from its EXIF) carries
    metadata a ``.taco`` file does not keep: EXIF beyond orientation (date, camera, GPS,
    copyright), XMP, IPTC, or a PNG's text chunks (``Author``, ``Copyright``, ``Description``:
    ``info["source_text"]``, :func:`taco.images.load_image`). A colour profile (ICC, a PNG gamma,
    an EXIF colour space) is applied before coding, or ignored with a warning, not lost unsaid."""
    info = image.info
    if (info.get("xmp") or info.get("XML:com.adobe.xmp") or 0x0404 in (info.get("photoshop") or {})
            or info.get("source_text")):
        return True
    try:
        return bool(_METADATA_TAGS & set(image.getexif()))
    except Exception:  # a broken EXIF block: nothing readable is lost
        return False
