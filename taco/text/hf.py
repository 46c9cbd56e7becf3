"""Hugging Face plumbing: finding a model's local folder (:func:`model_folder`, the one way every
part of taco finds or fetches a Hugging Face model: the CLIP text encoder, the training loss's
CLIP, CMMD's CLIP, the captioner); detecting ``HF_HUB_OFFLINE`` and probing the hub in a few
seconds, so a missing model fails at once instead of after minutes of huggingface_hub retries;
the one lock taco's transformers loads take in turn, their load reports quieted meanwhile
(:func:`quiet_transformers`); refusing a tokenizer built without its vocabulary.

Nothing here imports huggingface_hub or transformers until a function needs it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..filekinds import text_weights_problem
from ..locks import ForkSafeLock
from ..messages import one_line
from .base import TextEncoderUnavailable

_TRUTHY = {"1", "on", "yes", "true"}
#: Below this many entries a tokenizer was built without its vocabulary files (transformers'
#: CLIPTokenizer then "works" with 2 tokens and maps every word to the same id).
MIN_VOCAB = 1000
#: The weight files of a Hugging Face model folder that taco's own loader reads
#: (:func:`taco.text.weights.load_network`), in the order they are looked for.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
#: The weight files of a transformers model folder, one of which :func:`has_weights` asks for:
#: those and the index of a sharded ``pytorch_model.bin``, which transformers also reads.
MODEL_WEIGHTS = (*WEIGHT_FILES, "pytorch_model.bin.index.json")
#: What :func:`model_folder` downloads of a repository (its top folder only): configs,
#: tokenizer and processor files, safetensors weights; ``pytorch_model*.bin`` only when the
#: repository has no safetensors (not the TF/Flax/ONNX copies many repositories also hold).
_DOWNLOAD = ["*.json", "*.txt", "*.model", "*.safetensors"]
#: Seconds :func:`download_model` waits for the hub's answer to the request for a model's file
#: list (huggingface_hub's ``repo_info`` waits forever by default).
HUB_TIMEOUT = 10.0
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


#: The one lock taco's transformers loads take (:func:`quiet_transformers`).
_TRANSFORMERS = ForkSafeLock()
_holding = threading.local()  # .depth: how many quiet_transformers blocks this thread is in


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Hold taco's process-wide transformers lock, and silence transformers' load reports and
    progress bars meanwhile (restored after): the block every transformers import and
    ``from_pretrained`` of taco's runs in (the captioner, CMMD's CLIP, the training loss's CLIP
    and its tokenizer).

    transformers' ``from_pretrained`` is not thread-safe: two captioners loaded at once in two
    threads (a web service's thread pool) lost their tied weights ("not a complete
    BlipForConditionalGeneration (missing or mis-shaped weights ...)"), and every load in the
    process failed after; the first import of its lazy names raced ("cannot import name
    'AutoConfig' from 'transformers'"); and the logging state saved and restored around each
    load (process-wide) was left changed. Loads in several threads now take turns. A block
    nested in another of the same thread runs in it (the lock is held already)."""
    if getattr(_holding, "depth", 0):
        _holding.depth += 1
        try:
            yield
        finally:
            _holding.depth -= 1
        return
    with _TRANSFORMERS:
        _holding.depth = 1
        try:
            from transformers.utils import logging

            verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
            logging.set_verbosity_error()
            logging.disable_progress_bar()
            try:
                yield
            finally:
                logging.set_verbosity(verbosity)
                if bars:
                    logging.enable_progress_bar()
        finally:
            _holding.depth = 0


def check_vocab(tokenizer: Any, source: str) -> None:
    """Refuse a tokenizer built without its vocabulary (see :data:`MIN_VOCAB`)."""
    if len(tokenizer) < MIN_VOCAB:
        raise TextEncoderUnavailable(
            f"the tokenizer from {source} has only {len(tokenizer)} tokens: its vocabulary files "
            "(vocab.json + merges.txt, or tokenizer.json) are missing"
        )


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set (read now, not at import)."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUTHY
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the Hugging Face hub cannot be reached, or None if it answers within ``timeout`` s.

    huggingface_hub retries a dead connection for minutes; one HEAD request in a daemon thread
    (DNS lookups ignore socket timeouts) bounds the wait. Proxies from the environment apply.
    """
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    failure: list[BaseException] = []

    def probe() -> None:
        try:
            urllib.request.urlopen(
                urllib.request.Request(endpoint, method="HEAD"), timeout=timeout
            ).close()
        except urllib.error.HTTPError:
            pass  # the server answered, with whatever status
        except Exception as e:  # any other failure means unreachable
            failure.append(e)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    if thread.is_alive():
        return f"{endpoint} did not answer within {timeout:.0f} s"
    if failure:
        return f"{endpoint} is unreachable ({failure[0]})"
    return None


def holds_other_model(model_type: str, wanted: str) -> str:
    """``holds a bert model, not a CLIP``: why a model folder whose config.json names
    ``model_type`` is not ``wanted`` (the type on one line, at most 40 characters). The one
    wording of the text encoder's, CMMD's and the captioner's checks."""
    return f"holds a {one_line(model_type, 40)} model, not {wanted}"


def load_failure(folder: str | os.PathLike[str], exc: BaseException) -> str:
    """Why transformers could not load the model in ``folder``, in one line: a weight file that
    is text (a Git LFS pointer: :func:`taco.filekinds.text_weights_problem`), else the loader's
    own error. CMMD's CLIP and the captioner word it alike."""
    return text_weights_problem(folder) or one_line(str(exc), 300) or type(exc).__name__


def unloaded_weights(info: dict[str, Any]) -> str:
    """The weights transformers' ``output_loading_info`` says are missing or mis-shaped, the
    first three named (``a, b, c, ...``); ``""`` when there are none."""
    bad = sorted(info["missing_keys"]) + sorted(k[0] for k in info["mismatched_keys"])
    return f"{', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}"


def is_hub_id(name: str) -> bool:
    """Whether ``name`` is shaped like a Hugging Face model id (``org/model`` or ``model``) and is
    no existing path: ``./clip``, ``/data/clip`` or ``~/clip`` are folders asked for."""
    return bool(_HUB_ID.match(name)) and not os.path.exists(name)


def has_weights(folder: Path) -> bool:
    """Whether ``folder`` holds a transformers model: config.json and one of :data:`MODEL_WEIGHTS`."""
    return (folder / "config.json").is_file() and any((folder / f).is_file() for f in MODEL_WEIGHTS)


def download_model(name: str) -> str:
    """The folder of the Hugging Face model ``name`` in the local cache, after downloading the
    files of its top folder that :data:`_DOWNLOAD` names (``pytorch_model*.bin`` too when it has
    no safetensors). The file list is asked for with a :data:`HUB_TIMEOUT`: huggingface_hub's
    ``snapshot_download`` asks with none, and a hub that answered the probe but stalled that
    request hung forever; each file's own requests are bounded by huggingface_hub
    (``HF_HUB_ETAG_TIMEOUT``, ``HF_HUB_DOWNLOAD_TIMEOUT``). Every file comes from the commit the
    list was read at (``main`` could move between two files); the cache's ``refs/main`` is then
    set to that commit, where huggingface_hub's cache lookup (offline too) finds the snapshot.
    The hub and the cache are huggingface_hub's ``constants.ENDPOINT`` and ``HF_HUB_CACHE`` as
    they are now, passed explicitly (huggingface_hub before 1.0 otherwise takes copies made when
    its modules were imported)."""
    from huggingface_hub import HfApi, constants, hf_hub_download

    from ..atomic import write_text_atomic

    endpoint, cache = constants.ENDPOINT, constants.HF_HUB_CACHE
    info = HfApi(endpoint=endpoint).model_info(name, timeout=HUB_TIMEOUT)
    files = [s.rfilename for s in info.siblings or [] if "/" not in s.rfilename]
    wanted = [f for f in files if any(fnmatch.fnmatch(f, p) for p in _DOWNLOAD)]
    if not any(f.endswith(".safetensors") for f in wanted):
        wanted += [f for f in files if fnmatch.fnmatch(f, "pytorch_model*.bin")]
    if not wanted:
        raise ValueError("the repository has none of the files a model needs")
    paths = [hf_hub_download(name, f, revision=info.sha, cache_dir=cache, endpoint=endpoint)
             for f in sorted(wanted)]
    snapshot = Path(paths[-1]).parent  # REPO_CACHE/snapshots/SHA (top-folder files only)
    if info.sha:
        write_text_atomic(snapshot.parent.parent / "refs" / "main", info.sha)
    return os.fspath(snapshot)


def model_folder(
    name: str | os.PathLike[str],
    *,
    what: str,
    fix: str,
    error: Callable[[str], Exception],
    allow_download: bool = True,
    complete: Callable[[Path], bool] = has_weights,
) -> str:
    """The local folder of the model ``name``: ``name`` itself when it is a folder (``~``
    expanded; its files are the loader's to check), else the snapshot of the Hugging Face id
    ``name`` in the local cache when it is ``complete`` there, else that snapshot downloaded
    (:data:`_DOWNLOAD`'s files), if ``allow_download`` and the hub answers within seconds
    (:func:`hub_unreachable`).

    Otherwise raises ``error`` (the caller's :class:`taco.errors.TacoError`) with one line that
    says what is missing (``what``: ``"CLIP"``, ``"captioner"``, and ``name``), where it was
    looked for (the cache folder), why it was not fetched (downloading off here,
    ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` set, the hub unreachable, or the download's
    error) and, from ``fix``, what to do about it (the caller's flags and variables).
    Imports huggingface_hub only for a hub id.
    """
    name = os.path.expanduser(os.fspath(name))
    if os.path.isdir(name):
        return name
    exists = "" if os.path.exists(name) else " (no such folder)"
    if not is_hub_id(name):
        raise error(f"{what}: {name!r} is not a folder{exists}, nor a Hugging Face model id. {fix}")
    from huggingface_hub import constants, try_to_load_from_cache

    try:
        # the cache the error below names (old huggingface_hub defaults to an import-time copy)
        config = try_to_load_from_cache(name, "config.json", cache_dir=constants.HF_HUB_CACHE)
    except ValueError as e:  # HFValidationError: 'a--b', 'x.git', over 96 characters
        raise error(f"{what}: {name!r} is not a folder{exists}, nor a Hugging Face model id "
                    f"({e}) {fix}") from None
    if isinstance(config, str) and complete(Path(config).parent):
        return os.path.dirname(config)
    if not allow_download:
        why = "downloading is off here"
    elif hub_offline():
        why = "HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set, so it cannot be downloaded"
    else:
        reason = hub_unreachable()
        why = "" if reason is None else f"it cannot be downloaded: {reason}"
    if why:
        raise error(f"{what}: {name!r} is not a folder and not (completely) in the Hugging Face "
                    f"cache {constants.HF_HUB_CACHE}, and {why}. {fix}")
    try:
        folder = download_model(name)
    except Exception as e:  # no such repository, a gated one, a stalled or broken connection, a full disk
        why = f"no answer within {HUB_TIMEOUT:g} s" if "Timeout" in type(e).__name__ else one_line(str(e), 300).rstrip(".")
        raise error(f"{what}: cannot download {name!r} from the Hugging Face hub "
                    f"({constants.ENDPOINT}): {why}. {fix}") from e
    if not complete(Path(folder)):
        raise error(f"{what}: the Hugging Face repository {name!r} lacks files a model needs "
                    f"(downloaded to {folder}). {fix}")
    return folder
