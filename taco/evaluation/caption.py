"""Image captioning with a transformers model, and caption similarity (paper Table 1).

* :class:`Captioner` wraps a BLIP / BLIP-2 / GIT (or any vision-encoder-decoder / image-text-to
  -text) model chosen by name: a local folder or a Hugging Face id. Greedy decoding, batched.
* :func:`caption_folder` (``taco caption FOLDER``) fills ``captions.jsonl`` for a folder of
  images, skipping the images it already lists, so an interrupted run resumes: first
  :func:`plan_captions` (the folder and its file, no model), then :func:`run_caption_plan`.
* :func:`auto_caption`: captions for a list of image files, in Python (the command line captions
  a folder with ``taco caption``; ``taco compress`` then reads its captions.jsonl).
* :func:`text_similarity`: BLEU-4 and CIDEr-D (and SPICE where its Java models are present)
  between captions of the originals and of the reconstructions, with ``pycocoevalcap``.

The paper captions CLIC and Kodak with OFA; OFA is not in transformers, so the default here is
BLIP (``Salesforce/blip-image-captioning-base``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..captions_file import CAPTIONS_LINE_MAX_CHARS
from ..errors import TacoError, TacoWarning
from .defaults import DEFAULT_CAPTIONER

__all__ = [
    "DEFAULT_CAPTIONER",
    "Captioner",
    "CaptionPlan",
    "CaptionReport",
    "CaptionerUnavailable",
    "auto_caption",
    "caption_folder",
    "plan_captions",
    "run_caption_plan",
    "text_similarity",
]


class CaptionerUnavailable(TacoError, RuntimeError):
    """The captioning model cannot be loaded (not local, not cached, offline, or not a captioner)."""


def _model_class(model_type: str) -> Any:
    import transformers as tf

    named = {
        "blip": "BlipForConditionalGeneration",
        "blip-2": "Blip2ForConditionalGeneration",
        "git": "GitForCausalLM",
        "vision-encoder-decoder": "VisionEncoderDecoderModel",
    }
    if model_type in named:
        return getattr(tf, named[model_type])
    for auto in ("AutoModelForImageTextToText", "AutoModelForVision2Seq"):
        if hasattr(tf, auto):
            return getattr(tf, auto)
    raise CaptionerUnavailable(f"no transformers class for captioning models of type {model_type!r}")


class Captioner:
    """A frozen image-captioning model: ``captioner(images) -> captions``.

    ``name``: a local folder holding the model and its processor (a str or a path), or a Hugging
    Face id. A hub id is read from the local cache first; it is downloaded only with
    ``allow_download`` and when the hub answers (checked in seconds: offline, it fails at once
    with :class:`CaptionerUnavailable`). ``prompt`` conditions BLIP/GIT/BLIP-2 (e.g. "a photo of");
    it is stripped from the output.
    """

    def __init__(
        self,
        name: str | os.PathLike[str] = DEFAULT_CAPTIONER,
        *,
        device: str | torch.device = "cpu",
        max_new_tokens: int = 30,
        prompt: str | None = None,
        allow_download: bool = True,
    ) -> None:
        name = os.fspath(name)
        self.name, self.prompt, self.max_new_tokens = name, prompt, max_new_tokens
        self.device = torch.device(device)
        local = Path(name).expanduser().is_dir()
        if not local and (os.path.isabs(name) or name.startswith((".", "~"))):
            raise CaptionerUnavailable(f"captioner {name!r} is not a local model folder (no such folder)")
        try:
            self.model, self.processor, self.tokenizer = self._load(name, local_files_only=True)
        except (OSError, ValueError) as exc:  # not found / not a valid repo id
            if local or not allow_download:
                raise CaptionerUnavailable(
                    f"captioner {name!r} is not a local model folder or in the Hugging Face "
                    f"cache ({exc.__class__.__name__})"
                ) from None
            from taco.text.hf import hub_offline, hub_unreachable

            why = "HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set" if hub_offline() else hub_unreachable()
            if why:
                raise CaptionerUnavailable(
                    f"captioner {name!r} is not cached and cannot be downloaded: {why}. "
                    "Give a local folder (save_pretrained of model and processor) instead."
                ) from None
            self.model, self.processor, self.tokenizer = self._load(name, local_files_only=False)
        self.model.eval().requires_grad_(False).to(self.device)

    def _load(self, name: str, local_files_only: bool) -> tuple[Any, Any, Any]:
        from transformers import AutoConfig, AutoImageProcessor, AutoProcessor, AutoTokenizer

        from taco.text.hf import quiet_transformers

        with quiet_transformers():
            config = AutoConfig.from_pretrained(name, local_files_only=local_files_only)
            cls = _model_class(config.model_type)
            model = cls.from_pretrained(name, local_files_only=local_files_only)
            if config.model_type == "vision-encoder-decoder":
                processor = AutoImageProcessor.from_pretrained(name, local_files_only=local_files_only)
                tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=local_files_only)
            else:
                processor = AutoProcessor.from_pretrained(name, local_files_only=local_files_only)
                tokenizer = getattr(processor, "tokenizer", processor)
        return model, processor, tokenizer

    @torch.no_grad()
    def __call__(self, images: Sequence[Image.Image]) -> list[str]:
        """Captions for PIL images (any mode; converted to RGB), greedy decoding."""
        if not images:
            return []
        rgb = [im.convert("RGB") for im in images]
        kwargs: dict[str, Any] = {"images": rgb, "return_tensors": "pt"}
        if self.prompt:
            kwargs["text"] = [self.prompt] * len(rgb)
        inputs = self.processor(**kwargs)
        inputs = {k: v.to(self.device) for k, v in inputs.items() if isinstance(v, torch.Tensor)}
        ids = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, num_beams=1)
        texts = self.tokenizer.batch_decode(ids, skip_special_tokens=True)
        out = []
        for t in texts:
            t = " ".join(t.split())
            if self.prompt and t.lower().startswith(self.prompt.lower()):
                t = t[len(self.prompt):].strip()
            out.append(t)
        return out

    def caption_tensor(self, x: torch.Tensor) -> str:
        """Caption of one image tensor (1, 3, H, W) or (3, H, W) in [0, 1]."""
        from taco.images import tensor_to_image

        return self([tensor_to_image(x)])[0]


# --------------------------------------------------------------------------- folders


@dataclass(frozen=True)
class CaptionReport:
    """What :func:`caption_folder` did."""

    path: Path
    written: int
    already: int
    unreadable: list[str]


@dataclass(frozen=True)
class CaptionPlan:
    """What :func:`caption_folder` is to do in a folder (:func:`plan_captions`), known before a
    captioner is loaded."""

    #: the captions file the lines go to
    path: Path
    #: the images to caption, in order
    todo: tuple[Path, ...]
    #: how many of the folder's images have captions already (in the file, or in a sidecar)
    already: int
    #: the file's last line is a whole record without a final newline: one is written first
    newline_owed: bool


#: How the lines :func:`run_caption_plan` writes begin (``json.dumps`` of their first key).
_OUR_LINE_START = b'{"image": '
#: The most bytes of a captions file's last line read to judge it: as many characters as a line
#: may have (:data:`taco.captions_file.CAPTIONS_LINE_MAX_CHARS`), of up to 4 UTF-8 bytes each.
_TAIL_MAX_BYTES = 4 * CAPTIONS_LINE_MAX_CHARS


def _unterminated_tail(path: Path) -> tuple[int, bytes] | None:
    """Where the last line of ``path`` starts, and its bytes, when it has no final newline (None
    when the file is empty or ends with one, ``\n`` or ``\r`` (the readers take either), or
    when that line is over :data:`_TAIL_MAX_BYTES`, a line no reader takes). Reads the end of the
    file only."""
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - _TAIL_MAX_BYTES - 1))
        end = f.read()
    if not end or end.endswith((b"\n", b"\r")):
        return None
    cut = max(end.rfind(b"\n"), end.rfind(b"\r"))  # the readers end a line at either
    if cut < 0 and len(end) < size:
        return None
    return size - len(end) + cut + 1, end[cut + 1:]


def _unfinished_line_of_ours(line: bytes) -> bool:
    """Whether ``line``, a last line without a newline that no reader takes, is the start of a
    line :func:`run_caption_plan` was writing: it begins as those do, has at most
    :data:`taco.captions_file.CAPTIONS_LINE_MAX_CHARS` bytes and has not reached its closing brace
    (a hand-written line with a typo has; it is never cut)."""
    return (len(line) <= CAPTIONS_LINE_MAX_CHARS and not line.rstrip().endswith(b"}")
            and (line.startswith(_OUR_LINE_START) or _OUR_LINE_START.startswith(line)))


def _listed(path: Path) -> tuple[set[str], bool]:
    """Image names already in a captions file (read as every reader does,
    :func:`taco.captions_file.read_caption_records`) and whether its last line, a whole record,
    lacks its final newline. A last line without a newline is kept when every reader takes it (a
    file written by hand, or by a tool that ends no line with one); when it is the start of a line
    this module writes that was never finished (an interrupted run), it is cut off with a
    :class:`taco.errors.TacoWarning` that shows it. Anything else a reader refuses (a malformed
    line, over-long, not UTF-8) raises :class:`taco.captions_file.CaptionsFileError` naming its
    line, and the file is left as it is (a hand-written line is never cut)."""
    from taco.captions_file import is_caption_line, read_caption_records

    if not path.is_file():
        return set(), False
    newline_owed = False
    tail = _unterminated_tail(path)
    if tail is not None:
        start, line = tail
        text = line.decode("utf-8", errors="surrogateescape")
        if is_caption_line(text):
            newline_owed = True
        elif _unfinished_line_of_ours(line):
            with path.open("r+b") as f:
                f.truncate(start)
            shown = text if len(text) <= 200 else text[:200] + "..."
            warnings.warn(f"{path}: cut off its unfinished last line ({len(line):,} bytes, from an "
                          f"interrupted run): {shown!r}", TacoWarning, stacklevel=3)
    return {r.file for r in read_caption_records(path)}, newline_owed


def plan_captions(
    folder: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] = "captions.jsonl",
    limit: int | None = None,
) -> CaptionPlan:
    """The images of ``folder`` that :func:`caption_folder` captions into ``FOLDER/output``, found
    without a captioner (``taco caption`` checks the folder and its captions file before it loads
    one). A missing folder is a FileNotFoundError, a file a NotADirectoryError, ``limit`` below 1
    a ValueError, a captions file that a reader refuses a
    :class:`taco.captions_file.CaptionsFileError` naming the line. A last line without a final
    newline is kept when it is a whole record (``newline_owed``), and cut off with a warning when
    it is the unfinished start of a line this module writes (an interrupted run); only then is
    the file changed here. Reads the file line by line, each within
    :data:`taco.captions_file.CAPTIONS_LINE_MAX_CHARS`, and at most that many characters' bytes
    of its end."""
    from taco.captions_file import FOLDER_CAPTIONS, CaptionLookup, read_sidecar
    from taco.data import folder_images

    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    folder = Path(folder)
    if not folder.is_dir():
        if folder.exists():
            raise NotADirectoryError(f"{folder}: not a folder (give the folder of the images)")
        raise FileNotFoundError(f"{folder}: no such folder")
    path = folder / output
    listed, newline_owed = _listed(path)
    files = [folder / name for name in folder_images(folder)]
    if path.resolve() == (folder / FOLDER_CAPTIONS).resolve():
        lookup = CaptionLookup()
        listed |= {p.name for p in files if lookup.has_sidecar(folder, p.name)
                   and read_sidecar(lookup.sidecar(folder, p.name))}
    todo = [p for p in files if p.name not in listed][:limit]
    return CaptionPlan(path, tuple(todo), sum(p.name in listed for p in files), newline_owed)


def run_caption_plan(
    plan: CaptionPlan, captioner: Captioner, *, batch_size: int = 8, progress: bool = True
) -> CaptionReport:
    """Caption ``plan.todo`` with ``captioner``, appending a line per image to ``plan.path`` after
    every batch (flushed). The file is opened only when there is a line to write, so a run whose
    images are all unreadable leaves no file. ``batch_size`` below 1 is a ValueError."""
    from taco.images import ImageReadError, load_image

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    todo, newline_owed = plan.todo, plan.newline_owed
    unreadable: list[str] = []
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="caption", unit="img", file=sys.stderr, disable=None)
    written = 0
    for start in range(0, len(todo), batch_size):
        batch, images = [], []
        for p in todo[start : start + batch_size]:
            try:
                images.append(load_image(p))
                batch.append(p)
            except ImageReadError as exc:
                unreadable.append(f"{p.name}: {exc.reason}")
        if batch:
            captions = captioner(images)
            with plan.path.open("a", encoding="utf-8") as f:
                if newline_owed:  # the last line of the file is kept whole, on its own line
                    f.write("\n")
                    newline_owed = False
                for p, text in zip(batch, captions, strict=True):
                    f.write(json.dumps({"image": p.name, "captions": [text], "captioner": captioner.name},
                                       ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            written += len(batch)
        if bar is not None:
            bar.update(len(todo[start : start + batch_size]))
    if bar is not None:
        bar.close()
    return CaptionReport(plan.path, written, plan.already, unreadable)


def caption_folder(
    folder: str | os.PathLike[str],
    captioner: Captioner,
    *,
    output: str | os.PathLike[str] = "captions.jsonl",
    batch_size: int = 8,
    limit: int | None = None,
    progress: bool = True,
) -> CaptionReport:
    """Append ``{"image", "captions": [text], "captioner"}`` lines to ``FOLDER/output``
    (:func:`plan_captions`, then :func:`run_caption_plan`).

    Images already listed in the file (by any captioner or by hand) are left alone, so an
    interrupted run resumes and human captions are never overwritten; writing the folder's own
    ``captions.jsonl``, so are images with a caption in a sidecar ``IMAGE.txt`` (which every
    command reads before ``captions.jsonl`` when no captions file is named:
    :class:`taco.captions_file.CaptionLookup`; a named file such as ``captions-blip2.jsonl`` is
    the only source of captions where it is named, so it gets every image). A last line without
    a final newline is kept when it is a whole record, and cut off with a warning when it is a
    line of an interrupted run (:func:`_listed`). Lines are written and flushed after every
    batch; the file is not created until there is one. Unreadable images are reported and
    skipped. The images are those of :func:`taco.data.folder_images` (not ``taco decompress``'s
    ``NAME.decoded.png``). ``batch_size`` and ``limit`` (None: every image) below 1 are a
    ValueError (``limit=-1`` once left out the last image).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    plan = plan_captions(folder, output=output, limit=limit)
    return run_caption_plan(plan, captioner, batch_size=batch_size, progress=progress)


_CAPTIONERS: dict[tuple[str, str], Captioner] = {}


def auto_caption(
    image_paths: Iterable[str | os.PathLike[str]],
    captioner_name: str | os.PathLike[str] = DEFAULT_CAPTIONER,
    *,
    batch_size: int = 8,
    device: str = "cpu",
) -> list[str]:
    """Captions for image files, in order (a folder: ``taco caption``, :func:`caption_folder`).

    The captioner is loaded once per process and name. Raises :class:`CaptionerUnavailable`
    (fast) when it cannot be loaded.
    """
    from taco.images import load_image

    key = (os.fspath(captioner_name), device)
    if key not in _CAPTIONERS:
        _CAPTIONERS[key] = Captioner(key[0], device=device)
    captioner = _CAPTIONERS[key]
    paths = list(image_paths)
    out: list[str] = []
    for start in range(0, len(paths), batch_size):
        out += captioner([load_image(p) for p in paths[start : start + batch_size]])
    return out


# --------------------------------------------------------------------------- text similarity


def _spice_available() -> str | None:
    """None if SPICE can run, else why not (Java, or the Stanford CoreNLP jars it downloads)."""
    if shutil.which("java") is None:
        return "SPICE needs Java (not on PATH)"
    try:
        import pycocoevalcap.spice as spice_pkg
    except ImportError:
        return "pycocoevalcap is not installed"
    lib = Path(next(iter(spice_pkg.__path__))) / "lib"
    jars = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")
    missing = [j for j in jars if not (lib / j).is_file()]
    if missing:
        return (f"SPICE needs Stanford CoreNLP 3.6.0 ({', '.join(missing)} in {lib}); pycocoevalcap "
                "downloads them on first use (about 1 GB), not done here")
    return None


def _tokenize(captions: dict[int, list[str]]) -> dict[int, list[str]]:
    """PTB tokenisation as in the COCO caption evaluation (Java), or a lower-case fallback."""
    if shutil.which("java") is not None:
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

        with contextlib.redirect_stdout(io.StringIO()):
            return PTBTokenizer().tokenize({k: [{"caption": c} for c in v] for k, v in captions.items()})
    import re

    return {k: [" ".join(re.findall(r"[a-z0-9]+", c.lower())) for c in v] for k, v in captions.items()}


def text_similarity(references: Sequence[str], candidates: Sequence[str]) -> dict[str, Any]:
    """Corpus BLEU-4, CIDEr-D (and SPICE if available) of ``candidates`` against ``references``.

    One reference per candidate (the caption of the original image, as in the paper's Table 1,
    which reports CIDEr-D on pycocoevalcap's 0-10 scale). CIDEr-D's IDF comes from the
    references, so it is only stable on sets of a few hundred images or more.
    """
    if len(references) != len(candidates):
        raise ValueError("need one reference per candidate")
    if not references:
        return {"images": 0, "bleu4": None, "cider_d": None, "spice": None}
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    gts = _tokenize({i: [r] for i, r in enumerate(references)})
    res = _tokenize({i: [c] for i, c in enumerate(candidates)})
    with contextlib.redirect_stdout(io.StringIO()):  # Bleu prints its counts
        bleu, _ = Bleu(4).compute_score(gts, res)
    cider, _ = Cider().compute_score(gts, res)
    out: dict[str, Any] = {
        "images": len(references),
        "bleu4": float(bleu[3]),
        "cider_d": float(cider),
        "tokenizer": "PTB (Stanford CoreNLP, Java)" if shutil.which("java") else "lower-case words",
    }
    why = _spice_available()
    if why is None:
        from pycocoevalcap.spice.spice import Spice

        out["spice"], _ = Spice().compute_score(gts, res)
    else:
        out["spice"], out["spice_skipped"] = None, why
    return out
