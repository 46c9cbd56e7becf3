"""Where the entropy-coding time goes: cProfile of CompressAI's latent-codec methods vs taco's
:mod:`taco.models.fast_codec`, CPU time by category (``taco bench --profile``)."""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import Tensor

from ..models import fast_codec

#: Where the entropy-coding time goes, by the functions cProfile attributes it to.
CATEGORIES = (
    ("convolutions", ("conv2d", "conv_transpose2d")),
    ("rANS coder calls", ("encode_with_indexes", "decode_with_indexes", "decode_stream", "flush",
                          "set_stream")),
    ("tensor <-> list conversion", ("tolist", "built-in method torch.tensor", "fromiter")),
    ("scale -> table index", ("build_indexes", "searchsorted")),
)


def profile_entropy_coding(
    model: Any, x: Tensor, runs: int = 3
) -> dict[str, dict[str, dict[str, float]]]:
    """CPU ms per category for ``latent_codec.compress/decompress`` vs :mod:`fast_codec`.

    cProfile with a process-CPU-time clock (robust on a shared machine), ``runs`` calls each after
    one warm-up; y = g_a(x) is computed once outside. Categories: :data:`CATEGORIES`, the rest
    is "other" (cat, zeros, embed/unembed, Python).
    """
    import cProfile

    codec = model.latent_codec
    with torch.no_grad():
        y = model.g_a(x)
        ref = codec.compress(y)
        fast = fast_codec.compress_latent(codec, y)  # one stream: not CompressAI's 11 strings
    calls = {
        "compressai": {
            "compress": lambda: codec.compress(y),
            "decompress": lambda: codec.decompress(ref["strings"], ref["shape"]),
        },
        "taco fast_codec": {
            "compress": lambda: fast_codec.compress_latent(codec, y),
            "decompress": lambda: fast_codec.decompress_latent(codec, fast["strings"], fast["shape"]),
        },
    }
    out: dict[str, dict[str, dict[str, float]]] = {}
    for path, fns in calls.items():
        for op, fn in fns.items():
            with torch.no_grad():
                fn()
                prof = cProfile.Profile(time.process_time)
                prof.enable()
                for _ in range(runs):
                    fn()
                prof.disable()
            prof.create_stats()  # what pstats.Stats(prof) reads
            stats = prof.stats
            total = sum(v[2] for v in stats.values())  # tottime of every function
            cats = {name: 0.0 for name, _ in CATEGORIES}
            for (file, _, func), v in stats.items():
                label = f"{file}:{func}"
                for name, keys in CATEGORIES:
                    if any(k in label for k in keys):
                        cats[name] += v[2]
                        break
            cats["other"] = total - sum(cats.values())
            cats["total"] = total
            out.setdefault(path, {})[op] = {k: 1000 * v / runs for k, v in cats.items()}
    return out
