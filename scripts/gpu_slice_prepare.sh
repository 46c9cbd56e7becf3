#!/usr/bin/env bash
# Prepare a GPU training slice, on this (CPU) machine: everything scripts/gpu_slice.sh needs on a
# GPU machine that reaches no network, in .gpu/ (ignored by git, carried with `carry: [".gpu"]`).
#
#   scripts/gpu_slice_prepare.sh          # then: the device tool runs scripts/gpu_slice.sh
#   PHOTOS=DIR scripts/gpu_slice_prepare.sh   # DIR/train and DIR/val: captioned photos, each
#                                             # with a captions.jsonl (default ../shared/data/photos)
#
# Run it in the checkout the device tool sends (the session's own, not a helper's worktree).
#
#   .gpu/photos/train     the training photos (PHOTOS, default ../shared/data/photos/train),
#                         less those the recipe's data.exclude names (sources held out for
#                         testing: docs/training.md), so they never reach the GPU machine;
#                         plus (EXTRA_PHOTOS=1, the default) the 34 photos of
#                         scripts/fetch_extra_photos.py (docs/data.md), downloads cached in
#                         EXTRA_CACHE (default ~/.cache/taco/extra-photos)
#   .gpu/photos/val       the first VAL_IMAGES (4) validation photos with their captions: each
#                         one's centre val.crop² crop as NAME.png (kodak.JPG, scan.tif alike)
#   .gpu/embeddings.safetensors   MiniLM tokens of every caption above (the machine has no
#                         MiniLM package; `taco train --embed-captions`)
#   .gpu/init/            INIT (a checkpoint file or index: what a slice brought back), xz'd:
#                         what the next slice warm-starts from (gpu_slice.sh unpacks it); none
#                         without INIT. Refused here when CONFIG (with TRAIN_ARGS' --set items)
#                         cannot start from it, as taco train would refuse it on the GPU machine:
#                         another architecture, CompressAI's entropy layout (every built-in's)
#                         for a variable-rate recipe, or other widths than the recipe's model
#                         (the trainer's warm start, run here on the model CONFIG builds)
#   .gpu/whl/             wheels the machine lacks (CompressAI, LPIPS, pytorch-msssim) for its
#                         Python (3.12, manylinux x86-64), installed there with --no-deps
#
# Then it measures what travels (tracked + untracked-not-ignored files + .gpu) against the
# device tool's 64 MiB, says how much is left under it, and fails if it is over, saying what to
# take out of the working tree for the run (the shipped weights, then tests/ and docs/: the GPU
# machine reads none of them) and what is left then.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
PY=${PY:-python3}
PHOTOS=${PHOTOS:-../shared/data/photos}
VAL_IMAGES=${VAL_IMAGES:-4}
EXTRA_PHOTOS=${EXTRA_PHOTOS:-1}
EXTRA_CACHE=${EXTRA_CACHE:-$HOME/.cache/taco/extra-photos}
INIT=${INIT:-}
CONFIG=${CONFIG:-configs/taco-minilm-vr.yaml}  # the recipe whose val crop and text encoder count
TRAIN_ARGS=${TRAIN_ARGS:-}  # the slice's: its --set items count in checking INIT against CONFIG
PY_VERSION=${PY_VERSION:-3.12}   # the GPU machine's python3 (device KINDS.md)
WHEELS=${WHEELS:-"compressai==1.2.8 lpips==0.1.4 pytorch-msssim==1.0.0"}
G=.gpu

# The photos first, before anything is written: PHOTOS (the project's set, not shipped) must hold
# train/ and val/, each with its captions.jsonl.
for part in train val; do
    if [ ! -d "$PHOTOS/$part" ]; then
        echo "gpu_slice_prepare.sh: no folder $PHOTOS/$part: set PHOTOS=DIR, a folder with train/ and val/ of captioned photos (a captions.jsonl in each)" >&2
        exit 1
    elif [ ! -f "$PHOTOS/$part/captions.jsonl" ]; then
        echo "gpu_slice_prepare.sh: $PHOTOS/$part has no captions.jsonl: set PHOTOS=DIR, a folder with train/ and val/ of captioned photos (a captions.jsonl in each)" >&2
        exit 1
    fi
done

exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
grep -qxF "/$G/" "$exclude" 2>/dev/null || echo "/$G/" >> "$exclude"
mkdir -p $G/photos/val $G/whl

echo "== photos"
# Training photos: JPEGs losslessly re-packed after the copy (scripts/gpu_slice.py repack-jpegs:
# mozjpeg-lossless-optimization from pip, or Debian's jpegtran; the same pixels, ~8 % smaller).
rm -rf $G/photos/train && mkdir -p $G/photos/train
# What the recipe trains on (taco.data.CaptionedFolder with its data.exclude): only those
# photos and their captions travel, each at the path its captions name (sub/photo.JPG stays
# that); the excluded ones stay here.
PYTHONPATH=$PWD "$PY" - "$PHOTOS/train" $G/photos/train "$CONFIG" <<'PYEOF'
import json, shutil, sys, warnings
from pathlib import Path
from taco.data import CaptionedFolder
from taco.train import load_config
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
patterns = load_config(sys.argv[3]).data.exclude
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the counts are printed below
    folder = CaptionedFolder(src, exclude=patterns)
kept = {r.file for r in folder.records}
lines = [line for line in (src / "captions.jsonl").read_text(encoding="utf-8").splitlines()
         if line.strip() and json.loads(line)["image"] in kept]
(dst / "captions.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
for name in sorted(kept):
    (dst / name).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / name, dst / name)
print(f"{len(kept)} captioned photos kept, {folder.excluded} excluded by {patterns}")
PYEOF
if [ "$EXTRA_PHOTOS" = 1 ]; then
    extra=$(mktemp -d)  # not under .gpu/, which travels whole
    "$PY" scripts/fetch_extra_photos.py "$extra" --cache "$EXTRA_CACHE"
    for f in "$extra"/*.jpg; do
        [ -e "$G/photos/train/${f##*/}" ] && { echo "extra photo ${f##*/} is already in $PHOTOS/train" >&2; exit 1; }
        cp "$f" "$G/photos/train/"
    done
    cat "$extra/captions.jsonl" >> $G/photos/train/captions.jsonl
    echo "$(ls "$extra"/*.jpg | wc -l) extra photos added (docs/data.md)"
    rm -r "$extra"
fi
"$PY" scripts/gpu_slice.py repack-jpegs $G/photos/train
# Validation: the centre val.crop² crop of the first VAL_IMAGES photos (what validation reads
# of them, the same pixels), each saved as NAME.png whatever its format (kodak.JPG, scan.tif),
# and captions.jsonl written with those names.
rm -rf $G/photos/val && mkdir -p $G/photos/val
PYTHONPATH=$PWD "$PY" - "$PHOTOS/val" $G/photos/val "$CONFIG" "$VAL_IMAGES" <<'PYEOF'
import json, sys
from pathlib import Path
from PIL import Image
from taco.train import load_config
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
crop = load_config(sys.argv[3]).val.crop
lines = [line for line in (src / "captions.jsonl").read_text(encoding="utf-8").splitlines()
         if line.strip()][: int(sys.argv[4])]
out, saved = [], {}  # the .png written: the photo it holds
for line in lines:
    entry = json.loads(line)
    name, png = entry["image"], str(Path(entry["image"]).with_suffix(".png"))
    assert saved.setdefault(png, name) == name, f"{saved[png]} and {name} would both be {png}"
    img = Image.open(src / name).convert("RGB")
    w, h = img.size
    assert min(w, h) >= crop, f"{name} is smaller than val.crop"
    left, top = (w - crop) // 2, (h - crop) // 2
    (dst / png).parent.mkdir(parents=True, exist_ok=True)
    img.crop((left, top, left + crop, top + crop)).save(dst / png)
    out.append(json.dumps({**entry, "image": png}, ensure_ascii=False) + "\n")
(dst / "captions.jsonl").write_text("".join(out), encoding="utf-8")
PYEOF

echo "== caption embeddings"
PYTHONPATH=$PWD "$PY" -m taco.train "$CONFIG" --embed-captions $G/embeddings.safetensors --force  # replaces the last one

rm -rf $G/init
if [ -n "$INIT" ]; then
    echo "== checkpoint to start from"
    # refused here if CONFIG (with TRAIN_ARGS' --set) cannot start from it, not on the GPU machine
    PYTHONPATH=$PWD "$PY" scripts/gpu_slice.py pack-init "$INIT" $G/init --config "$CONFIG" \
        --train-args="$TRAIN_ARGS"
fi

echo "== wheels for Python $PY_VERSION"
# shellcheck disable=SC2086
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PY_VERSION" \
    --implementation cp --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
    -d $G/whl $WHEELS
ls $G/whl

echo "== what travels"
"$PY" scripts/gpu_slice.py travel $G   # what is left under 64 MiB; over: what to take out, exit 1
