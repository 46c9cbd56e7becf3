"""What the everyday command line costs on a big photo: ``taco compress`` then ``taco
decompress`` (the default model, default threads), each a fresh process.

    python benchmarks/cli_photo.py                        # 3 MP, this checkout, one round
    python benchmarks/cli_photo.py --megapixels 12 --runs 3
    python benchmarks/cli_photo.py --megapixels 12 --runs 3 --root OTHER_CHECKOUT --root .

The photo (``--photo``, default the astronaut sample) is resized with Pillow's Lanczos filter to
``--megapixels`` at ``--aspect`` (a camera's 4:3) and written once as PNG. Each round runs, for
every checkout (``--root``, repeatable; default this one) in turn, ``python -m taco compress PHOTO
--caption "a photo"`` then ``python -m taco decompress`` of the file it wrote (``-o X.png``), so
that a machine that gets busier slows every checkout alike. Per command, from ``os.wait4``: wall
seconds, user and system CPU seconds, minor and major page faults, peak RSS (its own, in MiB);
and the size of what it wrote. Printed: medians over the rounds; with several checkouts, each
one's CPU (user + system) and wall as a ratio to the first's, and whether its ``.taco`` bytes
are the first's (a change meant to keep the files must keep them). On a shared machine compare
CPU times over several rounds, not single wall times.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "taco" / "assets" / "samples" / "skimage-astronaut.png"
CAPTION = "a photo"
#: What each command's row holds, in the order printed.
FIELDS = ("wall_s", "user_s", "sys_s", "cpu_s", "minflt", "majflt", "peak_rss_mib", "out_bytes")


def photo_size(megapixels: float, aspect: str) -> tuple[int, int]:
    """(width, height) of about ``megapixels`` at ``aspect`` (``W:H``), each at least 1."""
    a, _, b = aspect.partition(":")
    ratio = float(a) / float(b or 1)
    height = max(1, round((megapixels * 1e6 / ratio) ** 0.5))
    return max(1, round(height * ratio)), height


def measured(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Run ``cmd`` (an error if it fails) and return its own resource usage (``os.wait4``)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()  # a child blocked on a full pipe would never end
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} ({cwd}): exit status "
                         f"{os.waitstatus_to_exitcode(status)}:\n{err.decode(errors='replace')[-800:]}")
    return {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
            "cpu_s": usage.ru_utime + usage.ru_stime, "minflt": usage.ru_minflt,
            "majflt": usage.ru_majflt, "peak_rss_mib": usage.ru_maxrss / 1024}


def one_round(root: Path, work: Path, photo: Path, env: dict[str, str]) -> dict[str, dict[str, float]]:
    """``taco compress`` then ``taco decompress`` of ``photo`` with checkout ``root``, in ``work``
    (``python -m`` puts the working directory first on sys.path: each checkout runs in its own)."""
    taco = [sys.executable, "-m", "taco"]
    coded, decoded = work / "photo.taco", work / "photo.decoded.png"
    rows = {"compress": measured([*taco, "compress", str(photo), "--caption", CAPTION, "-o",
                                  str(coded), "-f", "--quiet"], env, work)}
    rows["compress"]["out_bytes"] = coded.stat().st_size
    rows["decompress"] = measured([*taco, "decompress", str(coded), "-o", str(decoded), "-f",
                                   "--quiet"], env, work)
    rows["decompress"]["out_bytes"] = decoded.stat().st_size
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--megapixels", type=float, default=3.0,
                   help="size of the photo coded (default 3: analysed in stripes; 12-24 for a camera's)")
    p.add_argument("--aspect", default="4:3", help="W:H of the photo (default 4:3)")
    p.add_argument("--photo", type=Path, default=SAMPLE, help="the photo to resize (default: a sample)")
    p.add_argument("--root", type=Path, action="append",
                   help="checkout to measure (default: this one); repeat to compare, the first the baseline")
    p.add_argument("--runs", type=int, default=1, help="rounds (each runs every checkout once)")
    p.add_argument("--json", type=Path, help="write every run's numbers here")
    args = p.parse_args(argv)
    roots = [r.resolve() for r in args.root or [ROOT]]
    for given, root in zip(args.root or [ROOT], roots, strict=True):
        if not (root / "taco" / "__init__.py").is_file():
            p.error(f"--root {given}: not a taco checkout (no taco/__init__.py)")
    if args.megapixels <= 0 or args.runs < 1:
        p.error("--megapixels must be positive and --runs at least 1")
    from PIL import Image

    width, height = photo_size(args.megapixels, args.aspect)
    runs: dict[str, list[dict[str, dict[str, float]]]] = {str(r): [] for r in roots}
    coded: dict[str, set[bytes]] = {str(r): set() for r in roots}
    with tempfile.TemporaryDirectory(prefix="cli_photo.") as tmp:
        photo = Path(tmp) / f"photo-{width}x{height}.png"
        with Image.open(args.photo) as im:
            im.convert("RGB").resize((width, height), Image.LANCZOS).save(photo, compress_level=1)
        works = {root: Path(tmp) / str(i) for i, root in enumerate(roots)}
        for work in works.values():
            work.mkdir()
        print(f"{args.photo.name} resized to {width}x{height} ({width * height / 1e6:.1f} MP), "
              f"{args.runs} round(s), {len(roots)} checkout(s)", flush=True)
        for i in range(args.runs):
            for root in roots:
                env = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1",
                       "TRANSFORMERS_OFFLINE": "1"}
                rows = one_round(root, works[root], photo, env)
                runs[str(root)].append(rows)
                coded[str(root)].add((works[root] / "photo.taco").read_bytes())
                print(f"round {i + 1} {root}: " + ", ".join(
                    f"{cmd} {r['cpu_s']:.1f} s CPU {r['wall_s']:.1f} s wall" for cmd, r in rows.items()),
                    flush=True)
    medians = {root: {cmd: {f: statistics.median(run[cmd][f] for run in rs) for f in FIELDS}
                      for cmd in ("compress", "decompress")} for root, rs in runs.items()}
    base = str(roots[0])
    print(f"\nmedians of {args.runs} round(s); ratios against {base}")
    print(f"{'command':<11} {'wall s':>7} {'user s':>7} {'sys s':>6} {'CPU s':>6} {'minflt':>9} "
          f"{'majflt':>6} {'peak MiB':>8} {'out bytes':>11} {'CPU x':>6} {'wall x':>6}")
    for root, by_cmd in medians.items():
        said = "the same in every run" if len(coded[root]) == 1 else "DIFFERENT between runs"
        if root != base:
            said += ", the first checkout's" if coded[root] == coded[base] else ", NOT the first checkout's"
        print(f"-- {root} (.taco bytes: {said})")
        for cmd, m in by_cmd.items():
            b = medians[base][cmd]
            print(f"{cmd:<11} {m['wall_s']:7.1f} {m['user_s']:7.1f} {m['sys_s']:6.1f} {m['cpu_s']:6.1f} "
                  f"{m['minflt']:9.0f} {m['majflt']:6.0f} {m['peak_rss_mib']:8.0f} {m['out_bytes']:11,.0f} "
                  f"{m['cpu_s'] / b['cpu_s']:6.3f} {m['wall_s'] / b['wall_s']:6.3f}")
    if args.json:
        report: dict[str, Any] = {"photo": str(args.photo), "width": width, "height": height,
                                  "runs": runs, "medians": medians}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
