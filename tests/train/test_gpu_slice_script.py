"""scripts/gpu_slice.py: a checkpoint to continue from travels xz'd and comes out byte for byte."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import torch

from taco import shards

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_slice.py"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_pack_and_unpack_init_round_trip_a_sharded_checkpoint(tmp_path):
    g = torch.Generator().manual_seed(0)
    tensors = {f"w{i}": torch.randn(64, 64, generator=g).half() for i in range(6)}
    (tmp_path / "ckpt").mkdir()
    written = shards.save_sharded(tensors, tmp_path / "ckpt" / "checkpoint.safetensors",
                                  {"k": "v"}, max_bytes=20_000)  # fmt: skip
    files = shards.files(written[0])
    index = files[0]
    assert len(files) > 2  # an index and several shards

    packed = _run("pack-init", index, tmp_path / "init")
    assert packed.returncode == 0, packed.stderr
    assert sorted(p.name for p in (tmp_path / "init").glob("*.xz")) == sorted(f"{f.name}.xz" for f in files)

    out = _run("unpack-init", tmp_path / "init", tmp_path / "there")
    assert out.returncode == 0, out.stderr
    entry = Path(out.stdout.strip())
    assert entry == tmp_path / "there" / index.name
    for f in files:
        assert (tmp_path / "there" / f.name).read_bytes() == f.read_bytes()
    loaded, meta = shards.load_sharded(entry)
    assert meta == {"k": "v"} and all(torch.equal(loaded[k], v) for k, v in tensors.items())

    (tmp_path / "init" / f"{files[-1].name}.xz").unlink()  # a shard lost on the way
    bad = _run("unpack-init", tmp_path / "init", tmp_path / "again")
    assert bad.returncode != 0 and files[-1].name in bad.stderr


def test_pack_init_of_a_missing_checkpoint_is_one_line(tmp_path):
    r = _run("pack-init", tmp_path / "nothing.safetensors", tmp_path / "init")
    assert r.returncode != 0 and "no checkpoint" in r.stderr and "Traceback" not in r.stderr


def test_unpack_init_refuses_a_checkpoint_of_another_architecture_than_the_recipe(tmp_path):
    """The one .gpu/init slot serves whichever CONFIG runs: an ELIC checkpoint would have started
    the TACO built-in's training without a word (taco train takes ELIC weights into a TACO)."""
    from taco.models import create_model, save_checkpoint

    repo = SCRIPT.parents[1]
    elic = save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "elic.safetensors")
    assert _run("pack-init", elic, tmp_path / "init").returncode == 0
    wrong = _run("unpack-init", tmp_path / "init", tmp_path / "a", "--config",
                 repo / "configs" / "taco-minilm-vr.yaml")
    assert wrong.returncode != 0 and "holds a elic checkpoint" in wrong.stderr
    assert "trains taco" in wrong.stderr and "Traceback" not in wrong.stderr
    right = _run("unpack-init", tmp_path / "init", tmp_path / "b", "--config", repo / "configs" / "elic-vr.yaml",
                 "--train-args", "--set model=elic-tiny")  # its widths (elic-vr's are refused)
    assert right.returncode == 0, right.stderr
    overridden = _run("unpack-init", tmp_path / "init", tmp_path / "c", "--config",  # TRAIN_ARGS' --set
                      repo / "configs" / "taco-minilm-vr.yaml", "--train-args",
                      "--time-limit 1m --set preset=elic model=elic-tiny crop=64")
    assert overridden.returncode == 0, overridden.stderr
    assert Path(right.stdout.strip()) == tmp_path / "b" / "elic.safetensors"


def test_repack_jpegs_keeps_every_pixel_and_never_grows_a_file(tmp_path):
    """The training photos travel re-packed (8.5 % smaller with mozjpeg's lossless optimiser):
    the same pixels, a file never larger, an EXIF-rotated or colour-profiled photo left as it is
    (its orientation tag or profile would go with the metadata)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    smooth = np.cumsum(rng.integers(-3, 4, (96, 128, 3)), axis=1).clip(0, 255).astype(np.uint8)
    Image.fromarray(smooth).save(tmp_path / "a.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(smooth).save(tmp_path / "rotated.jpeg", quality=90, exif=exif)
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(smooth).save(tmp_path / "profiled.jpg", quality=90, icc_profile=srgb)
    (tmp_path / "notes.txt").write_text("not a photo")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    r = _run("repack-jpegs", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "changed its pixels" not in r.stderr
    for name, data in before.items():
        now = (tmp_path / name).read_bytes()
        assert len(now) <= len(data)
        if name.endswith((".jpg", ".jpeg")):
            with Image.open(tmp_path / name) as a:
                assert np.array_equal(np.asarray(a), np.asarray(Image.open(io.BytesIO(data))))
    assert (tmp_path / "rotated.jpeg").read_bytes() == before["rotated.jpeg"]
    assert (tmp_path / "profiled.jpg").read_bytes() == before["profiled.jpg"]
    assert (tmp_path / "notes.txt").read_bytes() == before["notes.txt"]
    if "left as they are" not in r.stderr:  # an optimiser was there: a.jpg did shrink
        assert len((tmp_path / "a.jpg").read_bytes()) < len(before["a.jpg"])


def test_pack_and_unpack_init_refuse_a_built_in_that_the_variable_rate_recipe_cannot_start_from(tmp_path):
    """INIT=elic-small-q4 passed prepare and unpack-init (the same architecture as configs/elic-vr.yaml)
    and was refused by the trainer only on the GPU machine, after the benchmark: every built-in
    has CompressAI's entropy layout, which a variable-rate model cannot start from. The trainer's
    own check now runs in pack-init (prepare) and again in unpack-init."""
    import lzma

    from taco.models import pretrained_file

    repo = SCRIPT.parents[1]
    recipe = repo / "configs" / "elic-vr.yaml"
    packed = _run("pack-init", "elic-small-q4", tmp_path / "init", "--config", recipe)
    assert packed.returncode != 0 and "CompressAI's layout" in packed.stderr, packed.stderr
    assert "Traceback" not in packed.stderr and not (tmp_path / "init").exists()

    built_in = pretrained_file("elic-small-q4")  # packed by hand, as an older prepare did
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / f"{built_in.name}.xz").write_bytes(lzma.compress(built_in.read_bytes()))
    (tmp_path / "old" / "entry").write_text(built_in.name + "\n")
    there = _run("unpack-init", tmp_path / "old", tmp_path / "there", "--config", recipe)
    assert there.returncode != 0 and "CompressAI's layout" in there.stderr, there.stderr
    assert there.stdout == "" and "Traceback" not in there.stderr


def test_pack_init_refuses_a_checkpoint_of_other_widths_than_the_recipe_s_model(tmp_path):
    """A checkpoint of the recipe's architecture but other layer sizes passed prepare and was
    refused only on the GPU machine, by the trainer's warm start (init_from_checkpoint): pack-init
    now builds the model CONFIG + TRAIN_ARGS describe and loads the checkpoint into it, as the
    trainer does, and says the trainer's words."""
    import pytest

    from taco.models import CheckpointError, create_model, save_checkpoint
    from taco.train.model_setup import init_from_checkpoint

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text("preset: elic\nmodel: elic-tiny\n")
    wide = save_checkpoint(create_model("elic-tiny", seed=0, N=32), tmp_path / "wide.safetensors")
    with pytest.raises(CheckpointError) as trainer:  # what taco train says on the GPU machine
        init_from_checkpoint(create_model("elic-tiny", seed=0), wide)

    refused = _run("pack-init", wide, tmp_path / "init", "--config", recipe)
    assert refused.returncode != 0 and str(trainer.value) in refused.stderr, refused.stderr
    assert "N=32 there, 16 in the model being trained" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "init").exists()
    matching = _run("pack-init", wide, tmp_path / "init", "--config", recipe,
                    "--train-args", "--set model_overrides.N=32")  # fmt: skip
    assert matching.returncode == 0, matching.stderr
    assert (tmp_path / "init" / "wide.safetensors.xz").is_file()


PREPARE_STUB = """#!/usr/bin/env bash
# gpu_slice_prepare.sh's python: its own Python blocks (stdin) run for real; pip, the caption
# embeddings, the JPEG re-pack and the travel check are not this test's
[ "$1" = - ] || exit 0
PYTHONPATH=$REPO exec "$REAL_PY" "$@"
"""


def test_prepare_writes_the_captions_of_the_photos_it_saved(tmp_path):
    """Validation photos that were not lower-case .jpg/.jpeg/.webp (kodak.JPG, scan.tif) were saved
    as NAME.png while captions.jsonl still named NAME.JPG (a case-sensitive sed), so taco train
    found them "listed without an image file"; a training photo in a subfolder (sub/photo.jpg, as
    a captions file may name it) was copied flat. Both now land where their captions say."""
    import json
    import os
    import shutil

    import numpy as np
    from PIL import Image

    git = shutil.which("git")
    assert git is not None
    repo = SCRIPT.parents[1]
    clone = tmp_path / "clone"  # the script works in its checkout's .gpu/: not this one's
    (clone / "scripts").mkdir(parents=True)
    shutil.copy(repo / "scripts" / "gpu_slice_prepare.sh", clone / "scripts")
    subprocess.run([git, "init", "-q", str(clone)], check=True)
    photos = tmp_path / "photos"
    rng = np.random.default_rng(0)
    for name in ("train/sub/a.jpg", "train/B.JPG", "val/kodak.JPG", "val/scan.tif", "val/c.png"):
        (photos / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(photos / name)
    for part, names in (("train", ["sub/a.jpg", "B.JPG"]), ("val", ["kodak.JPG", "scan.tif", "c.png"])):
        (photos / part / "captions.jsonl").write_text(
            "".join(json.dumps({"image": n, "captions": [f"photo {n}"]}) + "\n" for n in names))
    config = tmp_path / "recipe.yaml"
    config.write_text("val:\n  crop: 64\n")
    stub = tmp_path / "python"
    stub.write_text(PREPARE_STUB)
    stub.chmod(0o755)

    env = {**os.environ, "PY": str(stub), "REAL_PY": sys.executable, "REPO": str(repo),
           "PHOTOS": str(photos), "CONFIG": str(config), "EXTRA_PHOTOS": "0", "VAL_IMAGES": "2"}
    r = subprocess.run(["bash", str(clone / "scripts" / "gpu_slice_prepare.sh")], cwd=clone,
                       env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    for part, expected in (("train", ["sub/a.jpg", "B.JPG"]), ("val", ["kodak.png", "scan.png"])):
        folder = clone / ".gpu" / "photos" / part
        listed = [json.loads(line)["image"] for line in (folder / "captions.jsonl").read_text().splitlines()]
        assert sorted(listed) == sorted(expected)
        assert all((folder / name).is_file() for name in listed), sorted(p.name for p in folder.rglob("*"))
    with Image.open(clone / ".gpu" / "photos" / "val" / "scan.png") as crop:
        assert crop.size == (64, 64)


def test_repack_jpegs_repacks_the_photos_in_subfolders_too(tmp_path):
    """gpu_slice_prepare.sh keeps training photos at the paths their captions name (sub/a.jpg):
    repack-jpegs looked at the top folder only, so those travelled ~8-12 % bigger and its count
    left them out without a word (review R3 6). It searches every subfolder and counts them."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    smooth = np.cumsum(rng.integers(-3, 4, (96, 128, 3)), axis=1).clip(0, 255).astype(np.uint8)
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    for name in ("top.jpg", "sub/a.JPG", "sub/deeper/b.jpeg"):
        Image.fromarray(smooth).save(tmp_path / name, format="JPEG", quality=90)
    before = {name: (tmp_path / name).read_bytes() for name in ("top.jpg", "sub/a.JPG", "sub/deeper/b.jpeg")}

    r = _run("repack-jpegs", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "repack-jpegs: 3 JPEGs (subfolders included) " in r.stdout + r.stderr, (r.stdout, r.stderr)
    if "left as they are" not in r.stderr:  # an optimiser was there: each one shrank, in any folder
        for name, data in before.items():
            assert len((tmp_path / name).read_bytes()) < len(data), name


def test_repack_jpegs_counts_files_not_a_folder_named_like_one(tmp_path):
    """A folder whose name ends .jpg (photos.jpg/) is searched, not counted or read as a JPEG."""
    from PIL import Image

    (tmp_path / "photos.jpg").mkdir()
    Image.new("RGB", (32, 32), (200, 30, 60)).save(tmp_path / "photos.jpg" / "a.jpg", quality=90)
    r = subprocess.run([sys.executable, str(SCRIPT), "repack-jpegs", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "repack-jpegs: 1 JPEGs (subfolders included) " in r.stdout + r.stderr, (r.stdout, r.stderr)


def test_unpack_init_of_a_folder_without_entry_says_so(tmp_path):
    """unpack-init of a folder pack-init did not write (no ``entry``) ended in a FileNotFoundError
    traceback, after making DST: one line now, nothing made."""
    folder, dest = tmp_path / "not-packed", tmp_path / "dest"
    folder.mkdir()
    r = _run("unpack-init", folder, dest)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip() == f"unpack-init: {folder} has no 'entry' file: not a folder pack-init wrote"
    assert not dest.exists()
