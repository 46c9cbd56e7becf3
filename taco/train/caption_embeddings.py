"""Caption embeddings computed once: the frozen text encoder's tokens for every caption of a run,
kept on the training device, and a small file that carries them to a machine without the encoder.

    table = CaptionTable.encode(captions, encoder, spec, device)   # each caption once
    table.save("embeddings.safetensors")        # float16 tokens (K, m, d), bool masks (K, m)
    table = CaptionTable.load("embeddings.safetensors", device)
    text = table.lookup(["a cat on a sofa", ...])   # TextTokens (B, m, d) on the device

The file (``taco train CONFIG --embed-captions FILE`` makes it for the config's training and
validation captions) is what a GPU machine without MiniLM's package or CLIP's weights trains
from (``text_embeddings: FILE``). Its metadata names the encoder (``{"name": "minilm", ...}``):
a model with another encoder refuses it. Tokens are stored in float16 (a relative rounding of
about 5e-4; the text adapter's LayerNorm follows); a table encoded in-process keeps float32, so it
gives exactly what the encoder gives.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..atomic import save_safetensors_atomic
from ..messages import count
from ..models import ELIC
from ..progress import LINES_EVERY, progress_bar
from ..shards import ShardedFileError, load_sharded, read_format_metadata
from ..text.base import (
    DEFAULT_MAX_TOKENS,
    CaptionTextError,
    CaptionTooLongError,
    TextEncoder,
    TextEncoderUnavailable,
    TextTokens,
    normalize_caption,
)
from .config import ConfigError, TrainConfig

FORMAT = "taco-caption-embeddings"
VERSION = 1
_META_KEY = "taco_caption_embeddings"


class CaptionTable:
    """Text tokens of a fixed set of captions, looked up by caption.

    tokens: (K, m, d) float, mask: (K, m) bool, row k for ``captions[k]`` (normalised, unique).
    ``encoder``: the text encoder spec they were made with (``{"name": ..., **options}``).
    """

    def __init__(self, captions: Sequence[str], tokens: Tensor, mask: Tensor, encoder: dict[str, Any]) -> None:
        if tokens.shape[:2] != mask.shape or tokens.shape[0] != len(captions):
            raise ValueError(
                f"{len(captions)} captions, tokens {tuple(tokens.shape)}, mask {tuple(mask.shape)}"
            )
        self.captions = list(captions)
        self.row = {c: i for i, c in enumerate(self.captions)}
        self.tokens, self.mask = tokens, mask
        self.encoder = dict(encoder)

    def __len__(self) -> int:
        return len(self.captions)

    @property
    def device(self) -> torch.device:
        return self.tokens.device

    @classmethod
    @torch.no_grad()
    def encode(
        cls, captions: Iterable[str], encoder: TextEncoder, spec: dict[str, Any],
        device: torch.device | str, batch_size: int = 256, *, progress: bool = False,
        say: Callable[[str], None] | None = None,
    ) -> CaptionTable:  # fmt: skip
        """Encode each distinct caption once with ``encoder`` (float32, on ``device``): on a
        CPU some 100 captions a second with MiniLM, an hour for COCO's 414,000. ``say`` is
        given a line before the work starts (``encoding 2,000 captions with minilm ...``), so a
        log shows what the run is doing; ``progress``: a bar of the captions encoded
        (:func:`taco.progress.progress_bar`: on a terminal, or in a notebook), and where none is
        drawn (a log file) a line a minute saying how far it is (``captions: 25,600/414,113
        caption, 4:10 elapsed, ~1:03:12 left``)."""
        unique = sorted({normalize_caption(c) for c in captions})
        if not unique:
            raise ValueError("no captions to encode")
        if say is not None:
            say(f"encoding {count(len(unique), 'caption')} with {spec.get('name', 'the text encoder')} ...")
        tokens, masks = [], []
        bar = (progress_bar(total=len(unique), desc="captions", unit="caption", lines_every=LINES_EVERY)
               if progress else None)
        try:
            for i in range(0, len(unique), batch_size):
                chunk = unique[i : i + batch_size]
                out = encoder.encode(chunk)
                tokens.append(out.tokens.float().to(device))
                masks.append(out.mask.to(device))
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        encoder.clear_cache()  # the table holds them now
        return cls(unique, torch.cat(tokens), torch.cat(masks), spec)

    def missing(self, captions: Iterable[str]) -> list[str]:
        """The captions (normalised) that have no row."""
        return sorted({c for c in map(normalize_caption, captions) if c not in self.row})

    def lookup(self, captions: Sequence[str]) -> TextTokens:
        """Tokens (B, m, d) float32 and mask (B, m) of ``captions``, on the table's device."""
        try:
            rows = [self.row[normalize_caption(c)] for c in captions]
        except KeyError as e:
            raise TextEncoderUnavailable(
                f"caption {e.args[0]!r} is not in the caption-embeddings table "
                f"({len(self)} captions); make the table from the data you train on"
            ) from None
        index = torch.tensor(rows, dtype=torch.long).to(self.device, non_blocking=True)
        return TextTokens(self.tokens[index].float(), self.mask[index])

    # ----------------------------------------------------------------- file

    def save(self, path: str | os.PathLike[str], dtype: torch.dtype = torch.float16) -> Path:
        """Write the table (tokens as ``dtype``) atomically; the encoder spec and captions go
        into the metadata."""
        meta = {"format": FORMAT, "version": VERSION, "encoder": self.encoder,
                "captions": self.captions}  # fmt: skip
        tensors = {"tokens": self.tokens.to(dtype).cpu().contiguous(),
                   "mask": self.mask.cpu().contiguous()}  # fmt: skip
        return save_safetensors_atomic(tensors, path, metadata={_META_KEY: json.dumps(meta)})

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: torch.device | str = "cpu") -> CaptionTable:
        """Read a file written by :meth:`save` (tokens stay in the file's dtype until looked up).

        Every way the file can be wrong (missing, not safetensors, a header over
        :data:`taco.shards.SAFETENSORS_HEADER_MAX_BYTES`, metadata that is not this format's JSON
        object, tensors missing or of shapes that disagree with the captions) is a
        :class:`ConfigError` naming the file.
        """
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such file")
        try:
            meta = read_format_metadata(path, _META_KEY, FORMAT, VERSION, "taco caption-embeddings file")
            tensors = load_sharded(path, device=str(device))[0]
        except ShardedFileError as e:
            raise ConfigError(str(e)) from None
        problem = _table_problem(meta, tensors)
        if problem:
            raise ConfigError(f"{path}: corrupt caption-embeddings file ({problem})")
        return cls(meta["captions"], tensors["tokens"], tensors["mask"], meta["encoder"])


def _table_problem(meta: dict[str, Any], tensors: dict[str, Tensor]) -> str | None:
    """What is wrong with a caption-embeddings file's metadata and tensors as :class:`CaptionTable`
    reads them (None: nothing)."""
    captions = meta.get("captions")
    if not isinstance(captions, list) or not captions or not all(isinstance(c, str) for c in captions):
        return "captions must be a non-empty list of strings"
    if len(set(captions)) != len(captions):
        return "captions must not repeat"
    if not isinstance(meta.get("encoder"), dict):
        return "encoder must be a JSON object"
    tokens, mask = tensors.get("tokens"), tensors.get("mask")
    if tokens is None or mask is None:
        return "it must hold the tensors tokens and mask"
    if tokens.dim() != 3 or not tokens.is_floating_point() or min(tokens.shape) < 1:
        return f"tokens must be float (K, m, d), not {tokens.dtype} {list(tokens.shape)}"
    if tokens.shape[0] != len(captions):
        return f"{len(captions)} captions, but tokens for {tokens.shape[0]}"
    if mask.dtype != torch.bool or mask.shape != tokens.shape[:2]:
        return f"mask must be bool {list(tokens.shape[:2])}, not {mask.dtype} {list(mask.shape)}"
    if not bool(torch.isfinite(tokens).all()):
        return "tokens hold NaN or infinite values"
    return None


class TableTextEncoder(TextEncoder):
    """A :class:`TextEncoder` that answers from a :class:`CaptionTable` (no model, no weights):
    what validation's real coding uses when training from an embeddings file."""

    def __init__(self, table: CaptionTable) -> None:
        super().__init__()
        self.table = table
        self.name = str(table.encoder.get("name", "table"))
        self.max_tokens, self.dim = int(table.tokens.shape[1]), int(table.tokens.shape[2])

    def _encode(self, captions: list[str]) -> TextTokens:
        return self.table.lookup(captions)


def check_captions(captions: Iterable[str], training: Dataset | None = None,
                   validation: Dataset | None = None) -> None:
    """ConfigError at a run's start for a caption the text encoders refuse (over
    :data:`taco.text.base.MAX_CAPTION_CHARS`, or text that is not UTF-8: a lone surrogate),
    instead of a crash at the step that draws it. With the run's ``training`` and ``validation``
    datasets, whose captions ``captions`` are, the error names the image whose caption it is
    (``training data: photos/cof.png: caption ...``), as ``taco compress`` does: their records
    are searched for it, only then."""
    for caption in captions:
        try:
            normalize_caption(caption)
        except (CaptionTooLongError, CaptionTextError) as e:
            where = _image_of({"training": training, "validation": validation}, caption)
            raise ConfigError(f"{where or 'training/validation data'}: {e}") from None


def _image_of(data: dict[str, Dataset | None], caption: str) -> str | None:
    """``training data: PATH`` (or ``validation data``: the keys of ``data``) of the first image
    of ``data``'s datasets whose captions hold ``caption``; None when none does."""
    from ..messages import shown_path
    from .datasets import records_of

    for what, dataset in data.items():
        if dataset is None:
            continue
        images, records = records_of(dataset)
        for record in records:
            if caption in record.captions:
                return f"{what} data: {shown_path(images.root / record.file)}"
    return None


def embed_captions(cfg: TrainConfig, path: str | os.PathLike[str], device: str = "cpu", *,
                   progress: bool = True, say: Callable[[str], None] | None = None) -> CaptionTable:
    """Encode every caption of ``cfg``'s training and validation data with its model's text
    encoder and write them to ``path`` (what ``taco train --embed-captions`` does); ``progress``
    and ``say`` as :meth:`CaptionTable.encode` takes them (a bar on a terminal; a line before
    the encoding starts)."""
    from ..text import text_encoder_from_spec
    from .datasets import build_train_dataset, build_val_dataset, dataset_captions
    from .model_setup import text_encoder_spec

    spec = text_encoder_spec(cfg)
    if spec is None:
        raise ConfigError(f"model {cfg.resolved_model()!r} takes no text: nothing to embed")
    training, validation = build_train_dataset(cfg), build_val_dataset(cfg)
    captions = dataset_captions(training) + dataset_captions(validation)
    check_captions(captions, training, validation)
    encoder = text_encoder_from_spec(spec).to(device)
    table = CaptionTable.encode(captions, encoder, spec, device, progress=progress, say=say)
    table.save(path)
    return table


def text_inputs(
    model: ELIC, cfg: TrainConfig, captions: list[str], device: torch.device,
    training: Dataset | None = None, validation: Dataset | None = None, *,
    progress: bool = False, say: Callable[[str], None] | None = None,
) -> tuple[TextEncoder | None, CaptionTable | None]:
    """What a run gives its model as text: (an encoder, for validation's real coding; a table of
    ``captions``' tokens on ``device``, or None to encode each batch with the encoder).

    ``text_embeddings: FILE``: both from the file, which must hold every caption, name the
    model's encoder and hold tokens of its shape (m, d). ``data_on_device``: the encoder, and a
    table it fills once. Otherwise the encoder alone (with its per-caption cache). A model
    without text: (None, None). ``captions`` are those of ``cfg``'s training and validation data
    (the datasets ``training`` and ``validation``, as the run built them); one the text encoders
    refuse is a ConfigError naming its image in them (:func:`check_captions`). ``progress``
    and ``say``: for the table filled once, as :meth:`CaptionTable.encode` takes them.
    """
    from ..text import model_text_encoder_spec, text_encoder_dim, text_encoder_from_spec

    spec = model_text_encoder_spec(model)
    if spec is None:
        return None, None
    check_captions(captions, training, validation)
    if cfg.text_embeddings:
        try:
            table = CaptionTable.load(cfg.text_embeddings, device)
        except ConfigError as e:
            raise ConfigError(f"text_embeddings: {e}") from None
        if table.encoder != spec:
            raise ConfigError(
                f"text_embeddings {cfg.text_embeddings} were made with the text encoder "
                f"{table.encoder}, the model uses {spec}"
            )
        # (m, d) the encoder gives, without loading it: a table of another token count trained
        # to the end (the adapter takes any m); one of another width was blamed on the checkpoint.
        # An encoder whose folder is not on this machine cannot say its d: the table's is taken
        # (the model was built for it: build_training_model).
        try:
            width = text_encoder_dim(**spec)
        except TextEncoderUnavailable:
            width = int(table.tokens.shape[2])
        shape = (spec.get("max_tokens") or DEFAULT_MAX_TOKENS, width)
        if tuple(table.tokens.shape[1:]) != shape:
            raise ConfigError(
                f"text_embeddings {cfg.text_embeddings}: tokens of {tuple(table.tokens.shape[1:])} "
                f"(m, d) per caption, but the text encoder {spec} gives {shape}; make it again "
                "with taco train CONFIG --embed-captions FILE"
            )
        missing = table.missing(captions)
        if missing:
            raise ConfigError(
                f"text_embeddings {cfg.text_embeddings}: {len(missing)} captions of the "
                f"training/validation data are not in it, e.g. {missing[0]!r}; make it "
                "again with taco train CONFIG --embed-captions FILE"
            )
        return TableTextEncoder(table), table
    encoder = text_encoder_from_spec(spec).to(device)
    if not cfg.data_on_device:
        return encoder, None
    return encoder, CaptionTable.encode(captions, encoder, spec, device, progress=progress, say=say)
