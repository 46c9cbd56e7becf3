"""Image captioning with a transformers model, and caption similarity (paper Table 1).

* :class:`Captioner` wraps a BLIP / BLIP-2 / GIT (or any vision-encoder-decoder / image-text-to
  -text) model chosen by name: a local folder or a Hugging Face id. Greedy decoding, batched.
* :func:`caption_folder` (``taco caption FOLDER``) fills ``captions.jsonl`` for a folder of
  images, skipping the images it already lists, so an interrupted run resumes: first
  :func:`plan_captions` (the folder and its file, no model, checked before torch loads:
  :mod:`taco.evaluation.caption_plan`), then :func:`run_caption_plan`.
* :func:`auto_caption`: captions for a list of image files, in Python (the command line captions
  a folder with ``taco caption``; ``taco compress`` then reads its captions.jsonl).
* :func:`text_similarity`: BLEU-4 and CIDEr-D (and SPICE where its Java models are present)
  between captions of the originals and of the reconstructions, with ``pycocoevalcap``.

The paper captions CLIC and Kodak with OFA; OFA is not in transformers, so the default here is
BLIP (``Salesforce/blip-image-captioning-base``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..atomic import DISK_FULL_ERRNOS
from ..errors import Interrupted, TacoError, TacoValueError, TacoWarning, warn_at_caller
from ..jsonfiles import read_json
from ..locks import FolderLock, ForkSafeLock
from ..messages import count, shown_path
from ..progress import LINES_EVERY, progress_bar
from .caption_plan import (
    CaptionPlan,
    NoImagesError,
    caption_line,
    listed_captions,
    plan_captions,
    refuse_link,
)
from .defaults import DEFAULT_CAPTIONER

__all__ = [
    "DEFAULT_CAPTIONER",
    "Captioner",
    "CaptionPlan",
    "CaptionReport",
    "CaptionStopped",
    "CAPTIONERS_KEPT",
    "CaptionerUnavailable",
    "EmptyCaptionsError",
    "NoImagesError",
    "auto_caption",
    "caption_folder",
    "check_captioner_name",
    "clear_captioner_cache",
    "plan_captions",
    "run_caption_plan",
    "text_similarity",
]


class CaptionerUnavailable(TacoError, RuntimeError):
    """The captioning model cannot be loaded (not local, not cached, offline, or not a captioner)."""


class EmptyCaptionsError(TacoError, RuntimeError):
    """The captioner gave an empty caption for every image it captioned (nothing was written)."""


#: The captioners :func:`_model_class` knows by model type (others: whatever transformers'
#: image-text-to-text / vision-to-sequence auto class takes).
CAPTIONER_KINDS = "BLIP, BLIP-2, GIT, vision-encoder-decoder or another image-text-to-text model"
#: The files a tokenizer's vocabulary is read from (a sentencepiece ``*.model`` too).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json")
#: The files that hold a captioner's image processor's settings (older transformers write the
#: first, newer ones the second, with the image processor's settings inside).
PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")


_CAPTIONER_HOW_TO = (
    "To fix: give a local folder holding the model and its processor (made with `hf download "
    "NAME --local-dir DIR` on a machine with network, or save_pretrained of both) as -m DIR "
    "(taco evaluate: --text-similarity DIR), or let it download (HF_HUB_OFFLINE unset; taco "
    "evaluate: --download)."
)


def _model_class(model_type: str, name: str) -> Any:
    """The transformers class of a captioner of ``model_type``; another kind of model (a CLIP) is
    :class:`CaptionerUnavailable` saying so."""
    import transformers as tf
    from transformers.models.auto import modeling_auto

    named = {
        "blip": "BlipForConditionalGeneration",
        "blip-2": "Blip2ForConditionalGeneration",
        "git": "GitForCausalLM",
        "vision-encoder-decoder": "VisionEncoderDecoderModel",
    }
    if model_type in named:
        return getattr(tf, named[model_type])
    autos = {"AutoModelForImageTextToText": "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
             "AutoModelForVision2Seq": "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES"}
    for auto, types in autos.items():
        if hasattr(tf, auto) and model_type in getattr(modeling_auto, types, {}):
            return getattr(tf, auto)
    from taco.text.hf import holds_other_model

    raise CaptionerUnavailable(f"{shown_path(name)!r} "
                               f"{holds_other_model(model_type, f'a captioner ({CAPTIONER_KINDS})')}")


def check_captioner_name(name: str | os.PathLike[str]) -> bool:
    """Whether the captioner ``name`` is a local folder (else it is a Hugging Face id), without
    loading it: a path that is not a folder (absolute, or starting with ``.`` or ``~``) is
    :class:`CaptionerUnavailable` (``taco caption`` refuses it even with nothing to caption)."""
    name = os.fspath(name)
    local = Path(name).expanduser().is_dir()
    if not local and (os.path.isabs(name) or name.startswith((".", "~"))):
        raise CaptionerUnavailable(f"captioner {name!r} is not a local model folder (no such folder)")
    return local


class Captioner:
    """A frozen image-captioning model: ``captioner(images) -> captions``.

    ``name``: a local folder holding the model and its processor (a str or a path), or a Hugging
    Face id. A hub id is read from the local cache first; it is downloaded only with
    ``allow_download`` and when the hub answers (checked in seconds: offline, it fails at once
    with :class:`CaptionerUnavailable`). ``prompt`` conditions BLIP/GIT/BLIP-2 (e.g. "a photo of");
    it is left out of the captions (its tokens are dropped from the generated ones, by position).
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
        check_captioner_name(name)
        from taco.text.hf import load_failure, model_folder

        folder = model_folder(name, what="captioner", fix=_CAPTIONER_HOW_TO, error=CaptionerUnavailable,
                              allow_download=allow_download, complete=_has_captioner)
        where = "" if folder == name else f" (from {folder})"
        if not (Path(folder) / "config.json").is_file():  # else a "model_type" missing from it
            raise CaptionerUnavailable(f"captioner {name!r} cannot be loaded{where}: no config.json in it")
        try:
            self.model, self.processor, self.tokenizer = self._load(folder, name)
        except CaptionerUnavailable:
            raise
        except Exception as exc:  # damaged or missing files: transformers' and safetensors' errors
            raise CaptionerUnavailable(f"captioner {name!r} cannot be loaded{where}: "
                                       f"{load_failure(folder, exc)}") from None
        self.model.eval().requires_grad_(False).to(self.device)

    def _load(self, folder: str, name: str) -> tuple[Any, Any, Any]:
        from taco.text.hf import MIN_VOCAB, is_hub_id, quiet_transformers, unloaded_weights

        with quiet_transformers():  # one load at a time in the process: transformers' is not thread-safe
            from transformers import AutoConfig, AutoImageProcessor, AutoProcessor, AutoTokenizer

            config = AutoConfig.from_pretrained(folder, local_files_only=True)
            cls = _model_class(config.model_type, name)
            if not is_hub_id(name) and not any((Path(folder) / f).is_file() for f in PROCESSOR_FILES):
                # else transformers' hub hint, cut before the file's name
                raise CaptionerUnavailable(
                    f"captioner {name!r} cannot be loaded: no image processor settings in it "
                    f"(neither {' nor '.join(PROCESSOR_FILES)}): save the processor of the model "
                    f"it came from there, processor.save_pretrained({shown_path(folder)!r})")
            model, info = cls.from_pretrained(folder, local_files_only=True, output_loading_info=True,
                                              ignore_mismatched_sizes=True)
            if bad := unloaded_weights(info):
                raise CaptionerUnavailable(
                    f"captioner {name!r} is not a complete {type(model).__name__} (missing or "
                    f"mis-shaped weights: {bad})")
            if config.model_type == "vision-encoder-decoder":
                processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True)
                tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            else:
                processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
                tokenizer = getattr(processor, "tokenizer", processor)
        if len(tokenizer) < MIN_VOCAB:  # transformers makes one of a few special tokens: empty captions
            raise CaptionerUnavailable(
                f"captioner {name!r} has no tokenizer vocabulary (none of {', '.join(TOKENIZER_FILES)} "
                f"or a sentencepiece *.model in {shown_path(folder)}; the tokenizer made without it has "
                f"{len(tokenizer)} tokens and would write empty captions)")
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
        # GIT's processor gives the prompt's token_type_ids too, which its generate refuses (BLIP's leaves them out)
        inputs = {k: v.to(self.device) for k, v in inputs.items()
                  if isinstance(v, torch.Tensor) and k != "token_type_ids"}
        prompt_ids = inputs["input_ids"].clone() if self.prompt else None  # BLIP's generate writes into it
        ids = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, num_beams=1)
        texts = self.tokenizer.batch_decode(ids, skip_special_tokens=True)
        if prompt_ids is not None and not self.model.config.is_encoder_decoder:
            kept = _echoed_prompt(ids, prompt_ids)
            # the prompt's tokens decoded beside the caption's: a word the caption goes on with
            # ("café" + "##rina") is its text after the prompt's ("rina"), not a loose "##rina"
            heads = self.tokenizer.batch_decode(ids[:, :kept], skip_special_tokens=True)
            tails = self.tokenizer.batch_decode(ids[:, kept:], skip_special_tokens=True)
            texts = [t[len(h):] if t.startswith(h) else tail for t, h, tail in zip(texts, heads, tails, strict=True)]
        return [" ".join(t.split()) for t in texts]

    def caption_tensor(self, x: torch.Tensor) -> str:
        """Caption of one image tensor (1, 3, H, W) or (3, H, W) in [0, 1]."""
        from taco.images import tensor_to_image

        return self([tensor_to_image(x)])[0]


def _echoed_prompt(ids: torch.Tensor, prompt_ids: torch.Tensor) -> int:
    """How many of the first ``ids`` a decoder-only captioner's ``generate`` gave back are the
    prompt's tokens, dropped by position (the decoded text need not start with the prompt as
    written: decoding joins spaces, an uncased tokenizer drops accents). GIT and BLIP-2 with OPT
    give back all of ``prompt_ids`` before the caption; BLIP gives them back without the final
    [SEP] (its generate drops it, and writes [BOS] in the first place, hence the comparison from
    the second token). An encoder-decoder one (BLIP-2 with Flan-T5) gives back none: not called."""
    n = prompt_ids.shape[1]
    for kept in (n, n - 1):
        if ids.shape[1] >= kept and torch.equal(ids[:, 1:kept], prompt_ids[:, 1:kept].to(ids.device)):
            return kept
    return 0


def _has_captioner(folder: Path) -> bool:
    """Whether a cached snapshot holds a captioner: a model (config, weights), its processor and
    its tokenizer's vocabulary (:data:`TOKENIZER_FILES`, or a sentencepiece ``*.model``)."""
    from taco.text.hf import has_weights

    return has_weights(folder) and any((folder / f).is_file() for f in PROCESSOR_FILES) and (
        any((folder / f).is_file() for f in TOKENIZER_FILES) or any(folder.glob("*.model")))


# --------------------------------------------------------------------------- folders


@dataclass(frozen=True)
class CaptionReport:
    """What :func:`caption_folder` did."""

    path: Path
    written: int
    already: int
    unreadable: list[str]
    #: the images the captioner gave an empty caption (not written: a rerun captions them again)
    blank: list[str] = field(default_factory=list)


def run_caption_plan(
    plan: CaptionPlan, captioner: Captioner, *, batch_size: int = 8, progress: bool = True,
    lock: FolderLock | None = None,
) -> CaptionReport:
    """Caption ``plan.todo`` with ``captioner``, appending a line per image to ``plan.path`` after
    every batch (flushed). The file is opened only when there is a line to write, so a run whose
    images are all unreadable leaves no file. An empty caption is never written: the image is
    in ``blank``, with a :class:`taco.errors.TacoWarning`, and a run whose every caption was empty
    is an :class:`EmptyCaptionsError`. ``batch_size`` below 1 is a ValueError. A full disk or
    quota after some lines were written is a :class:`CaptionStopped` (how many, and to run again).
    An interrupt (KeyboardInterrupt: Ctrl-C, or SIGTERM and SIGHUP under ``taco``) keeps the
    lines of the batches done (the batch in hand writes none) and is raised again as an
    :class:`~taco.errors.Interrupted` of its signal that says how far it got: ``stopped by
    SIGTERM after 168 of the 200 images to caption (their captions are kept in
    capds/captions.jsonl); run the same command again to do the rest``.

    One run at a time appends to a folder's captions file: while it captions, the run holds a
    :class:`taco.locks.FolderLock` on the file's folder (``taco caption``), so a second run there
    (or a ``taco evaluate`` or ``taco train`` holding that folder) is a
    :class:`taco.locks.FolderInUse` (``FOLDER is in use by another taco caption (pid N)``) before
    it captions anything; two runs used to caption every image and write each twice. Holding
    the lock, it reads the captions file again (:func:`listed_captions`) and leaves out the images
    of ``plan.todo`` that a run which finished since ``plan`` was made captioned (counted in
    ``already``); an image gone from the folder since is still to do, and fails as unreadable.

    ``lock``: that lock, the caller's, taken before its captioner loaded (``taco caption`` does,
    so a second run is refused before it loads one, not after): the run uses it (taking it if
    not held) and leaves it held for the caller to release; another FolderLock on the folder in
    this process would be refused as another run's. A lock on another folder is a ValueError."""
    if batch_size < 1:
        raise TacoValueError(f"batch_size must be at least 1, got {batch_size}")
    if lock is not None and lock.folder.absolute() != plan.path.parent.absolute():
        raise TacoValueError(f"lock is on {lock.folder}, not on {plan.path.parent}, the captions file's folder")
    if not plan.todo:
        return CaptionReport(plan.path, 0, plan.already, [], [])
    with (contextlib.nullcontext(lock.acquire()) if lock is not None
          else FolderLock(plan.path.parent, "taco caption")):
        # what a run that finished meanwhile captioned, read from the file alone (an image gone
        # from the folder since the plan stays to do, and fails as unreadable); that run also
        # changed how the file ends (newline_owed)
        listed, newline_owed = listed_captions(plan.path)
        todo = tuple(p for p in plan.todo if p.name not in listed)
        return _run_plan(replace(plan, todo=todo, already=plan.already + len(plan.todo) - len(todo),
                                 newline_owed=newline_owed), captioner, batch_size, progress)


def _run_plan(plan: CaptionPlan, captioner: Captioner, batch_size: int, progress: bool) -> CaptionReport:
    """:func:`run_caption_plan`'s work, its folder held."""
    from taco.data import read_reason
    from taco.images import ImageReadError, load_image

    todo, newline_owed = plan.todo, plan.newline_owed
    unreadable: list[str] = []
    blank: list[str] = []
    bar = (progress_bar(total=len(todo), desc="caption", unit="img", lines_every=LINES_EVERY)
           if progress and todo else None)
    written = done = 0  # captions written; images done (captioned, unreadable, blank)
    try:
        for start in range(0, len(todo), batch_size):
            batch, images = [], []
            for p in todo[start : start + batch_size]:
                try:
                    images.append(load_image(p))
                    batch.append(p)
                except ImageReadError as exc:
                    unreadable.append(f"{p.name}: {read_reason(exc)}")
            if batch:
                captions = captioner(images)
                lines = []
                for p, text in zip(batch, captions, strict=True):
                    if text.strip():
                        lines.append(caption_line(p.name, text, captioner.name))
                    else:
                        blank.append(p.name)
                        warnings.warn(f"{shown_path(p.name)}: captioner {shown_path(captioner.name)} gave an empty "
                                      "caption; not written (a rerun captions it again)", TacoWarning, stacklevel=2)
                if lines:
                    try:
                        _append(plan.path, ("\n" if newline_owed else "") + "".join(lines))
                    except OSError as exc:
                        if not written or exc.errno not in DISK_FULL_ERRNOS:
                            raise
                        reason = exc.strerror or str(exc)
                        error = str(exc) if isinstance(exc, TacoError) or exc.filename is None else (
                            f"{shown_path(exc.filename)}: {reason[:1].lower()}{reason[1:]}")
                        raise CaptionStopped(
                            f"captioned {written:,} of {count(len(todo), 'image')} to "
                            f"{shown_path(plan.path)}, then {error}: free some space and run the same "
                            "command again to do the rest", written, exc.errno) from exc
                    newline_owed = False  # the last line of the file is kept whole, on its own line
                written += len(lines)
            done = min(start + batch_size, len(todo))
            if bar is not None:
                bar.update(done - start)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: the batches done are in the file
        if getattr(exc, "progress", "") or type(exc) not in (KeyboardInterrupt, Interrupted):
            raise  # says how far it got already, or a stop of a kind of its own
        kept = f" (their captions are kept in {shown_path(plan.path)})" if written else ""
        raise Interrupted(getattr(exc, "signum", signal.SIGINT),
                          f" after {done:,} of the {count(len(todo), 'image')} to caption{kept}; "
                          "run the same command again to do the rest") from None
    if bar is not None:
        bar.close()
    if blank and not written:
        raise EmptyCaptionsError(f"captioner {shown_path(captioner.name)} gave an empty caption for "
                                 f"{'the' if len(blank) == 1 else 'all'} {count(len(blank), 'image')}; nothing "
                                 f"written to {shown_path(plan.path)}")
    return CaptionReport(plan.path, written, plan.already, unreadable, blank)


class CaptionStopped(TacoError, RuntimeError):
    """Captioning stopped by a full disk or quota (ENOSPC, EDQUOT) after some batches' lines
    were appended: ``written`` of them stay in the captions file (the failed batch's are taken
    back), the line says so and to run the same command again, which captions the rest.
    ``errno`` is the OSError's, its ``__cause__``. ``taco caption`` says the line, exit
    status 3; with nothing written the OSError is raised as it is (exit 2)."""

    def __init__(self, message: str, written: int = 0, errno: int | None = None) -> None:
        super().__init__(message)
        self.written = written
        self.errno = errno

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (str(self), self.written, self.errno)


def _append(path: Path, text: str) -> None:
    """Append ``text`` to ``path`` and sync it; an OSError that names no file (a write past the
    file size limit, a full disk: ``[Errno 27] File too large``) is raised again naming
    ``path``, as every file error of taco's is shown (``captions.jsonl: file too large``).
    A failed append (any exception: a full disk after some of the bytes, an fsync that fails, an
    interrupt) takes its bytes back: the file is cut to the size it had, so no half line is left
    for every reader to refuse, and a file this call made is removed while it is still empty.
    A ``path`` that is a symbolic link is refused, not written through: a link (dangling or not)
    planted in a folder one captions would have taco append to any file the user may write.
    O_NOFOLLOW (where the system has it) refuses a link made after the check too. Text that
    UTF-8 cannot encode (a lone surrogate) raises before the file is opened, so no empty file is
    left."""
    refuse_link(path)
    # the UnicodeEncodeError, before the file is made; line ends the system's, as open("a") wrote
    data = memoryview(text.replace("\n", os.linesep).encode("utf-8"))
    flags = (os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    try:
        try:  # made by this call (O_EXCL), or there before: only the former is removed
            fd, made = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o666), True
        except FileExistsError:
            fd, made = os.open(path, flags | os.O_CREAT, 0o666), False
    except OSError as exc:
        _raise_naming(exc, path)
        raise
    try:
        size = os.fstat(fd).st_size
        try:
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):  # the bytes written so far taken back
                os.ftruncate(fd, size)
                os.fsync(fd)
            if made:
                with contextlib.suppress(OSError):
                    if os.fstat(fd).st_size == 0 and os.path.samestat(os.fstat(fd), os.lstat(path)):
                        os.unlink(path)  # made by this call, nothing in it: as it was, no file
            raise
    except OSError as exc:
        _raise_naming(exc, path)
        raise
    finally:
        os.close(fd)


def _raise_naming(exc: OSError, path: Path) -> None:
    """Raise ``exc`` again naming ``path`` (its subclass, by errno) where it names no file; else
    return, for the caller to raise it as it is."""
    if exc.filename is None and exc.errno is not None:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def caption_folder(
    folder: str | os.PathLike[str],
    captioner: Captioner,
    *,
    output: str | os.PathLike[str] = "captions.jsonl",
    batch_size: int = 8,
    limit: int | None = None,
    progress: bool = True,
) -> CaptionReport:
    """Append ``{"image", "captions": [text], "captioner"}`` lines to the captions file
    ``output`` names (:func:`~taco.evaluation.caption_plan.captions_output`: a bare name is a file
    inside ``folder``, one with a folder part that path) (:func:`plan_captions`, then
    :func:`run_caption_plan`).

    One run at a time per captions file's folder (:func:`run_caption_plan`: a second is a
    :class:`taco.locks.FolderInUse`). Images already listed in the file (by any captioner or by
    hand) are left alone, so an interrupted run resumes and human captions are never overwritten; writing the folder's own
    ``captions.jsonl``, so are images with a caption in a sidecar ``IMAGE.txt`` (which every
    command reads before ``captions.jsonl`` when no captions file is named:
    :class:`taco.captions_file.CaptionLookup`; a named file such as ``captions-blip2.jsonl`` is
    the only source of captions where it is named, so it gets every image). A last line without
    a final newline is kept when it is a whole record, and cut off with a warning when it is a
    line of an interrupted run (:func:`plan_captions`). Lines are written and flushed after every
    batch; the file is not created until there is one, and a batch whose lines cannot all be
    written (a full disk) is taken back whole, no half line left (earlier batches' lines stay).
    Unreadable images are reported and skipped. The images are those of
    :func:`taco.suffixes.folder_images` (not ``taco decompress``'s ``NAME.decoded.png``); a folder
    without any is a :class:`NoImagesError`. ``batch_size`` and ``limit`` (None: every image)
    below 1 are a ValueError (``limit=-1`` once left out the last image).
    """
    if batch_size < 1:
        raise TacoValueError(f"batch_size must be at least 1, got {batch_size}")
    plan = plan_captions(folder, output=output, limit=limit)
    return run_caption_plan(plan, captioner, batch_size=batch_size, progress=progress)


#: How many captioners :func:`auto_caption` keeps loaded (BLIP-base: ~1 GB each), least recently
#: used out first.
CAPTIONERS_KEPT = 1
_captioners: OrderedDict[tuple[Any, ...], Captioner] = OrderedDict()
_captioners_lock = ForkSafeLock()  # held while one is looked up or loaded


def clear_captioner_cache() -> None:
    """Forget the captioners :func:`auto_caption` keeps (their memory is freed with the last use)."""
    with _captioners_lock:
        _captioners.clear()


def _captioner_key(name: str, device: str) -> tuple[Any, ...]:
    """What a captioner :func:`auto_caption` keeps is kept by: a local folder by its resolved path
    and each top-level file's name, size, mtime and inode (a folder rewritten in place, its
    weights or config saved over, is another captioner), a Hugging Face id by the id."""
    from taco.text.hf import MODEL_WEIGHTS

    folder = Path(name).expanduser()
    if not folder.is_dir():
        return (name, device, ())
    folder = folder.resolve()
    names = {"config.json", *MODEL_WEIGHTS, *PROCESSOR_FILES, *TOKENIZER_FILES}
    with contextlib.suppress(OSError):  # a folder that can be read by name only: those files
        names.update(entry.name for entry in os.scandir(folder))
    files = []
    for file in sorted(names):
        with contextlib.suppress(OSError):
            st = os.stat(folder / file)
            files.append((file, st.st_size, st.st_mtime_ns, st.st_ino))
    return (str(folder), device, tuple(files))


def auto_caption(
    image_paths: Iterable[str | os.PathLike[str]],
    captioner_name: str | os.PathLike[str] = DEFAULT_CAPTIONER,
    *,
    batch_size: int = 8,
    device: str = "cpu",
) -> list[str]:
    """Captions for image files, in order (a folder: ``taco caption``, :func:`caption_folder`).

    The captioner is loaded once and kept for the next calls with the same one: a local folder
    as it is on disk (its resolved path, so a relative name after ``os.chdir`` is the folder it
    names then, and its files' sizes and modification times, so a folder whose model was saved
    over is loaded again), a Hugging Face id by its id, and the device. At most
    :data:`CAPTIONERS_KEPT` are kept, the least recently used let go first (before the next one
    loads); :func:`clear_captioner_cache` lets them all go. Raises
    :class:`CaptionerUnavailable` (fast) when it cannot be loaded.
    """
    from taco.images import load_image

    name = os.fspath(captioner_name)
    key = _captioner_key(name, device)
    with _captioners_lock:
        captioner = _captioners.get(key)
        if captioner is None:
            stale = [k for k in _captioners if k[:2] == key[:2]]  # the folder's model as it was
            for k in stale:
                del _captioners[k]
            while _captioners and len(_captioners) >= CAPTIONERS_KEPT:
                _captioners.popitem(last=False)  # freed before the next one loads
            captioner = Captioner(name, device=device)
            if CAPTIONERS_KEPT > 0:
                _captioners[key] = captioner
        else:
            _captioners.move_to_end(key)
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


def _ptb_tokenize(captions: dict[int, list[str]]) -> tuple[dict[int, list[str]] | None, str | None]:
    """pycocoevalcap's ``PTBTokenizer().tokenize`` (the COCO caption evaluation's tokens) and
    None; or None and why it could not run (None where there is no Java, a line where Java is
    there but the run failed: the jar, a temporary file, java's own error).

    The same jar is run the same way and its output read the same way, so the tokens are the
    library's; but its input file is made in the temporary folder (``tempfile.gettempdir()``),
    not, as the library does, in its own package folder: that fails in an install the user
    cannot write (permission denied, after every image was coded) and writes into
    site-packages on every run where it can. java runs in that temporary folder and is given
    the file's name alone (the jar by its absolute path): PTBTokenizer cuts its file
    arguments at white space, so a temporary folder with a space in its path
    (``TMPDIR="/tmp/my dir"``) failed it ("Unable to resolve /tmp/my")."""
    if shutil.which("java") is None:
        return None, None
    from pycocoevalcap.tokenizer import ptbtokenizer

    jar = os.path.join(os.path.dirname(os.path.abspath(ptbtokenizer.__file__)),
                       ptbtokenizer.STANFORD_CORENLP_3_4_1_JAR)
    name = "captions.txt"  # relative to the run's folder: no white space for the tokenizer to cut at
    cmd = ["java", "-cp", jar, "edu.stanford.nlp.process.PTBTokenizer", "-preserveLines", "-lowerCase", name]
    image_ids = [k for k, v in captions.items() for _ in v]
    sentences = "\n".join(c.replace("\n", " ") for v in captions.values() for c in v)
    try:
        with tempfile.TemporaryDirectory(prefix="taco-ptb-") as tmp:
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(sentences.encode())
            run = subprocess.run(cmd, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        lines = run.stdout.decode().split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        return None, str(exc) or type(exc).__name__
    if run.returncode != 0:
        said = [line.strip() for line in run.stderr.decode(errors="replace").splitlines() if line.strip()]
        why = f"java exited with status {run.returncode}"
        return None, f"{why}: {said[0][:300]}" if said else why
    out: dict[int, list[str]] = {}
    for k, line in zip(image_ids, lines, strict=False):  # as the library pairs them
        words = [w for w in line.rstrip().split(" ") if w not in ptbtokenizer.PUNCTUATIONS]
        out.setdefault(k, []).append(" ".join(words))
    return out, None


def _lower_case_words(captions: dict[int, list[str]]) -> dict[int, list[str]]:
    """The tokens without Java: lower-case runs of ASCII letters and digits."""
    import re

    return {k: [" ".join(re.findall(r"[a-z0-9]+", c.lower())) for c in v] for k, v in captions.items()}


def text_similarity(references: Sequence[str], candidates: Sequence[str]) -> dict[str, Any]:
    """Corpus BLEU-4, CIDEr-D (and SPICE if available) of ``candidates`` against ``references``.

    One reference per candidate (the caption of the original image, as in the paper's Table 1,
    which reports CIDEr-D on pycocoevalcap's 0-10 scale). CIDEr-D's IDF comes from the
    references, so it is only stable on sets of a few hundred images or more. The captions are
    PTB-tokenised as pycocoevalcap does (Java), or, where that cannot run (no Java, no
    temporary folder), cut into lower-case words: ``tokenizer`` says which (None where there
    are no captions: nothing was tokenised, and every score is None), and where Java is on
    PATH but the tokenizer's run fails a :class:`~taco.TacoWarning` says why, as those scores
    differ from the PTB ones. Nothing is written
    into pycocoevalcap's package folder (a read-only install works): the tokenizer's and SPICE's
    files go to a temporary folder. A SPICE run that fails leaves ``spice`` None and says why in
    ``spice_skipped``.
    """
    if len(references) != len(candidates):
        raise TacoValueError("need one reference per candidate")
    if not references:
        return {"images": 0, "bleu4": None, "cider_d": None, "spice": None, "tokenizer": None}
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    refs = {i: [r] for i, r in enumerate(references)}
    cands = {i: [c] for i, c in enumerate(candidates)}
    gts, failed = _ptb_tokenize(refs)
    res, failed = _ptb_tokenize(cands) if gts is not None else (None, failed)
    ptb = gts is not None and res is not None
    if gts is None or res is None:  # both the same way
        gts, res = _lower_case_words(refs), _lower_case_words(cands)
        if failed is not None:  # Java is there: scores that differ from the PTB ones, said once
            warn_at_caller(f"the PTB tokenizer (Java) failed ({failed}): BLEU-4 and CIDEr-D are of "
                           "lower-case words (tokenizer: 'lower-case words'), not comparable with "
                           "PTB-tokenised scores", TacoWarning)
    # verbose=0: its counts not printed (a redirect of sys.stdout, process-wide, lost another
    # thread's output)
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    cider, _ = Cider().compute_score(gts, res)
    out: dict[str, Any] = {
        "images": len(references),
        "bleu4": float(bleu[3]),
        "cider_d": float(cider),
        "tokenizer": "PTB (Stanford CoreNLP, Java)" if ptb else "lower-case words",
    }
    why = _spice_available()
    if why is None:
        try:
            out["spice"] = _spice(gts, res)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            why = f"SPICE failed: {exc}"
    if why is not None:
        out["spice"], out["spice_skipped"] = None, why
    return out


#: The most bytes of SPICE's score file taco reads (:func:`taco.jsonfiles.read_json`).
SPICE_SCORES_MAX_BYTES = 256 * 2**20


def _spice(gts: dict[int, list[str]], res: dict[int, list[str]]) -> float:
    """pycocoevalcap's ``Spice().compute_score(gts, res)[0]``: its jar run the same way, but
    with its input and output files in a temporary folder of its own, removed after, and
    without a parse cache, where the library makes both folders (tmp, cache) in its own package
    folder (refused in an install the user cannot write; written into site-packages on every
    run otherwise). Its paths may hold spaces: SPICE takes each argument whole (its
    ``SpiceArguments``: the input is ``args[0]``, the output the one after ``-out``), unlike the
    PTB tokenizer, so they are given as they are; it runs in its package folder, as the library
    runs it."""
    import json

    import numpy as np
    from pycocoevalcap.spice import spice

    data = [{"image_id": i, "test": res[i][0], "refs": gts[i]} for i in sorted(gts)]
    with tempfile.TemporaryDirectory(prefix="taco-spice-") as tmp:
        in_file, out_file = os.path.join(tmp, "input.json"), os.path.join(tmp, "scores.json")
        with open(in_file, "w") as f:
            json.dump(data, f, indent=2)
        run = subprocess.run(["java", "-jar", "-Xmx8G", spice.SPICE_JAR, in_file, "-out", out_file,
                              "-subset", "-silent"], cwd=os.path.dirname(os.path.abspath(spice.__file__)),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             check=False)
        if run.returncode != 0:
            said = run.stderr.decode(errors="replace").strip().splitlines()
            raise RuntimeError(said[-1] if said else f"java exited with status {run.returncode}")
        # the jar's scores: a few hundred bytes per image
        results = read_json(out_file, SPICE_SCORES_MAX_BYTES)

    def number(value: Any) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            return float("nan")

    return float(np.mean([number(item["scores"]["All"]["f"]) for item in results]))
