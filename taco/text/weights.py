"""A text encoder's weights from a model folder someone else made (Hugging Face's layouts).

The network is built on the meta device from the folder's config.json, the tensors' shapes are
read from the weight files' headers, and only when every tensor the network needs is there with
its shape are the tensors read -- those alone (a ``CLIPModel``'s vision tower is never read) --
and assigned to the network in float32. So a config whose sizes do not match its weights is a
clear error before anything is allocated for it, and no random initialisation is paid for.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..atomic import special_file
from ..checks import is_int, is_number
from ..draws import private_draws
from ..filekinds import WEIGHT_SUFFIXES, image_file_problem, text_file_problem
from ..fileobjects import pickle_expansion_problem, zip_inflation_problem
from ..jsonfiles import is_file_name, read_json_object
from ..memory import OutOfMemoryError, allocation_failure
from ..messages import SPECIAL_FILE
from ..shards import check_header_size, opens_by_name, tensor_shapes
from .base import TextEncoderUnavailable
from .hf import MODEL_WEIGHTS, WEIGHT_FILES

#: The most bytes of a model folder's small JSON files taco reads (config.json,
#: model.safetensors.index.json, tokenizer_config.json, special_tokens_map.json): a CLIP's
#: config.json has a few kB, an index about 100 bytes per tensor (a text tower has some 200);
#: a larger file is refused unread.
CONFIG_MAX_BYTES = 1 << 20
#: The most bytes of a model folder's tokenizer.json read (CLIP's and MiniLM's alike): CLIP's
#: vocabulary written by ``tokenizers`` has 1.7 MB (3.6 MB indented; parsing it peaked at 18 MB),
#: MiniLM's 0.7 MB; a larger file is refused unread (a link to ``/proc/self/pagemap`` grew to 4.7 GB).
TOKENIZER_MAX_BYTES = 16 * 2**20
#: The files of a model folder that a text encoder's loaders read, besides every weight file
#: (:data:`taco.filekinds.WEIGHT_SUFFIXES`, shards too): what :func:`refuse_special_files` looks at.
FOLDER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                "vocab.json", "vocab.txt", "merges.txt", *MODEL_WEIGHTS)


def refuse_special_file(file: Path) -> None:
    """Raise :class:`TextEncoderUnavailable` ``'FILE': not a regular file (a pipe, a device or a
    socket)`` when the model folder's ``file`` is (or links to) a named pipe, a device or a
    socket (``tar x`` makes named pipes), before anything opens it: its open or read may wait for
    ever."""
    if special_file(file):
        raise TextEncoderUnavailable(f"{os.fspath(file)!r}: not a regular file ({SPECIAL_FILE})")


def refuse_special_files(folder: Path) -> None:
    """:func:`refuse_special_file` for each file of ``folder`` that a loader reads
    (:data:`FOLDER_FILES` and every weight file), before any is opened; a folder that cannot be
    listed is left to the loaders."""
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except OSError:
        return
    for name in names:
        if name in FOLDER_FILES or name.endswith(WEIGHT_SUFFIXES):
            refuse_special_file(folder / name)


def load_network(build: Callable[[], nn.Module], folder: str | os.PathLike[str],
                 rename: Callable[[str], str], what: str) -> nn.Module:
    """``build()``'s network holding the weights of ``folder`` (:data:`WEIGHT_FILES`), float32.

    ``rename``: a stored tensor's name -> the network's name for it (e.g. without a prefix);
    stored tensors the network does not have are ignored. Raises :class:`TextEncoderUnavailable`
    naming the folder when ``build`` fails (it builds from the folder's config.json: that is the
    config's error), when the weights cannot be read, or when they lack or mis-shape some of the
    network's tensors (``what``: the network's name in that message). Running out of memory
    (:func:`loading_out_of_memory`: not the folder's fault) raises :class:`OutOfMemoryError`.
    """
    root = Path(folder)
    try:
        with private_draws(), torch.device("meta"):
            network = build()
    except Exception as e:
        if oom := loading_out_of_memory(e, f"the text encoder's weights in {os.fspath(root)!r}"):
            raise oom from None
        raise TextEncoderUnavailable(f"{os.fspath(root)!r}: no usable config.json ({e})") from e
    wanted = {name: tuple(t.shape) for name, t in network.state_dict().items()}
    try:
        files = _WeightFiles(root, rename)
        shapes = files.shapes()
        bad = sorted(k for k in wanted if shapes.get(k) != wanted[k])
        if bad:
            raise TextEncoderUnavailable(
                f"{os.fspath(root)!r}: the checkpoint lacks or mis-shapes {len(bad)} weights of "
                f"{what} ({', '.join(bad[:3])}, ...)")
        tensors = {k: t.float() for k, t in files.tensors(set(wanted)).items()}
    except TextEncoderUnavailable:
        raise
    except Exception as e:
        if oom := loading_out_of_memory(e, f"the text encoder's weights in {os.fspath(root)!r}"):
            raise oom from None
        raise TextEncoderUnavailable(f"{os.fspath(root)!r}: cannot read the weights ({e})") from e
    network.load_state_dict(tensors, assign=True)
    return network


def loading_out_of_memory(exc: BaseException, what: str) -> OutOfMemoryError | None:
    """The :class:`OutOfMemoryError` to raise for ``exc`` when it is an allocation failure while
    loading ``what`` (a model's weights, a tokenizer): ``out of memory loading WHAT: could not
    allocate 86.7 MiB`` (:func:`taco.memory.allocation_failure`, torch's failed mmap of a weight
    file included: ``could not map 86.7 MiB``); ``exc`` itself when it is one already; None for
    any other error, which is the file's to report."""
    if isinstance(exc, OutOfMemoryError):
        return exc
    why = allocation_failure(exc)
    if why is None:
        return None
    return OutOfMemoryError(f"out of memory loading {what}: {why}")


#: The most a text encoder's config.json may name: widths, vocabulary and positions; layers.
MAX_SIZE, MAX_LAYERS = 1 << 20, 256


def checked_config(config: dict[str, Any], sizes: tuple[str, ...]) -> dict[str, Any]:
    """``config`` with ``sizes`` checked to be integers in [1, :data:`MAX_SIZE`] (layers: [1,
    :data:`MAX_LAYERS`]), ``num_attention_heads`` to divide ``hidden_size`` and
    ``layer_norm_eps`` to be a positive number, before a network is built from them (on the meta
    device too, a million layers would take forever). Raises ValueError saying which is wrong."""
    for name in sizes:
        checked_size(config, name)
    if config["hidden_size"] % config["num_attention_heads"]:
        raise ValueError(f"hidden_size {config['hidden_size']} is not a multiple of "
                         f"num_attention_heads {config['num_attention_heads']}")
    eps = config.get("layer_norm_eps")
    if not (is_number(eps) and 0 < eps < 1):
        raise ValueError(f"layer_norm_eps must be a number in (0, 1), not {eps!r}")
    return config


def checked_size(config: dict[str, Any], name: str) -> int:
    """``config[name]``, which must be an integer in [1, :data:`MAX_SIZE`] ([1,
    :data:`MAX_LAYERS`] for ``num_hidden_layers``); ValueError saying so otherwise."""
    value = config.get(name)
    limit = MAX_LAYERS if name == "num_hidden_layers" else MAX_SIZE
    if not is_int(value, 1, limit):
        raise ValueError(f"{name} must be an integer in [1, {limit}], not {value!r:.40}")
    return value


def empty_embedding(n: int, d: int) -> nn.Embedding:
    """An ``nn.Embedding(n, d)`` whose weights are left uninitialised, for networks whose weights
    are loaded (or drawn) afterwards: on the meta device, ``nn.Embedding``'s own normal
    initialisation runs torch's Python meta kernel, whose first call imports sympy (~1.2 s)."""
    return nn.Embedding.from_pretrained(torch.empty(n, d), freeze=False)


#: The class a pickle names that ``torch.load(weights_only=True)`` refused, in the words of
#: torch <= 2.5 ("Unsupported global: GLOBAL posix.system was not an allowed global") and of
#: torch >= 2.6 ("Trying to load unsupported GLOBAL posix.system whose module posix is blocked").
_REFUSED_GLOBAL = re.compile(r"unsupported\s+global:?\s+(?:global\s+)?([\w.]+)", re.IGNORECASE)


def torch_load_problem(exc: BaseException) -> str:
    """What went wrong in ``torch.load(..., weights_only=True)``, in one line that never passes
    on torch's own text when it refused the file: that text advises ``weights_only=False``,
    which would run the code a hostile pickle carries."""
    text = str(exc)
    refused = _REFUSED_GLOBAL.search(text)
    if refused:
        return (f"refused: it holds {refused.group(1)}; taco never unpickles code (it reads "
                "tensors and plain containers only)")
    detail = re.search(r"WeightsUnpickler error:\s*(.+)", text)
    if detail:  # a pickle instruction or a type weights_only does not take
        return f"not a readable PyTorch checkpoint ({detail.group(1).strip()})"
    if "weights_only" in text or "weights only" in text.lower():
        return ("refused: it holds more than tensors and plain containers; taco never unpickles "
                "code")
    first = (text.strip().splitlines() or [type(exc).__name__])[0]
    return f"not a readable PyTorch checkpoint ({first})"


def _declared_past_file(exc: BaseException, path: Path) -> str | None:
    """For an allocation failure (:func:`taco.memory.allocation_failure`) of far more bytes than
    the file at ``path`` holds (a storage's bytes are the file's: a 415-byte file declaring 256
    GiB), "it declares N GiB in an M-byte file: not a checkpoint (corrupt or hostile)"; None
    otherwise (running out of memory is then said as such)."""
    m = re.search(r"allocate (\d+) bytes", str(exc))
    if m is None or allocation_failure(exc) is None:
        return None
    try:
        size = os.stat(path).st_size
    except OSError:
        return None
    wanted = int(m.group(1))
    if wanted <= 2 * size + 2**20:
        return None
    amount = f"{wanted / 2**30:.1f} GiB" if wanted >= 2**30 else f"{wanted / 2**20:.1f} MiB"
    return (f"it declares {amount} in a {size:,}-byte file: not a checkpoint "
            "(corrupt or hostile)")


def load_torch_file(path: Path, *, mmap: bool = False) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, the one way taco reads a torch pickle
    (an authors' checkpoint, a text encoder's ``pytorch_model.bin``): a ``.taco`` file or an
    image is named as one (:func:`taco.filekinds.image_file_problem`, once torch.load has failed
    on it); its zip records are checked (:func:`taco.fileobjects.zip_inflation_problem`) first,
    then its pickles, for objects repeating shared parts past a bound (a 1.4 KB file keyed by a
    tuple nested 28 deep of shared halves, whose key unpickling hashes 2**28 times over:
    :func:`taco.fileobjects.pickle_expansion_problem`). A file that cannot be read is a
    ValueError saying why in one line (:func:`torch_load_problem`; for a text file, such as a Git LFS pointer,
    :func:`taco.filekinds.text_file_problem`), for the caller to put into its own error class
    naming the file; running out of memory reading it is an :class:`OutOfMemoryError` naming it
    (:func:`loading_out_of_memory`), not a bad file."""
    # (the zip check before torch inflates a compressed record whole; an image or a .taco file
    # never starts as a zip, so it is named after the load fails, as a text file is)
    problem = zip_inflation_problem(path) or pickle_expansion_problem(path)
    if problem:
        raise ValueError(problem)
    try:
        with warnings.catch_warnings():  # a plain pickle (protocol 3 up): torch warns, asking for
            # an issue to be filed, before refusing it; the refusal says what is wrong
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, ... for a bad file
        if declared := _declared_past_file(exc, path):
            raise ValueError(declared) from None
        if oom := loading_out_of_memory(exc, os.fspath(path)):
            raise oom from None
        raise ValueError(image_file_problem(path) or text_file_problem(path)
                         or torch_load_problem(exc)) from None


def _indexed_files(index_file: Path) -> list[str]:
    """The shard files a Hugging Face ``model.safetensors.index.json`` names (its weight map's
    values), each a file in the index's folder: a name with a path in it is refused, as
    :mod:`taco.shards` refuses one (``../../etc/passwd`` was opened). The index is read within
    :data:`CONFIG_MAX_BYTES`."""
    try:
        index = read_json_object(index_file, CONFIG_MAX_BYTES)
    except (OSError, ValueError) as e:
        raise TextEncoderUnavailable(f"{os.fspath(index_file)!r}: unreadable index ({e})") from None
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise TextEncoderUnavailable(f"{os.fspath(index_file)!r}: no weight_map (tensor name -> file)")
    for name in weight_map.values():
        if not is_file_name(name):
            raise TextEncoderUnavailable(f"{os.fspath(index_file)!r}: weight_map names {name!r:.80}, "
                                         "not a file in the index's folder")
    return sorted(set(weight_map.values()))


class _WeightFiles:
    """The weights of a folder: one safetensors file, sharded ones, or a torch pickle read with
    ``weights_only=True`` (memory-mapped), its zip records checked first
    (:func:`taco.fileobjects.zip_inflation_problem`)."""

    def __init__(self, root: Path, rename: Callable[[str], str]) -> None:
        self.rename = rename
        self.pickled: dict[str, Any] | None = None
        for name in WEIGHT_FILES:  # (not said to hold no weights)
            refuse_special_file(root / name)
        if (root / "model.safetensors").is_file():
            self.files = [root / "model.safetensors"]
        elif (root / "model.safetensors.index.json").is_file():
            self.files = [root / f for f in _indexed_files(root / "model.safetensors.index.json")]
        elif (root / "pytorch_model.bin").is_file():
            self.files = []
            try:  # (torch's mmap read a deflated record's compressed bytes as its weights)
                self.pickled = load_torch_file(root / "pytorch_model.bin", mmap=True)
            except ValueError as e:
                raise TextEncoderUnavailable(f"{os.fspath(root / 'pytorch_model.bin')!r}: {e}") from None
        else:
            raise TextEncoderUnavailable(
                f"{os.fspath(root)!r} holds no weights ({', '.join(WEIGHT_FILES)})")

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every stored tensor's shape, by the network's name, from the headers alone."""
        if self.pickled is not None:
            return {self.rename(k): tuple(t.shape) for k, t in self.pickled.items()}
        from safetensors import safe_open

        out: dict[str, tuple[int, ...]] = {}
        for file in self.files:
            refuse_special_file(file)  # (a shard: text_file_problem opens it)
            if problem := text_file_problem(file):  # safetensors: "header too large"
                raise TextEncoderUnavailable(f"{os.fspath(file)!r}: {problem}")
            check_header_size(file)  # before safetensors reads up to 100 MB of header
            if not opens_by_name(file):  # (a folder whose name is not UTF-8): taco's own reader
                for key, (shape, _) in tensor_shapes(file, found=file).items():
                    out[self.rename(key)] = shape
                continue
            with safe_open(os.fspath(file), "pt") as f:
                for key in f.keys():  # noqa: SIM118 - safe_open is not a mapping
                    out[self.rename(key)] = tuple(f.get_slice(key).get_shape())
        return out

    def tensors(self, names: set[str]) -> dict[str, Tensor]:
        """The stored tensors of ``names`` (by the network's names), and no others."""
        if self.pickled is not None:
            return {n: t for k, t in self.pickled.items() if (n := self.rename(k)) in names}
        from safetensors import safe_open

        out: dict[str, Tensor] = {}
        for file in self.files:
            if not opens_by_name(file):  # safe_open takes UTF-8 names only: read the bytes
                from safetensors.torch import load

                for key, tensor in load(file.read_bytes()).items():
                    if (name := self.rename(key)) in names:
                        out[name] = tensor
                continue
            with safe_open(os.fspath(file), "pt") as f:
                for key in f.keys():  # noqa: SIM118 - safe_open is not a mapping
                    if (name := self.rename(key)) in names:
                        out[name] = f.get_tensor(key)
        return out
