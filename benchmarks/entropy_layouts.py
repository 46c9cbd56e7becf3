"""What the authors' entropy-model layout costs against CompressAI's, through taco's own path.

    python benchmarks/entropy_layouts.py                     # elic (paper size), 256x256, 5 runs
    python benchmarks/entropy_layouts.py --model elic-small --size 512 --runs 9 --threads 1

The same architecture name is built in both layouts (``layout="reference"``: the authors' code,
h_s N->M->3M/2->2M, two parameter networks per group; ``layout="compressai"``: CompressAI's
``Elic2022Official``), random weights, seed 0. Each run times, interleaved, ``taco.compress`` and
``taco.decompress`` of one sample photo (centre crop) with each; the table has medians and the
ratio reference / compressai (wall time and process CPU time). Both go through
``taco.codec.coding_codec`` (float64 entropy parameters) and one rANS stream per image.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import torch
from PIL import Image

from taco.cli.common import positive_int, thread_count
from taco.samples import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "skimage-astronaut.png"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="elic",
                   help="a single-rate ELIC architecture name (default: elic)")
    p.add_argument("--size", type=positive_int, default=256, help="centre crop side (default 256)")
    p.add_argument("--runs", type=positive_int, default=5)
    p.add_argument("--threads", type=thread_count, default=None)
    args = p.parse_args(argv)
    from taco.models import MODEL_CONFIGS

    fits = sorted(n for n, c in MODEL_CONFIGS.items() if c.text_encoder is None and c.qualities is None)
    if args.model not in fits:  # CompressAI's layout has no variable rate, and no text
        config = MODEL_CONFIGS.get(args.model)
        why = ("is not an architecture name" if config is None else "is text-guided (the entropy model "
               "is the same for TACO)" if config.text_encoder is not None else "is variable-rate "
               "(CompressAI's layout has one rate)")
        p.error(f"--model {args.model} {why}; give a single-rate ELIC: {', '.join(fits)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    import taco
    from taco.codec import coding_codec

    image = Image.open(SAMPLE).convert("RGB")
    s = min(args.size, image.width, image.height)
    left, top = (image.width - s) // 2, (image.height - s) // 2
    image = image.crop((left, top, left + s, top + s))
    models = {layout: taco.create_model(args.model, layout=layout) for layout in ("reference", "compressai")}
    for m in models.values():
        coding_codec(m)  # built once per model, outside the timings
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for run in range(args.runs + 1):  # the first is a warm-up
        for layout, m in models.items():
            c0, t0 = time.process_time(), time.perf_counter()
            data = taco.compress(image, None, m)
            c1, t1 = time.process_time(), time.perf_counter()
            taco.decompress(data, m)
            c2, t2 = time.process_time(), time.perf_counter()
            if run == 0:
                print(f"{layout}: {sum(q.numel() for q in m.parameters()):,} parameters, "
                      f"{len(data)} bytes", file=sys.stderr)
                continue
            times.setdefault((layout, "encode"), []).append((t1 - t0, c1 - c0))
            times.setdefault((layout, "decode"), []).append((t2 - t1, c2 - c1))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in times.items()}
    print(f"{args.model} {s}x{s}, {torch.get_num_threads()} threads, {args.runs} runs; ms median "
          "(wall / CPU)")
    for op in ("encode", "decode"):
        r, c = med[("reference", op)], med[("compressai", op)]
        print(f"{op:8s} reference {1000 * r[0]:8.1f} / {1000 * r[1]:8.1f}   compressai "
              f"{1000 * c[0]:8.1f} / {1000 * c[1]:8.1f}   ratio {r[0] / c[0]:.3f} / {r[1] / c[1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
