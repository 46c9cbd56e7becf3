"""What ``taco bench`` prints: the latency table, the entropy-coding profile, the memory line."""

from __future__ import annotations

from typing import Any

from ..messages import shown_path
from .profiling import CATEGORIES

_ROWS = (
    ("text_cold", "text encoding, cold caption"),
    ("text_cached", "text encoding, cached caption"),
    ("g_a", "g_a (analysis)"),
    ("hyper", "hyper: h_a, z coding, h_s"),
    ("entropy_coding", "entropy coding (y groups)"),
    ("latent_coding", "latent coding (a one-call codec)"),
    ("encode_cold_sequential", "encode, cold caption, sequential"),
    ("encode_cold", "encode, cold caption, overlapped"),
    ("overlap_front", "  overlapped: stages 1-2 of g_a"),
    ("overlap_text_wait", "  overlapped: then waiting for text"),
    ("encode_cached", "encode, cached caption"),
    ("encode", "encode"),
    ("entropy_decoding", "entropy decoding (z, y)"),
    ("g_s", "g_s (synthesis)"),
    ("decode", "decode"),
)


def _image_size(image: dict[str, Any]) -> str:
    """``name WxH`` (the name as :func:`~taco.messages.shown_path` shows it), with the size coded
    where padding changed it (results from before 2026-12-07 have only the padded size, as
    ``width`` / ``height``)."""
    own, coded = (image["width"], image["height"]), (image.get("padded_width"), image.get("padded_height"))
    padded = f" (padded to {coded[0]}x{coded[1]})" if None not in coded and coded != own else ""
    return f"{shown_path(image['name'])} {own[0]}x{own[1]}{padded}"


def format_table(result: dict[str, Any]) -> str:
    """The result as a plain-text table: median / p90 ms per stage and system, then the ratios."""
    systems = result["systems"]
    names = list(systems)
    lines = [
        f"taco bench ({result['mode']}) on {result['device']}"  # a CPU's threads included
        + f"; torch {result['torch']}, compressai {result['compressai']}",
        "images: " + ", ".join(_image_size(i) for i in result["images"])
        + f"; {result['config']['runs']} runs after {result['config']['warmup']} warm-up",
        "",
        "ms, median / p90".ljust(36) + "".join(n.rjust(22) for n in names),
    ]
    for key, label in _ROWS:
        cells = []
        for n in names:
            st = systems[n].get(key)
            cells.append((f"{st['median']:.1f} / {st['p90']:.1f}" if st else "-").rjust(22))
        if any(c.strip() != "-" for c in cells):
            lines.append(label.ljust(36) + "".join(cells))
    lines += ["", "ratios (of medians)".ljust(56) + "wall".rjust(8) + "CPU time".rjust(10)]
    cpu = result.get("ratios_cpu_time", {})
    for k, v in result["ratios"].items():
        c = cpu.get(k)
        lines.append(f"  {k:<54}{'-' if v is None else f'{v:.3f}':>8}"
                     f"{'-' if c is None else f'{c:.3f}':>10}")
    if "batch" in result:
        b = result["batch"]
        lines += ["", f"throughput, {b['images']} images coded at {b['width']}x{b['height']}, cached captions: "
                  f"one by one {b['one_by_one_images_per_s']:.2f} img/s, compress_batch "
                  f"(batch {b['batch_size']}) {b['compress_batch_images_per_s']:.2f} img/s "
                  f"(x{b['speedup']:.2f}; CPU time x{b['speedup_cpu_time']:.2f})"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def format_profile(prof: dict[str, dict[str, dict[str, float]]]) -> str:
    """CPU ms per call and category (rows) for each coding path and operation (columns)."""
    cols = [(p, op) for p in prof for op in prof[p]]
    lines = ["CPU ms per call".ljust(30) + "".join(f"{p} {op}".rjust(28) for p, op in cols)]
    for cat in [*(c for c, _ in CATEGORIES), "other", "total"]:
        lines.append(cat.ljust(30) + "".join(f"{prof[p][op][cat]:.1f}".rjust(28) for p, op in cols))
    return "\n".join(lines)


def format_memory(probe: dict[str, Any]) -> str:
    """One line per :func:`taco.bench.peak_memory.peak_memory` result."""
    parts = []
    for part in ("encode", "decode"):
        m = probe[part]
        gpu = m["gpu_peak_allocated_mib"]
        parts.append(f"{part} +{m['rss_added_mib']:.0f} MiB RSS (peak {m['rss_peak_mib']:.0f} MiB)"
                     + (f", {gpu:.0f} MiB GPU" if gpu is not None else ""))
    return (f"peak memory, {probe['model']} {probe['width']}x{probe['height']} on "
            f"{probe['device']}: " + ", ".join(parts))
