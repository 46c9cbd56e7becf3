"""A checkpoint file's headers, read without torch: the taco header (its model config, what the
training wrote) and the tensors' names, shapes and dtypes. Loading the weights is
:mod:`taco.models.checkpoint`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..bitstream.container import model_id_problem
from ..filekinds import file_head, text_file_problem
from ..fileobjects import ZIP_MAGIC
from ..jsonfiles import format_problem, json_object
from ..memory import allocation_failure
from ..messages import shell_word
from ..shards import (
    CHECKPOINT_FILE,
    INDEX_SUFFIX,
    RUN_FILES,
    TRAIN_STATE_FILE,
    TRAIN_STATE_KEY,
    CheckpointRead,
    CheckpointReplaced,
    ShardedFileError,
    find,
    is_index,
    read_metadata,
    read_once,
    tensor_shapes,
)
from ..text_specs import text_encoder_spec_problem
from .config import CheckpointError, ModelConfig

CHECKPOINT_FORMAT = "taco-checkpoint"
CHECKPOINT_VERSION = 1
#: The longest taco header (the safetensors metadata value ``"taco"``) read, in characters. A real
#: one is about 2 kB; a 98 MB one of ``[[],[],...]`` took 2.3 GB and 7.5 s to parse.
MAX_HEADER_CHARS = 2**20


@contextmanager
def reading_headers(path: str | os.PathLike[str], *, file: Path | None = None) -> Iterator[None]:
    """Failures to read a checkpoint's headers (index or safetensors) as CheckpointError naming
    ``path``: a ``torch.save`` file said as one, with how to import it; a text file (a Git LFS
    pointer, an HTML page) as one (:func:`taco.filekinds.text_file_problem`); an allocation failure as
    running out of memory (not for lack of a valid file); a file the system cannot read
    (permissions, an I/O error) as such, naming ``file`` where given: the checkpoint file read
    for ``path`` (:func:`taco.shards.find`'s; a run folder's ``checkpoint.safetensors``), which
    is what cannot be read, not the folder (a shard is named by :mod:`taco.shards`). A
    :class:`~taco.shards.CheckpointReplaced` is let through: its caller reads the checkpoint
    again."""
    try:
        yield
    except CheckpointReplaced:
        raise
    except ShardedFileError as exc:
        if torch_file := _torch_save_file(path):
            raise CheckpointError(
                f"{path}: {torch_file} (torch.save), not a taco checkpoint: if it is one of the "
                f"TACO or ELIC authors' or of CompressAI's Elic2022Official, import it once "
                f"(taco import-checkpoint {shell_word(path)} -o MODEL.safetensors; in "
                "Python taco.official.import_checkpoint_file) and give MODEL.safetensors; a taco "
                "model's own state dict: model.load_state_dict it into its model (taco.load(NAME) "
                "for a fine-tune of a built-in, else taco.create_model in the layout it was made "
                "with; the import command above says which and how) and "
                "taco.save_checkpoint(model, 'MODEL.safetensors')") from None
        if not is_index(path) and (text := text_file_problem(path)):  # (an index is text)
            raise CheckpointError(f"{path}: {text}") from None
        raise CheckpointError(str(exc)) from None
    except Exception as exc:
        if allocation_failure(exc):
            raise CheckpointError(f"out of memory reading {path}") from None
        if isinstance(exc, OSError):  # permissions, an I/O error: named, and no checkpoint
            raise CheckpointError(f"{file or path}: cannot be read ({exc.strerror or exc})") from None
        raise


#: How a ``torch.save`` file of the format before PyTorch 1.6 starts: its magic number pickled.
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."


def _torch_save_file(path: str | os.PathLike[str]) -> str | None:
    """What kind of ``torch.save`` file ``path`` is by its first bytes, for a file that is no
    safetensors file; None for another file (a folder, an index) or one that cannot be read."""
    try:
        head = file_head(path, len(_LEGACY_TORCH_MAGIC))
    except OSError:
        return None
    if head.startswith(ZIP_MAGIC):
        return "a PyTorch checkpoint"
    if head == _LEGACY_TORCH_MAGIC:
        return "a PyTorch checkpoint of the format before PyTorch 1.6"
    return None


def checkpoint_metadata(path: str | os.PathLike[str], *, found: Path | None = None
                        ) -> dict[str, str]:
    """The safetensors metadata of a checkpoint in either layout, as CheckpointError on failure
    (``found``: what :func:`taco.shards.find` gave for ``path``, where the caller looked)."""
    found = found or find(path)
    if found is None:
        raise CheckpointError(f"{path}: no such checkpoint file")
    with reading_headers(path, file=found):
        return read_metadata(path, found=found)


def read_checkpoint_header(path: str | os.PathLike[str], *, found: Path | None = None
                           ) -> dict[str, Any]:
    """The JSON header of a checkpoint, validated, without loading weights (a training state
    given for one is refused with :func:`training_state_message`); ``found`` as for
    :func:`checkpoint_metadata`."""
    path = Path(path)
    return checked_header(path, checkpoint_metadata(path, found=found))


def read_checkpoint(path: str | os.PathLike[str], *, found: Path | None = None
                    ) -> tuple[CheckpointRead, dict[str, Any]]:
    """The checkpoint at ``path`` read once (:func:`taco.shards.read_once`: its header, shapes and
    tensors are one file's even while another process saves ``path`` again) and its JSON header,
    validated as :func:`read_checkpoint_header` validates it (every failure the same
    CheckpointError); ``found`` as for :func:`checkpoint_metadata`. Read its shapes with
    :func:`read_shapes`."""
    named = Path(path)  # as read_checkpoint_header names it; read.path is path as given
    found = found or find(path)
    if found is None:
        raise CheckpointError(f"{named}: no such checkpoint file")
    with reading_headers(named, file=found):
        read = read_once(path, found=found)
    return read, checked_header(named, read.metadata)


def read_shapes(read: CheckpointRead) -> dict[str, tuple[tuple[int, ...], str]]:
    """:func:`checkpoint_shapes` of a checkpoint :func:`read_checkpoint` read (the same failures;
    a :class:`~taco.shards.CheckpointReplaced` where a save replaced it meanwhile)."""
    with reading_headers(read.path, file=read.found):
        return read.shapes()


def checked_header(path: Path, meta: dict[str, str]) -> dict[str, Any]:
    """The taco header in ``meta`` (the safetensors metadata of the checkpoint at ``path``),
    validated: :func:`read_checkpoint_header`'s checks and CheckpointErrors."""
    if TRAIN_STATE_KEY in meta:
        raise CheckpointError(training_state_message(path))
    if "taco" not in meta:
        raise CheckpointError(f"{path}: safetensors file without a taco header (not a taco checkpoint)")
    if len(meta["taco"]) > MAX_HEADER_CHARS:
        raise CheckpointError(f"{path}: corrupt taco header ({len(meta['taco']):,} characters, over "
                              f"the {MAX_HEADER_CHARS:,} taco reads; a real one is about 2,000)")
    try:
        header = json_object(meta["taco"])
    except ValueError as exc:  # bad JSON, a 5,000-digit number, [[[[..., a list
        raise CheckpointError(f"{path}: corrupt taco header ({exc})") from None
    problem = format_problem(header, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, "taco checkpoint")
    if problem:
        raise CheckpointError(f"{path}: {problem}")
    if not isinstance(header.get("metadata") or {}, dict):  # what describe_model and load read
        raise CheckpointError(f"{path}: corrupt taco header (its metadata is not a JSON object)")
    return header


def training_state_message(path: str | os.PathLike[str]) -> str:
    """One line for a training state (``RUN/train_state.safetensors`` or its index) given where a
    model belongs: what it is, and what to give instead (its run's checkpoint, or that the run
    has none yet)."""
    path = Path(path)
    run = path.parent
    if find(run / CHECKPOINT_FILE) is None:
        return (f"{path} is a training state for taco train --resume, not a model; its run ({run}) "
                f"has no model checkpoint ({CHECKPOINT_FILE}) yet: train it further (taco train "
                f"--resume {shell_word(run)}), then give {run}")
    return (f"{path} is a training state for taco train --resume, not a model: give "
            f"{run / CHECKPOINT_FILE} or its run's folder ({run})")


def no_checkpoint_message(folder: str | os.PathLike[str]) -> str:
    """One line for a folder given as a model that holds no :data:`taco.shards.CHECKPOINT_FILE`:
    a training run's (its config, log or training state is there) that has not written one yet,
    or another folder (naming the checkpoints it may hold under other names)."""
    folder = Path(folder)
    if (any((folder / name).is_file() for name in RUN_FILES)
            or find(folder / TRAIN_STATE_FILE) is not None):
        return (f"{folder} is a training run with no model checkpoint yet ({CHECKPOINT_FILE}): "
                f"train it further (taco train --resume {shell_word(folder)}), or give its folder once it has one")
    shard = re.compile(r"-\d{5}-of-\d{5}\.safetensors$")  # a piece of a sharded file, not a file to give
    try:
        held = sorted(p.name for p in folder.iterdir()
                      if p.name.endswith((".safetensors", ".safetensors" + INDEX_SUFFIX))
                      and not shard.search(p.name))
    except OSError:  # an unreadable folder: nothing to suggest from it
        held = []
    more = ", ..." if len(held) > 3 else ""
    files = f"one of its files ({', '.join(held[:3])}{more})" if held else "a checkpoint file"
    return (f"{folder} is a folder without a model checkpoint ({CHECKPOINT_FILE}), not a training "
            f"run: give {files}, a training run's folder or a built-in model name")


def header_config(header: dict[str, Any], path: str | os.PathLike[str]) -> ModelConfig:
    """The architecture a checkpoint's taco header (read from ``path``) gives; a missing or
    invalid one is a :class:`CheckpointError` naming ``path``, and so is an invalid text encoder
    entry (:func:`taco.text_specs.text_encoder_spec_problem`: an unknown name or option, a value
    of the wrong kind), read without torch: ``taco models FILE`` refuses it as :func:`taco.load`
    and training's ``init_from`` do."""
    if not isinstance(header.get("config"), dict):
        raise CheckpointError(f"{path}: the taco header has no model config")
    try:
        config = ModelConfig.from_dict(header["config"])
    except CheckpointError as exc:  # unknown fields, an unknown architecture: its own type
        raise type(exc)(f"{path}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: invalid model config in the taco header ({exc})") from None
    if config.text_encoder is not None:
        problem = text_encoder_spec_problem(config.text_encoder)
        if problem:  # said where the model is loaded, not where its first caption is encoded
            raise CheckpointError(f"{path}: invalid model config in the taco header ({problem})")
    return config


def header_model_id(header: dict[str, Any], path: str | os.PathLike[str]) -> str:
    """The model id a checkpoint's taco header gives (``custom`` when it has none), which the
    ``.taco`` files it makes will carry; an unusable one is a :class:`CheckpointError`."""
    model_id = header.get("model_id", "custom")
    problem = model_id_problem(model_id)
    if problem:
        raise CheckpointError(f"{path}: invalid model id {str(model_id)!r:.60} in the taco header: "
                              f"{problem}")
    return model_id


def checkpoint_shapes(path: str | os.PathLike[str], *, found: Path | None = None
                      ) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, safetensors dtype) of every tensor of a checkpoint in either layout, read
    from the safetensors headers only (no weight is loaded); ``found`` as for
    :func:`checkpoint_metadata`."""
    with reading_headers(path):
        return tensor_shapes(path, found=found)
