"""Encode/decode latency: TACO vs ELIC vs CompressAI's Elic2022Official (thin over taco.bench).

    python benchmarks/latency.py --quick                       # tiny models, CI-friendly
    python benchmarks/latency.py --threads 1 --json out.json   # paper sizes, 256x256 crops
    python benchmarks/latency.py --profile --threads 1 --crop 0 --images skimage-astronaut.png
    python benchmarks/latency.py --memory 2176x3840               # 4K (padded), taco-minilm

Same options as ``taco bench`` (see ``--help``).
"""

from __future__ import annotations

import sys

from taco.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
