"""Helpers of scripts/gpu_slice.sh: copy a run's files into the folder that comes back from a GPU
machine, and print what a slice achieved.

    python scripts/gpu_slice.py sync RUN OUT [--extra FILE ...]   # checkpoint (+ state if room)
    python scripts/gpu_slice.py report RUN [--log FILE]          # loss curve, speed, validation
    python scripts/gpu_slice.py pack-init CKPT DIR [--config CONFIG [--train-args ARGS]]
                                                       # here: a checkpoint to start from, xz'd
    python scripts/gpu_slice.py unpack-init DIR DST [--config CONFIG [--train-args ARGS]]
                                                       # there: unpacked; prints what to load
    python scripts/gpu_slice.py repack-jpegs DIR       # here: JPEGs smaller, the same pixels
    python scripts/gpu_slice.py travel DIR             # here: what the device tool sends, checked

What comes back from the machine is at most 8 files of at most 16 MiB each, 64 MiB together, no
deeper than OUT/a/b/file. ``sync`` copies the checkpoint (one file, or index + shards of at most
16 MB, see taco.shards) to OUT/ckpt/, the training state to OUT/state/ when it fits in what is
left (else the next slice warm-starts from the checkpoint with --init-from instead of resuming),
and packs the small files (log.jsonl, config.yaml, the --extra files) into OUT/run.tar.gz. Every
file lands under a temporary name first and is renamed into place; a sharded checkpoint's index
is read once, the shards it names are copied first and the index last (its bytes as read, so a
trainer saving meanwhile cannot pair a newer index with older shards), and only then are the
files the new checkpoint does not name removed: a machine stopped at any point leaves OUT/ckpt
holding the previous checkpoint or the new one, whole.

``pack-init`` carries a checkpoint to continue from (a file, an index with its shards, or a
built-in name) to the GPU machine as ``DIR/*.xz``: float16 weights lose ~13 % to xz (the
exponent bits repeat; 23.0 -> 20.0 MiB for the CPU stand-in checkpoint of 2026-12-07), which is
what makes a 24 MB checkpoint fit beside the photos in the 64 MiB that travel (1.8 MiB to
spare in a rehearsal's bundle). ``unpack-init`` restores the files byte for byte (xz checks its CRC) and prints the path
to give ``--init-from``. With ``--config`` (and ``--train-args``, the run's other arguments)
both refuse a checkpoint that the recipe cannot start from (``check_init``): one of another
architecture than the recipe trains (the one ``.gpu/init`` slot serves whichever CONFIG
runs, and ``taco train`` takes an ELIC checkpoint to start a TACO: the ELIC baseline's would have
initialised the TACO built-in without a word), and one that ``taco train``'s own checks refuse:
its config checks, such as CompressAI's entropy layout (every built-in's) for a variable-rate
recipe, and its warm start, run on the model the recipe builds (other widths, N/M/groups/
ctx_hidden, or qualities): so gpu_slice_prepare.sh fails here, not the GPU machine after its
benchmark.

``repack-jpegs`` re-packs a folder's JPEGs, its subfolders' included, losslessly (the same DCT
coefficients: optimised Huffman tables, progressive scans, no metadata): with the ``mozjpeg-lossless-optimization``
package (pip; 8.5 % off the training photos) or else Debian's ``jpegtran`` (libjpeg-turbo-progs;
~6 %), each file checked to decode to the same pixels and kept only when smaller; one with an
EXIF orientation or a colour profile is left as it is (both are metadata, which goes). Neither there,
the photos travel as they are, ~2.4 MiB more, and a slice that continues a checkpoint may not fit.

``travel`` measures what the device tool sends (run in the repository root: the tracked files,
the untracked ones git does not ignore, and DIR, the carried .gpu) against its 64 MiB and says
how much is left under it (on stderr, after the measure on stdout). Over it,
it says what to take out of the working tree for the run and put back after it, in this order:
the shipped weights, then also tests/ and docs/ (the GPU machine reads none of them: gpu_slice.sh
runs taco, configs/, benchmarks/ and scripts/); when even that is not enough, to carry fewer
photos.
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from taco import shards  # noqa: E402
from taco.jsonfiles import is_file_name, json_object  # noqa: E402

LIMIT_FILES, LIMIT_FILE, LIMIT_TOTAL = 8, 16 << 20, 64 << 20


def _copy(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` atomically, ``dst`` stamped with the modification time ``src``
    had before the copy: a ``src`` replaced meanwhile (a new checkpoint, the same size) differs
    from it then, and the next :func:`_mirror` copies it again."""
    before = src.stat()
    tmp = dst.with_name(f".{dst.name}.part")
    shutil.copyfile(src, tmp)
    os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(tmp, dst)


def _copied(src: Path, dst: Path) -> bool:
    """Whether ``dst`` is :func:`_copy`'s copy of ``src`` as it is now: the same size and
    modification time."""
    if not dst.exists():
        return False
    s, d = src.stat(), dst.stat()
    return (s.st_size, s.st_mtime_ns) == (d.st_size, d.st_mtime_ns)


def _write(data: bytes, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, dst)


def _checkpoint(path: Path) -> tuple[list[Path], bytes | None]:
    """The checkpoint at ``path``: (its plain file or its shards, the index's bytes or None).
    The index is read once, and its shards are the ones those bytes name."""
    found = shards.find(path)
    if found is None:
        return [], None
    if not shards.is_index(found):
        return [found], None
    index = found.read_bytes()
    try:
        names = [s["file"] for s in json_object(index)["shards"]]
    except (ValueError, KeyError, TypeError) as e:  # a trainer's index: never, but say so
        raise shards.ShardedFileError(f"{found}: unreadable shard index ({e})") from None
    if not names or not all(is_file_name(n) for n in names):
        raise shards.ShardedFileError(f"{found}: malformed shard list")
    return [found.parent / n for n in names], index


def _mirror(files: list[Path], index: bytes | None, folder: Path, name: str) -> None:
    """Make ``folder`` hold exactly the checkpoint ``name``: ``files`` (a plain file, or shards
    whose ``index`` bytes are written last as ``name``.index.json), then what it does not name
    removed; every write atomic, so a stop at any point leaves the old or the new one whole."""
    folder.mkdir(parents=True, exist_ok=True)
    keep = {f.name for f in files}
    for f in files:
        target = folder / f.name
        if not _copied(f, target):
            _copy(f, target)
    if index is not None:
        entry = shards.index_path(folder / name)
        _write(index, entry)
        keep.add(entry.name)
    for old in folder.iterdir():
        if old.name not in keep:
            old.unlink()


def sync(run: Path, out: Path, extra: list[Path]) -> None:
    bundle = io.BytesIO()
    with tarfile.open(fileobj=bundle, mode="w:gz") as tar:
        for f in [run / "log.jsonl", run / "config.yaml", *extra]:
            if f.is_file():
                tar.add(f, arcname=f.name)
    out.mkdir(parents=True, exist_ok=True)
    _write(bundle.getvalue(), out / "run.tar.gz")
    used_files, used_bytes = 1, len(bundle.getvalue())
    for name, folder in (("checkpoint.safetensors", "ckpt"), ("train_state.safetensors", "state")):
        try:
            files, index = _checkpoint(run / name)
            count = len(files) + (index is not None)
            size = sum(f.stat().st_size for f in files) + len(index or b"")
        except (OSError, shards.ShardedFileError) as e:  # being rewritten: next time
            print(f"sync: {name} skipped this time ({e})", file=sys.stderr)
            continue
        if not files:
            continue
        fits = (used_files + count <= LIMIT_FILES and used_bytes + size <= LIMIT_TOTAL
                and all(f.stat().st_size <= LIMIT_FILE for f in files))  # fmt: skip
        if not fits:
            print(f"sync: {name} ({count} files, {size / 2**20:.1f} MiB) does not fit in "
                  f"what comes back; not copied", file=sys.stderr)
            continue
        try:
            _mirror(files, index, out / folder, name)
        except FileNotFoundError as e:  # a shard replaced while copying: next time
            print(f"sync: {name} changed while copying ({e}); next time", file=sys.stderr)
            continue
        used_files, used_bytes = used_files + count, used_bytes + size
    print(f"sync: {used_files} files, {used_bytes / 2**20:.1f} MiB in {out}", file=sys.stderr)


def pack_init(checkpoint: str, folder: Path, config: str | None = None, train_args: str = "") -> None:
    from taco.models import PRETRAINED, pretrained_file

    path = pretrained_file(checkpoint) if checkpoint in PRETRAINED else Path(checkpoint)
    files = shards.files(path)
    if not files:
        raise SystemExit(f"pack-init: no checkpoint at {path}")
    if config is not None:
        check_init(files[0], config, train_args, "pack-init")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    entry = files[0].name  # the plain file, or the index (its shards follow)
    for f in files:
        (folder / f"{f.name}.xz").write_bytes(lzma.compress(f.read_bytes(), preset=6))
    (folder / "entry").write_text(entry + "\n")
    before = sum(f.stat().st_size for f in files)
    after = sum(f.stat().st_size for f in folder.iterdir())
    print(f"pack-init: {path} ({len(files)} files, {before / 2**20:.1f} MiB) -> {folder} "
          f"({after / 2**20:.1f} MiB)")


def check_init(checkpoint: Path, config: str, train_args: str, command: str) -> None:
    """Refuse a checkpoint that ``taco train CONFIG --init-from CHECKPOINT TRAIN_ARGS`` would not
    start from, on this machine, before any minute of the GPU machine goes to it: another
    architecture than the recipe trains (``taco train`` would take an ELIC checkpoint to start a
    TACO), then the trainer's own checks: of the settings it takes from the checkpoint
    (:func:`taco.train.cli.resolve_config`: e.g. a variable-rate recipe refuses a checkpoint of
    CompressAI's entropy layout, which every shipped built-in has), and its warm start
    (:func:`taco.train.model_setup.build_training_model`, the model the config describes with the
    checkpoint's weights loaded: one of other widths, N/M/groups/ctx_hidden, or qualities is
    refused; the paper-size model takes ~3 s on a CPU)."""
    from taco.errors import TacoError
    from taco.models.registry import checkpoint_config
    from taco.train import load_config
    from taco.train.cli import add_arguments, resolve_config
    from taco.train.model_setup import build_training_model, model_config

    trainer = argparse.ArgumentParser(add_help=False)  # the trainer's own options (TRAIN_ARGS)
    add_arguments(trainer)
    try:
        args = trainer.parse_args([config, "--init-from", str(checkpoint), *train_args.split()])  # as gpu_slice.sh passes $TRAIN_ARGS: split at spaces, quotes kept
    except SystemExit:
        raise SystemExit(f"{command}: TRAIN_ARGS {train_args!r} are not taco train's options") from None
    try:
        held = checkpoint_config(checkpoint).architecture
        trains = model_config(load_config(config, args.overrides)).architecture
        if held != trains:
            raise SystemExit(f"{command}: {checkpoint} holds a {held} checkpoint, but {config} trains "
                             f"{trains}: pack its own (gpu_slice_prepare.sh INIT=...), or name a "
                             "checkpoint with INIT_FROM= to start from another architecture")
        build_training_model(resolve_config(args))  # the trainer's warm start: widths, weights
    except TacoError as e:
        raise SystemExit(f"{command}: {config} cannot start from {checkpoint}: {e}") from None


def unpack_init(folder: Path, dest: Path, config: str | None = None, train_args: str = "") -> None:
    if not (folder / "entry").is_file():  # checked before DST is made or written
        raise SystemExit(f"unpack-init: {folder} has no 'entry' file: not a folder pack-init wrote")
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(folder.glob("*.xz")):
        (dest / f.name[: -len(".xz")]).write_bytes(lzma.decompress(f.read_bytes()))
    entry = dest / (folder / "entry").read_text().strip()
    missing = [f.name for f in shards.files(entry) if not f.is_file()] if entry.is_file() else [entry.name]
    if missing:
        raise SystemExit(f"unpack-init: {folder} lacks {', '.join(missing)}")
    if config is not None:
        check_init(entry, config, train_args, f"unpack-init: {folder}")
    print(entry)


def _optimizer():  # type: ignore[no-untyped-def]
    """JPEG bytes -> the same JPEG losslessly re-packed, by what this machine has; None if nothing."""
    try:
        import mozjpeg_lossless_optimization as mozjpeg
    except ImportError:
        pass
    else:
        return "mozjpeg-lossless-optimization", mozjpeg.optimize
    jpegtran = shutil.which("jpegtran")
    if jpegtran is None:
        return None, None

    def run(data: bytes) -> bytes:
        cmd = [jpegtran, "-copy", "none", "-optimize", "-progressive"]
        done = subprocess.run(cmd, input=data, capture_output=True)
        if done.returncode:
            raise ValueError(done.stderr.decode(errors="replace").strip())
        return done.stdout

    return "jpegtran", run


def repack_jpegs(folder: Path) -> None:
    import numpy as np
    from PIL import Image

    name, optimize = _optimizer()
    # the training photos travel at the paths their captions name (sub/photo.JPG): every folder
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg") and p.is_file())
    if optimize is None:
        print(f"repack-jpegs: {len(files)} JPEGs (subfolders included) left as they are "
              "(~8 % bigger): neither mozjpeg-lossless-optimization (pip install "
              "mozjpeg-lossless-optimization) nor jpegtran (apt install libjpeg-turbo-progs) "
              "is here", file=sys.stderr)
        return
    before = after = 0
    for f in files:
        data = f.read_bytes()
        try:
            new = optimize(data)
        except (ValueError, OSError) as e:  # mozjpeg's ValueError, jpegtran's exit status
            print(f"repack-jpegs: {f}: left as it is ({name}: {e})", file=sys.stderr)
            new = data
        with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(new)) as b:
            if a.getexif().get(0x0112, 1) != 1 or a.info.get("icc_profile"):
                new = data  # the orientation tag and the colour profile go with the metadata
            elif not np.array_equal(np.asarray(a), np.asarray(b)):
                raise SystemExit(f"repack-jpegs: {f}: {name} changed its pixels")
        if len(new) < len(data):
            f.write_bytes(new)
        before, after = before + len(data), after + min(len(new), len(data))
    print(f"repack-jpegs: {len(files)} JPEGs (subfolders included) by {name}: "
          f"{before / 2**20:.1f} -> {after / 2**20:.1f} MiB, the same pixels")


#: What the GPU machine never reads, in the order to take it out of the working tree for a run:
#: (what it is, git pathspecs of the files, ``git rm -r`` arguments, ``git checkout HEAD --`` paths).
NOT_READ_THERE = (
    ("the shipped weights (a checkpoint to continue from travels xz'd in .gpu/init)",
     ["taco/assets/models/*.safetensors"], "taco/assets/models/*.safetensors", "taco/assets/models"),
    ("tests/ and docs/", ["tests", "docs"], "tests docs", "tests docs"),
)


def _git_files(*args: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z", *args], capture_output=True, check=True).stdout
    return [Path(os.fsdecode(name)) for name in listed.split(b"\0") if name]


def _bytes(files: list[Path]) -> int:
    return sum(f.lstat().st_size for f in files if f.is_file() or f.is_symlink())


def travel(carried: Path) -> int:
    """Print what the device tool sends from the repository root (the working tree git sees,
    and ``carried``) and the headroom left under 64 MiB, 0; over it, what to take out for the
    run: 1."""
    tracked, untracked = _bytes(_git_files()), _bytes(_git_files("--others", "--exclude-standard"))
    extra = _bytes([Path(d) / f for d, _, names in os.walk(carried) for f in names])
    total, mib = tracked + untracked + extra, 2**20
    print(f"tracked {tracked / mib:.1f} MiB + untracked {untracked / mib:.1f} MiB + {carried} "
          f"{extra / mib:.1f} MiB = {total / mib:.1f} MiB of 64 MiB", flush=True)
    if total <= LIMIT_TOTAL:  # the headroom: what a bigger checkpoint or more photos may add
        print(f"{(LIMIT_TOTAL - total) / mib:.1f} MiB left under the device tool's 64 MiB",
              file=sys.stderr)
        return 0
    out: list[tuple[str, int, str, str]] = []
    for what, pathspecs, removed, restored in NOT_READ_THERE:
        size = _bytes(_git_files("--", *pathspecs))
        if size:
            out.append((what, size, removed, restored))
            total -= size
        if total <= LIMIT_TOTAL:
            break
    if total > LIMIT_TOTAL:
        print(f"over the device tool's 64 MiB, and {total / mib:.1f} MiB even without the shipped "
              "weights, tests/ and docs/: carry less (EXTRA_PHOTOS=0, VAL_IMAGES)", file=sys.stderr)
        return 1
    listed = "; ".join(f"{what}, {size / mib:.1f} MiB" for what, size, _, _ in out)
    removed = " ".join(r for _, _, r, _ in out)
    restored = " ".join(r for _, _, _, r in out)
    print(f"over the device tool's 64 MiB. The GPU machine reads none of: {listed}. Take them out "
          f"of the working tree for the run, and it is {total / mib:.1f} MiB, "
          f"{(LIMIT_TOTAL - total) / mib:.1f} MiB left under the limit (commit any change to "
          f"them first: git rm refuses a changed file, and checkout puts back what HEAD has):\n"
          f"  git rm -r -q {removed}   # before run(...)\n"
          f"  git checkout HEAD -- {restored}   # right after it", file=sys.stderr)
    return 1


def _shown(value: float | None, spec: str) -> str:
    """``value`` formatted by ``spec``; ``n/a`` right-aligned alike for None (log.jsonl's null: a
    validation whose real coding failed)."""
    if value is None:
        width = "".join(c for c in spec.split(".")[0] if c.isdigit())
        return f"{'n/a':>{width or 0}}"
    return format(value, spec)


def _steps_per_s(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """Steps per second of wall time from train record ``a`` to a later ``b`` (checkpoints and
    validations between them included: what a slice's minutes buy); None without the times."""
    values: list[Any] = [r.get(k) for k in ("step", "wall_time_s") for r in (a, b)]
    if not all(isinstance(v, int | float) for v in values):  # an older trainer's records
        return None
    sa, sb, wa, wb = map(float, values)
    return (sb - sa) / (wb - wa) if wb > wa else None


#: The trainer's last line of a finished run: "done: [time limit 9m reached; ]1,234 steps (1.20
#: epochs) in 456 s; model -> ..." (steps and seconds counted over the run's resumed slices too).
_DONE = re.compile(r"^done: (?:[^;\n]*; )?(([\d,]+) steps?) \(([\d.]+) epochs\) in ([\d.]+) s", re.MULTILINE)


def report(run: Path, log: Path | None = None) -> None:
    """The run's loss curve (with img/s, the trainer's, and steps/s of wall time between the
    rows shown), its validations, and the trainer's own total from ``log`` (its stderr) when
    that holds one."""
    if not (run / "log.jsonl").is_file():  # the trainer failed in its set-up, or no step fitted
        print(f"no training records ({run / 'log.jsonl'} was not written)")
        return
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line]
    train = [r for r in records if r["kind"] == "train"]
    val = [r for r in records if r["kind"] == "val"]
    print(f"loss curve ({len(train)} record{'' if len(train) == 1 else 's'}; steps/s: wall time since the row above):")
    print(f"{'step':>7}{'loss':>9}{'bpp':>8}{'psnr':>8}{'lpips':>8}{'lr':>10}{'img/s':>9}{'steps/s':>9}")
    every = max(1, len(train) // 20)
    shown = train[::every] + ([train[-1]] if train and (len(train) - 1) % every else [])
    for before, r in zip([None, *shown], shown, strict=False):
        rate = None if before is None else _steps_per_s(before, r)
        print(f"{r['step']:>7}{r['loss']:>9.4f}{r['bpp']:>8.4f}{r['psnr']:>8.2f}"
              f"{r['lpips']:>8.4f}{r['lr']:>10.2e}{r['img_per_s']:>9.1f}{_shown(rate, '>9.2f')}")
    overall = _steps_per_s(train[0], train[-1]) if len(train) > 1 else None
    if overall is not None:
        print(f"steps/s: {overall:.2f} (steps {train[0]['step']} to {train[-1]['step']} in "
              f"{train[-1]['wall_time_s'] - train[0]['wall_time_s']:.0f} s of wall time, "
              "checkpoints and validations included)")
    done = _DONE.findall(log.read_text(errors="replace")) if log is not None and log.is_file() else []
    if done:
        steps, n, epochs, seconds = done[-1]
        per_s = f": {int(n.replace(',', '')) / float(seconds):.2f} steps/s" if float(seconds) > 0 else ""
        print(f"trainer: {steps} ({epochs} epochs) in {seconds} s{per_s}")
    print(f"validation ({len(val)} record{'' if len(val) == 1 else 's'}):")
    for r in val:
        real = (f" real_bpp {_shown(r['real_bpp'], '.4f')} real_psnr {_shown(r['real_psnr'], '.2f')}"
                if "real_bpp" in r else "")  # fmt: skip
        print(f"  step {r['step']}: loss {r['loss']:.4f} bpp {r['bpp']:.4f} psnr {r['psnr']:.2f} "
              f"lpips {r['lpips']:.4f}{real}")
    qualities = sorted(int(k[1:].split("/")[0]) for k in (val[-1] if val else {}) if k.endswith("/bpp"))
    if qualities:  # a variable-rate model: the last validation, quality by quality
        last = val[-1]
        print(f"per quality at step {last['step']} (real_*: coded and decoded):")
        names = [n for n in ("bpp", "psnr", "lpips", "real_bpp", "real_psnr") if f"q1/{n}" in last]
        print(f"{'quality':>9}" + "".join(f"{n:>11}" for n in names))
        for q in qualities:
            print(f"{q:>9}" + "".join(f"{_shown(last[f'q{q}/{n}'], '>11.4f')}" for n in names))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sync")
    s.add_argument("run", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("--extra", type=Path, nargs="*", default=[])
    r = sub.add_parser("report")
    r.add_argument("run", type=Path)
    r.add_argument("--log", type=Path, help="the trainer's stderr (RUN.log): its total steps and time")
    k = sub.add_parser("pack-init")
    k.add_argument("checkpoint")
    k.add_argument("folder", type=Path)
    k.add_argument("--config", help="the training recipe: refuse a checkpoint it cannot start from")
    k.add_argument("--train-args", default="", help="the run's other arguments (TRAIN_ARGS)")
    u = sub.add_parser("unpack-init")
    u.add_argument("folder", type=Path)
    u.add_argument("dest", type=Path)
    u.add_argument("--config", help="the training recipe: refuse a checkpoint it cannot start from")
    u.add_argument("--train-args", default="", help="the run's other arguments (their --set items)")
    j = sub.add_parser("repack-jpegs")
    j.add_argument("folder", type=Path)
    t = sub.add_parser("travel")
    t.add_argument("carried", type=Path)
    args = p.parse_args()
    if args.command == "travel":
        return travel(args.carried)
    if args.command == "repack-jpegs":
        repack_jpegs(args.folder)
    elif args.command == "sync":
        sync(args.run, args.out, args.extra)
    elif args.command == "pack-init":
        pack_init(args.checkpoint, args.folder, args.config, args.train_args)
    elif args.command == "unpack-init":
        unpack_init(args.folder, args.dest, args.config, args.train_args)
    else:
        report(args.run, args.log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
