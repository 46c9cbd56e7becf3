"""scripts/gpu_slice.sh finishing normally: how the next slice goes on, and the call's own folders.

A normal finish said nothing of the next slice (only a slice stopped by a signal did): the last
line of the trainer's it passed on names its run folder, on the GPU machine given back after the
call. And the carried wheels were installed into a fixed /tmp/site, .gpu/init unpacked into a fixed
/tmp/init, shared by every slice on the machine: two CPU rehearsals at once replaced each other's
packages mid-import (ModuleNotFoundError: compressai.typing). Run with conftest's stand-in Python
(gpu_slice): CompressAI missing, so pip runs; pip, unpack-init and the trainer record what they got."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

#: The stand-in's first lines: CompressAI not importable (the wheels go in), pip and unpack-init
#: recorded in $CALLS and writing where they are told, a trainer that writes a checkpoint and its records and finishes (exit 0).
FINISHING = """case "$1 $2" in
    "-c import compressai, lpips, pytorch_msssim") exit 1;;
    "-m pip")
        echo "pip $*" >> "$CALLS"
        for a; do [ "${prev:-}" = --target ] && mkdir -p "$a/compressai" && touch "$a/compressai/__init__.py"; prev=$a; done
        exit 0;;
    "scripts/gpu_slice.py unpack-init")
        echo "unpack-init $3 $4" >> "$CALLS"
        mkdir -p "$4" && echo weights > "$4/ckpt.safetensors" && echo "$4/ckpt.safetensors"
        exit 0;;
    "-m taco.train")
        echo "train PYTHONPATH=$PYTHONPATH $*" >> "$CALLS"
        while [ $# -gt 0 ]; do [ "$1" = --out-dir ] && run=$2; shift; done
        mkdir -p "$run" && echo weights > "$run/checkpoint.safetensors"
        echo '{"kind": "train", "step": 7, "epoch": 1.75, "lr": 0.0002, "loss": 1.0, "bpp": 0.5, "psnr": 30.0, "lpips": 0.2, "img_per_s": 8.0, "wall_time_s": 3.5}' > "$run/log.jsonl"
        echo "done: time limit 10s reached; 7 steps (1.75 epochs) in 4 s; model -> $run/checkpoint.safetensors" >&2
        exit 0;;
esac
"""


def _gpu_folder(tmp_path: Path) -> None:
    """tmp_path/.gpu with a wheel and a packed init, as gpu_slice_prepare.sh leaves it."""
    (tmp_path / ".gpu" / "whl").mkdir(parents=True)
    (tmp_path / ".gpu" / "whl" / "compressai-1.2.8-cp312-cp312-linux_x86_64.whl").write_text("wheel")
    (tmp_path / ".gpu" / "init").mkdir()


def test_a_normal_finish_says_how_the_next_slice_goes_on(gpu_slice, tmp_path):
    (tmp_path / "calls").touch()
    result = gpu_slice(FINISHING, BENCH="0", TRAIN_TIME="10s", SYNC_EVERY="1", CALLS=str(tmp_path / "calls"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "ckpt" / "checkpoint.safetensors").read_text() == "weights\n"
    lines = result.stdout.splitlines()
    report = next(i for i, line in enumerate(lines) if line.startswith("loss curve"))
    said = " ".join(" ".join(lines[report:]).split())
    assert ("goes back with this machine; the next slice warm-starts from the checkpoint that comes back "
            f"in {tmp_path / 'out'} (<files_at>: where it lands): INIT=<files_at>/ckpt/checkpoint.safetensors "
            "bash scripts/gpu_slice_prepare.sh, then BENCH=0 bash scripts/gpu_slice.sh (docs/training.md)") in said
    assert lines[-1].endswith("] done")
    assert "trainer: 7 steps (1.75 epochs) in 4 s: 1.75 steps/s" in result.stdout  # report --log RUN.log


def test_a_finish_without_a_checkpoint_says_the_next_slice_starts_as_this_one(gpu_slice, tmp_path):
    result = gpu_slice(BENCH="0", TRAIN_TIME="10s", SYNC_EVERY="1")  # a trainer that wrote nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no checkpoint came back in" in result.stdout and "the next slice starts as this one did" in result.stdout


@pytest.mark.parametrize("given", [False, True])
def test_the_wheels_and_the_init_go_into_the_call_s_own_folder(gpu_slice, tmp_path, given):
    """Under the slice's folder (TMPDIR/slice.*), or one of their own when RUN and
    TORCHINDUCTOR_CACHE_DIR are given; on PYTHONPATH for the trainer; removed at the end."""
    _gpu_folder(tmp_path)
    calls = tmp_path / "calls"
    calls.touch()
    env = {"RUN": str(tmp_path / "slice" / "run"), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "ind")} if given else {}
    result = gpu_slice(FINISHING, BENCH="0", TRAIN_TIME="10s", SYNC_EVERY="1", CALLS=str(calls), **env)
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = {line.split()[0]: line.split()[1:] for line in calls.read_text().splitlines()}
    site = Path(recorded["pip"][recorded["pip"].index("--target") + 1])
    init = Path(recorded["unpack-init"][1])
    assert recorded["unpack-init"][0] == ".gpu/init"
    assert site.parent == init.parent and site.name == "site" and init.name == "init"
    own = site.parent
    assert own.parent == tmp_path / "tmp"  # in TMPDIR, not /tmp/site and /tmp/init
    assert own.name.startswith("slice-own." if given else "slice.")
    assert f"PYTHONPATH={site}:{tmp_path}" in recorded["train"]
    assert "--init-from" in recorded["train"] and str(init / "ckpt.safetensors") in recorded["train"]
    left = sorted(p.relative_to(tmp_path / "tmp").as_posix() for p in (tmp_path / "tmp").rglob("*"))
    if given:  # the folder made for them alone: gone
        assert left == []
    else:  # the slice's folder keeps its run, not the wheels or the init
        assert left == [own.name, *(f"{own.name}/{n}" for n in
                                    ("run", "run.log", "run/checkpoint.safetensors", "run/log.jsonl"))]
    run = tmp_path / "slice" / "run" if given else own / "run"
    assert json.loads((run / "log.jsonl").read_text())["step"] == 7  # the trainer ran there
