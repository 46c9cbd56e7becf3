"""The base classes of what taco raises and warns on purpose.

Every error taco raises on purpose is a :class:`TacoError`, and keeps the builtin base it had
before (``CheckpointError`` is also a ``ValueError``, ``OutOfMemoryError`` a ``MemoryError``, a
bad argument value a :class:`TacoValueError`), so ``except taco.TacoError`` catches all of them
and older ``except ValueError`` code still works. An argument of the wrong type (a string for a
model, ``progress=True``) is a plain ``TypeError``: a mistake in the calling code, not bad
input; a registered backbone that breaks taco's contract is a :class:`BackboneError` (a
``TypeError`` too). Every warning taco gives on purpose is a :class:`TacoWarning` (a ``UserWarning``), given
through :func:`warn_at_caller` so that it points at the user's line. Imports nothing of taco's
or torch's (the bottom layer), so ``import taco.errors`` loads no torch.

The errors and warnings of modules that import torch (:mod:`taco.codec`, :mod:`taco.text.base`)
are defined here too, and imported there: naming one in an ``except`` clause
(``except taco.SizeBudgetError``) then costs no torch import (2.5-3 s).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings

__all__ = ["BackboneError", "CaptionTextError", "CaptionTooLongError", "CaptionTruncatedWarning", "ImageSizeError",
           "Interrupted", "OutputExists", "SizeBudgetError", "TacoError", "TacoValueError", "TacoWarning",
           "TextEncoderUnavailable", "warn_at_caller"]


class TacoError(Exception):
    """Every error taco raises on purpose: a bad input, file, setting or environment, said in
    words for a person. A bug in taco surfaces as another exception."""


class TacoValueError(TacoError, ValueError):
    """A bad argument value, said with the argument and what it takes: ``quality=9`` for a model
    of 7 qualities, ``max_pixels=0``, a float image in 0-255, images and captions of different
    lengths, an unknown architecture for ``create_model``. A ``ValueError``, as it was before
    it was a :class:`TacoError`."""


class BackboneError(TacoError, TypeError):
    """A registered backbone (:func:`taco.models.register_architecture`) that breaks taco's
    contract, said with its class or builder and what to change (docs/models.md, "Adding a
    backbone"): a ``build`` that is no ELIC class nor a function, a builder that returns None or
    a model lacking what ELIC's methods read, a ``uses_text`` or ``qualities`` at odds with its
    registration or config, a g_a giving y other channels than M or another size than
    ``latent_shapes`` declares, a latent codec taco cannot code or one coding other shapes. A
    ``TypeError``, as it was before it was a :class:`TacoError`; ``taco compress -m PLUGIN``
    says it in one line."""


class TacoWarning(UserWarning):
    """Every warning taco gives on purpose (a caption cut to fit, an image converted to RGB, an
    unreadable image skipped)."""


class ImageSizeError(TacoError, ValueError):
    """An image the ``.taco`` format cannot hold: a side outside 1..:data:`taco.bitstream.MAX_SIDE`
    pixels (32,768). Raised by the encoder before any work, with the size and the limit in the
    message (:func:`taco.codec.check_image_size`)."""


class SizeBudgetError(TacoError, ValueError):
    """A ``max_bytes=`` budget that even a variable-rate model's lowest quality (1) goes over:
    raised by :func:`taco.codec.code_within` after coding it, with that file's size (the smallest
    the model reaches for this image) in the message."""


class OutputExists(TacoError, FileExistsError):
    """A file taco is to write exists, and overwriting it was not asked for: raised before any
    work, with the file's name (:func:`taco.official.import_checkpoint_file` without
    ``force=True``; :func:`taco.evaluation.plot.plot_results` with ``overwrite=False`` raises
    its subclass :class:`taco.evaluation.plot.OutputExists`, naming its files in ``paths``).
    ``except taco.errors.OutputExists`` catches every such refusal; a ``FileExistsError``, as
    ``open(..., "x")`` raises."""


class TextEncoderUnavailable(TacoError, RuntimeError):
    """A text encoder's weights or tokenizer cannot be found (offline, missing files, ...)."""


class CaptionTruncatedWarning(TacoWarning):
    """A caption had more tokens than the encoder's ``max_tokens``; the tail was dropped."""


class ReducedPrecisionWarning(TacoWarning):
    """A process-wide torch setting computes float32 convolutions or matrix products in less
    precision (``torch.set_float32_matmul_precision("medium")``, oneDNN's bf16): the bytes taco
    writes and the pixels it decodes may differ from other machines'. Given once per process."""


class CaptionTooLongError(TacoError, ValueError):
    """A caption over :data:`taco.text.MAX_CAPTION_CHARS` characters: refused, not read."""


class CaptionTextError(TacoError, ValueError):
    """A caption that is not text UTF-8 can encode: it holds a lone surrogate (U+D800..U+DFFF),
    from a JSON ``\\ud800`` escape or a command-line argument with bytes that are not UTF-8
    (Python reads them as U+DC80..U+DCFF). No tokenizer reads one: refused, not encoded."""


class Interrupted(KeyboardInterrupt):
    """A command or training run stopped by a signal: SIGINT (Ctrl-C), SIGTERM or SIGHUP, with
    how far it got (``progress``: `` after 3 of 20 images; ...``, `` at step 40; ...``).
    :func:`taco.cli.main` turns SIGTERM and SIGHUP into this, and says ``progress`` when it
    ends the command. A KeyboardInterrupt, so what handles Ctrl-C handles these too. Said in
    one line (``str``, the last line of a traceback in a notebook): ``stopped by SIGINT at step
    40; ...``."""

    def __init__(self, signum: int, progress: str = "") -> None:
        super().__init__(signum, progress)
        self.signum = signum
        self.progress = progress

    def __str__(self) -> str:
        try:
            name = signal.Signals(self.signum).name
        except ValueError:  # not a signal this platform names
            name = f"signal {self.signum}"
        return f"stopped by {name}{self.progress}"


#: taco's own folder: its frames are skipped when a warning is blamed on its caller.
_TACO_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)`` blamed on the nearest caller outside taco and torch
    (no_grad wrappers, ``Module.__call__``): the line that called ``taco.compress`` or
    ``encoder.encode``, whatever path inside taco led here, so the warning names the user's file
    and line and ``-W``/``filterwarnings`` by module see the user's module."""
    torch = sys.modules.get("torch")  # not imported: no torch frame can be on the stack
    torch_file = getattr(torch, "__file__", None)
    internal = (_TACO_DIR,) if torch_file is None else (
        _TACO_DIR, os.path.dirname(os.path.abspath(torch_file)) + os.sep)
    frame, level = sys._getframe(), 1  # this function is stacklevel 1
    while frame.f_back is not None and _internal(frame.f_code.co_filename, internal):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _internal(filename: str, folders: tuple[str, ...]) -> bool:
    return not filename.startswith("<") and os.path.abspath(filename).startswith(folders)
