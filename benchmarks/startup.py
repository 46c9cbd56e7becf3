"""Start-up time of the ``taco`` commands against ``python -c pass`` and ``python -c "import torch"``.

Every command runs in a fresh interpreter, ``--runs`` times; the rounds are interleaved (each round
runs every command once, in order) so that a machine that gets busier slows all of them alike.
Printed: median and minimum wall time per command, and the median minus that of ``import torch``
(what a command costs beyond the torch it cannot avoid). The input is a built-in sample photo
and a ``.taco`` file made from it with the default model.

    python benchmarks/startup.py                    # this checkout (PYTHONPATH = repo root)
    python benchmarks/startup.py --root OTHER_CHECKOUT --root .   # before and after a change,
                                                                  # interleaved
    python benchmarks/startup.py --runs 11 --json startup.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from taco.cli.common import positive_int

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "taco/assets/samples/skimage-chelsea.png"


def commands(root: Path, work: Path) -> dict[str, list[str]]:
    taco = [sys.executable, "-m", "taco.cli"]
    photo = str(root / SAMPLE)
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "taco --help": [*taco, "--help"],
        "taco --version": [*taco, "--version"],
        "taco compress --help": [*taco, "compress", "--help"],
        "taco train --help": [*taco, "train", "--help"],
        "taco info FILE": [*taco, "info", str(work / "cat.taco")],
        "taco models": [*taco, "models"],
        "taco compress -m TYPO": [*taco, "compress", photo, "--caption", "a cat", "-m",
                                  "taco-minilm-smal-q4", "-o", str(work / "typo.taco")],
        "taco decompress FILE": [*taco, "decompress", str(work / "cat.taco"), "-o",
                                 str(work / "cat.png"), "-f", "--quiet"],
        "taco compress PHOTO (0.14 MP)": [*taco, "compress", photo, "--caption", "a cat", "-o",
                                          str(work / "again.taco"), "-f", "--quiet"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", type=Path, action="append",
                   help="checkout to measure (default: this one); repeat to compare checkouts")
    p.add_argument("--runs", type=positive_int, default=7)
    p.add_argument("--only", nargs="+", metavar="NAME", help="measure only these commands")
    p.add_argument("--json", type=Path, help="write the raw times here")
    args = p.parse_args(argv)
    roots = [r.resolve() for r in args.root or [ROOT]]
    for given, root in zip(args.root or [ROOT], roots, strict=True):
        if not root.is_dir():
            print(f"startup.py: --root {given}: no such folder", file=sys.stderr)
            return 2
        if not (root / "taco" / "__init__.py").is_file() or not (root / SAMPLE).is_file():
            print(f"startup.py: --root {given}: not a taco checkout (no taco/__init__.py or "
                  f"{SAMPLE} in it)", file=sys.stderr)
            return 2
    unknown = set(args.only or ()) - set(commands(ROOT, ROOT))
    if unknown:
        p.error(f"unknown command(s) {sorted(unknown)}; known: {sorted(commands(ROOT, ROOT))}")
    envs = {r: {**os.environ, "PYTHONPATH": str(r), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1"} for r in roots}
    with tempfile.TemporaryDirectory() as tmp:
        cmds: dict[tuple[Path, str], list[str]] = {}
        # each checkout's commands run in their own folder: ``python -m`` puts the working
        # directory first on sys.path, before PYTHONPATH, so from a checkout every root would
        # run that checkout's taco
        works = {root: Path(tmp) / str(i) for i, root in enumerate(roots)}
        for i, root in enumerate(roots):
            work = works[root]
            work.mkdir()
            made = subprocess.run([sys.executable, "-m", "taco.cli", "compress", str(root / SAMPLE),
                                   "--caption", "a cat", "-o", str(work / "cat.taco"), "--quiet"],
                                  env=envs[root], cwd=work, capture_output=True, text=True)
            if made.returncode:
                last = (made.stderr.strip().splitlines() or ["(no message)"])[-1]
                print(f"startup.py: --root {root}: taco compress of the sample failed: {last}",
                      file=sys.stderr)
                return 2
            for name, cmd in commands(root, work).items():
                if not args.only or name in args.only or name.startswith("python"):
                    if i == 0 or not name.startswith("python"):
                        cmds[root, name] = cmd
        times: dict[tuple[Path, str], list[float]] = {k: [] for k in cmds}
        for _ in range(args.runs):
            for (root, name), cmd in cmds.items():
                t0 = time.perf_counter()
                r = subprocess.run(cmd, env=envs[root], cwd=works[root], capture_output=True)
                if r.returncode != (2 if "TYPO" in name else 0):  # a mistyped model: status 2
                    raise SystemExit(f"{name} ({root}) exited with {r.returncode}:\n"
                                     f"{r.stderr.decode(errors='replace')}")
                times[root, name].append(time.perf_counter() - t0)
    torch_median = statistics.median(times[roots[0], "python -c 'import torch'"])
    print(f"{'command':<34} {'median s':>9} {'min s':>7} {'- torch s':>10}   ({args.runs} runs)")
    for root in roots:
        print(f"-- {root}")
        for (r, name), ts in times.items():
            if r == root:
                med = statistics.median(ts)
                print(f"{name:<34} {med:9.2f} {min(ts):7.2f} {med - torch_median:10.2f}")
    if args.json:
        raw = {str(root): {name: ts for (r, name), ts in times.items() if r == root}
               for root in roots}
        args.json.write_text(json.dumps({"runs": args.runs, "times": raw}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
