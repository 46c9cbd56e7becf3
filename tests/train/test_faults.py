"""Training survives faults (issue 7, item 4).

A run SIGKILLed at a seeded step and resumed ends bit-identical to an uninterrupted one; a kill or
an error inside a checkpoint write leaves the previous file whole and loadable; a full disk and a
non-finite loss stop ``taco train`` with one line, exit status 3, and the last good checkpoint.
The kill step comes from a seeded RNG (step 4 by default): ``TACO_FAULT_SEED=<n>`` picks another.
Of each pair of variants (SIGINT/SIGTERM, checkpoint/state file) one runs by default, its twin
under ``-m slow``.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import taco
import taco.atomic
from taco.cli import main as taco_main
from taco.losses import TacoLoss
from taco.samples import SAMPLES_DIR
from taco.train import load_config, train
from taco.train.run_log import RunLog
from taco.train.state import load_train_state
from taco.train.trainer import CHECKPOINT_FILE, STATE_FILE


def train_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])

REPO = Path(__file__).resolve().parents[2]
STEPS = 6  # 4 photos, batch 2: 3 epochs; states at steps 2 and 4 before the end
CKPT_EVERY = 2
SEED = int(os.environ.get("TACO_FAULT_SEED", "20240704"))
ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}  # no text encoder: the fastest runs
FILES = ["checkpoint.safetensors", "config.yaml", "log.jsonl", "train_state.safetensors"]


def _slow(value: object) -> object:
    """The twin of a pair whose other variant runs by default: under ``-m slow`` only."""
    return pytest.param(value, marks=pytest.mark.slow)


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip


def _records(out_dir: Path) -> list[dict]:
    """The train records of log.jsonl (a line being written while we read is skipped)."""
    path = out_dir / "log.jsonl"
    records = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record["kind"] == "train":
            records.append(record)
    return records


def _state_step(out_dir: Path) -> int:
    return load_train_state(out_dir / STATE_FILE)[1]["progress"]["step"]


def _ckpt_step(out_dir: Path) -> int:
    return taco.load(out_dir / CHECKPOINT_FILE).metadata["trained_steps"]


def _assert_same_run(out: Path, ref: Path) -> None:
    """Final weights, entropy tables, Adam moments and RNG states equal bit for bit; so is the
    log: every step once (the recomputed steps replace what the killed run logged), same losses."""
    for name in (CHECKPOINT_FILE, STATE_FILE):
        a, b = load_file(ref / name), load_file(out / name)
        assert a.keys() == b.keys(), name
        differ = [k for k in a if not torch.equal(a[k], b[k])]
        assert not differ, f"{name}: {len(differ)} tensors differ, e.g. {differ[:5]}"
    got, expected = _records(out), _records(ref)
    assert [r["step"] for r in got] == [r["step"] for r in expected]  # no step twice
    for g, r in zip(got, expected, strict=True):
        assert (g["loss"], g["bpp"], g["psnr"]) == (r["loss"], r["bpp"], r["psnr"]), r["step"]
    lines = (out / "log.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # no line cut short by the kill


def _resume_equals(cmd: list[str], out: Path, reference: Path, *said: str) -> None:
    """``cmd --resume`` in a new process: it says each of ``said`` and ends as ``reference``."""
    resumed = subprocess.run([*cmd, "--resume"], cwd=REPO, env=_env(), capture_output=True,
                             text=True, timeout=600)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    for text in said:
        assert text in resumed.stderr
    _assert_same_run(out, reference)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny) -> Path:
    """The uninterrupted run every interrupted one must reproduce (elic-tiny, STEPS steps: no
    text encoder to import in each process; taco-tiny's exact resume is
    tests/train/test_trainer.py::test_resume_continues_exactly)."""
    out = tmp_path_factory.mktemp("faults") / "uninterrupted"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(load_config(None, tiny(out, max_steps=STEPS, ckpt_interval=CKPT_EVERY, **ELIC)))
    finally:
        torch.set_num_threads(threads)
    return out


# --------------------------------------------------------------------------- SIGKILL


def _signals_as_a_terminal_has_them() -> None:
    """A child's SIGINT and SIGHUP as a terminal's command has them: a test run started as a
    background job of a script (SIGINT ignored) or under nohup (SIGHUP) passes them on ignored,
    and taco leaves an ignored signal ignored."""
    for signum in (signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _sigkill_when(cmd: list[str], ready, what: str, output: Path,  # noqa: ANN001
                  signum: int = signal.SIGKILL, job: bool = False) -> int:
    """Run ``cmd``, SIGKILL it (or send ``signum``; with ``job``, to its own process group, as
    a terminal or a scheduler signals a job) as soon as ``ready()``; -> its exit status.
    Fails the test if it exits before (with its output, kept in ``output``) or is not ready
    within 600 s."""
    with open(output, "w+") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=log, stderr=log,
                                start_new_session=job, preexec_fn=_signals_as_a_terminal_has_them)
        try:
            deadline = time.monotonic() + 600
            while not ready():
                if proc.poll() is not None:
                    log.seek(0)
                    pytest.fail(f"exited ({proc.returncode}) before {what}: {log.read()[-4000:]}")
                assert time.monotonic() < deadline, f"never reached {what} in 600 s"
                time.sleep(0.01)
            (os.killpg if job else os.kill)(proc.pid, signum)
            proc.wait(120)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(60)
    return proc.returncode


def test_sigkill_at_a_seeded_step_then_resume_equals_an_uninterrupted_run(tmp_path, tiny, reference):
    """SIGKILL once the log shows step k, k drawn from 3..STEPS-1 by ``random.Random(SEED)``:
    step 4 with the default seed, ``TACO_FAULT_SEED=<n>`` varies it."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "taco.train", "--set",
           *tiny(out, max_steps=STEPS, ckpt_interval=CKPT_EVERY, **ELIC)]  # fmt: skip
    kill_at = random.Random(SEED).randint(CKPT_EVERY + 1, STEPS - 1)  # a state exists by then
    status = _sigkill_when(cmd, lambda: any(r["step"] >= kill_at for r in _records(out)),
                           f"step {kill_at}", tmp_path / "output.txt")
    assert status == -signal.SIGKILL
    saved = _state_step(out)  # what the kill left: both files load
    assert 0 < saved < STEPS and _ckpt_step(out) in (saved, saved + CKPT_EVERY)
    print(f"\nSIGKILL after step {kill_at} was logged; resuming from the state of step {saved}")

    _resume_equals(cmd, out, reference, f"resuming at step {saved}")


@pytest.mark.parametrize("signum", [signal.SIGINT, _slow(signal.SIGTERM)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_after_the_step_with_a_checkpoint_then_resume_equals_an_uninterrupted_run(
        tmp_path, tiny, reference, signum):
    """Ctrl-C or a ``kill`` keeps every step trained: the run writes its checkpoint and state
    after the step in hand (no checkpoint was due), says so and how to go on, exits with 128 +
    the signal; --resume then ends bit-identical to the uninterrupted run (nothing recomputed)."""
    out = tmp_path / "stopped"
    cmd = [sys.executable, "-m", "taco.train", "--set",
           *tiny(out, max_steps=STEPS, ckpt_interval=STEPS, **ELIC)]  # fmt: skip
    output = tmp_path / "output.txt"
    status = _sigkill_when(cmd, lambda: any(r["step"] >= 3 for r in _records(out)), "step 3",
                           output, signum)
    err = output.read_text()
    assert status == 128 + signum, err[-4000:]
    name = signal.Signals(signum).name
    assert f"taco train: {name}: stopping after this step, with a checkpoint" in err
    saved = _state_step(out)
    assert 3 <= saved < STEPS and _ckpt_step(out) == saved  # the steps since the last one kept
    how = "interrupted" if signum == signal.SIGINT else f"stopped by {name}"
    assert (f"taco train: {how} at step {saved} ({saved / 2:.2f} epochs); the model and state "
            f"are saved in {out}: go on with taco train --resume {out}") in err
    assert "Traceback" not in err

    _resume_equals(cmd, out, reference, f"resuming at step {saved}")


@pytest.mark.parametrize("signum", [_slow(signal.SIGINT), signal.SIGTERM],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_whole_job_with_loader_workers_stops_with_a_checkpoint(tmp_path, tiny, signum):
    """Ctrl-C in a terminal, ``timeout`` or a scheduler signals every process of the job, the
    DataLoader's workers too: they leave it to the run, which stops with a checkpoint. A
    worker killed under it had ended the run with "DataLoader worker ... is killed by signal"."""
    out = tmp_path / "stopped"
    cmd = [sys.executable, "-m", "taco.train", "--set",
           *tiny(out, max_steps=400, ckpt_interval=400, batch_size=1, workers=2, **ELIC)]  # fmt: skip
    output = tmp_path / "output.txt"
    status = _sigkill_when(cmd, lambda: any(r["step"] >= 9 for r in _records(out)),
                           "step 9 (its third epoch)", output, signum, job=True)
    err = output.read_text()
    assert status == 128 + signum, err[-4000:]
    saved = _state_step(out)
    assert 9 <= saved < 400 and _ckpt_step(out) == saved
    assert f"at step {saved} (" in err and "go on with taco train --resume" in err
    assert "Traceback" not in err and "DataLoader worker" not in err


def _worker(torchrun: int, rank: int) -> int | None:
    """The pid of torchrun's worker process of ``rank`` (from /proc; None: not started yet)."""
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # not a process, gone, or not ours
            continue
        if int(stat.rpartition(")")[2].split()[1]) == torchrun and f"RANK={rank}".encode() in environ:
            return int(proc.name)
    return None


#: ``python -m taco.train`` with rank 0 slow to let its run go (Trainer.close): as a loaded
#: machine has it, where rank 1 left first and torchrun's SIGTERM reached rank 0 on its way out.
SLOW_RANK_0 = """
import os, runpy, time
import taco.train.trainer as trainer
close = trainer.Trainer.close
def slow_close(self):
    if os.environ["RANK"] == "0":
        time.sleep(1.5)
    close(self)
trainer.Trainer.close = slow_close
runpy.run_module("taco.train", run_name="__main__", alter_sys=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the rank through /proc")
@pytest.mark.parametrize("rank_0", ["as_is", _slow("slow_to_leave")])
def test_a_signal_to_one_torchrun_rank_stops_every_rank_and_rank_0_alone_says_which(
        tmp_path, tiny, rank_0):
    """SIGHUP to rank 1 alone (in CI, not slow: two gloo processes of elic-tiny): both ranks stop at the same step with
    a checkpoint; rank 0, which got no signal, names SIGHUP (it said SIGTERM, whatever came), in
    the one "stopped by" line of the job (each rank printed its own); rank 1 exits as failed
    (129, or SIGABRT from gloo's teardown, seen once in a loaded run).
    ``slow_to_leave``: rank 0 takes its time after the checkpoint, as on a loaded machine; rank
    1 had left at once, and torchrun's SIGTERM to the job had rank 0 say ``stopped by SIGTERM``
    with no step (seen once in a loaded CI run): the ranks now leave together."""
    out = tmp_path / "stopped"
    if rank_0 == "as_is":
        program = ["-m", "taco.train"]
    else:
        (tmp_path / "slow_rank_0.py").write_text(SLOW_RANK_0)
        program = [str(tmp_path / "slow_rank_0.py")]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           *program, "--set",
           *tiny(out, batch_size=1, max_steps=400, ckpt_interval=400, **ELIC)]  # fmt: skip
    with open(tmp_path / "output.txt", "w+") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=log, stderr=log,
                                preexec_fn=_signals_as_a_terminal_has_them)
        try:
            deadline = time.monotonic() + 600
            while not _records(out) or (rank1 := _worker(proc.pid, 1)) is None:
                assert proc.poll() is None and time.monotonic() < deadline, "never reached step 1"
                time.sleep(0.01)
            os.kill(rank1, signal.SIGHUP)
            proc.wait(120)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(60)
        log.seek(0)
        err = log.read()
    saved = _state_step(out)
    assert 1 <= saved < 400 and _ckpt_step(out) == saved, err[-4000:]
    assert err.count("taco train: stopped by") == 1, err[-4000:]
    assert f"taco train: stopped by SIGHUP at step {saved} (" in err, err[-4000:]
    assert "SIGTERM: stopping" not in err, err[-4000:]  # torchrun stops rank 0 after it has said it
    # torchrun's summary lists rank 1, the one that got the signal, as failed: with exit code
    # 129 as a rule, but once in a loaded CI run by SIGABRT in gloo's teardown at its exit
    assert "rank      : 1 (local_rank: 1)\n  exitcode  : " in err


def test_a_signal_handler_is_put_back_after_a_run(tmp_path, tiny):
    """A library caller's handlers are its own again once train() returns."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    train(load_config(None, tiny(tmp_path / "run", max_steps=1, **ELIC)))
    assert {s: signal.getsignal(s) for s in before} == before


def test_sigkill_before_the_first_checkpoint_then_resume_starts_clean(tmp_path, tiny, reference):
    """Nothing saved yet: --resume says so and starts from step 0; the log keeps no record of
    the killed run, and the run ends as the uninterrupted one."""
    out = tmp_path / "killed-early"
    cmd = [sys.executable, "-m", "taco.train", "--set",
           *tiny(out, max_steps=STEPS, ckpt_interval=STEPS, **ELIC)]  # fmt: skip
    status = _sigkill_when(cmd, lambda: any(r["step"] >= 3 for r in _records(out)),
                           "step 3", tmp_path / "output.txt")
    assert status == -signal.SIGKILL
    assert not (out / STATE_FILE).exists() and _records(out)  # a log, nothing to resume from

    _resume_equals(cmd, out, reference, f"nothing to resume in {out} (no {STATE_FILE}",
                   "starting from step 0")


def test_a_resumed_run_logs_every_step_once(tmp_path, tiny):
    """What a killed run logged after its last state (and a line it cut short) is dropped."""
    out = tmp_path / "run"
    train(load_config(None, tiny(out, max_steps=2, **ELIC)))
    with open(out / "log.jsonl", "a") as log:  # as a run killed at step 4 leaves it
        for step in (3, 4):
            log.write(json.dumps({"kind": "train", "step": step, "loss": -1.0}) + "\n")
        log.write(json.dumps({"kind": "val", "step": 4, "loss": -1.0}) + "\n")
        log.write('{"kind": "train", "st')
    train(load_config(None, tiny(out, max_steps=4, **ELIC)), resume=out)
    lines = (out / "log.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert all(r["loss"] > 0 for r in records)


def test_resume_from_elsewhere_without_a_state_is_an_error(tmp_path, tiny):
    out = tmp_path / "run"
    assert train_main(["--set", *tiny(out, max_steps=1, **ELIC), "--resume",
                       str(tmp_path / "other")]) == 2  # fmt: skip
    assert not out.exists()


# A child that trains (in a write, the fixture hang_in_write stops it: half the file written and
# synced, a marker left, waiting to be killed).
_TRAIN = """
import sys
from taco.cli import main
sys.exit(main(["train", *sys.argv[1:]]))
"""


@pytest.mark.parametrize("target", [_slow(CHECKPOINT_FILE), STATE_FILE])
def test_sigkill_inside_a_write_keeps_the_previous_file(tmp_path, tiny, reference, hang_in_write, target):
    out, marker = tmp_path / "run", tmp_path / "inside-the-write"
    overrides = tiny(out, max_steps=STEPS, ckpt_interval=CKPT_EVERY, **ELIC)
    child = hang_in_write(marker, nth=2, target=target) + _TRAIN
    cmd = [sys.executable, "-c", child, "--set", *overrides]
    _sigkill_when(cmd, marker.exists, "the write", tmp_path / "output.txt")
    # killed in the second save (step 4): the file holds step 2, whole; a half temporary is left
    (stale,) = taco.atomic.stale_temporaries(out / target)
    assert 0 < stale.stat().st_size < (out / target).stat().st_size
    assert _state_step(out) == (4 if target == CHECKPOINT_FILE else 2)  # the state is written first
    assert _ckpt_step(out) == 2

    # resuming reads train_state.safetensors only, clears the temporary and ends as if unbroken
    train(load_config(None, overrides), resume=out)
    assert sorted(p.name for p in out.iterdir()) == FILES
    _assert_same_run(out, reference)


# --------------------------------------------------------------------------- full disk


@pytest.mark.parametrize("target", [_slow(CHECKPOINT_FILE), STATE_FILE])
def test_full_disk_stops_with_one_line_and_keeps_the_last_checkpoint(
    tmp_path, tiny, monkeypatch, fail_writes, capsys, target
):
    out = tmp_path / "run"
    overrides = tiny(out, max_steps=4, ckpt_interval=1, **ELIC)
    fail_writes(errno.ENOSPC, nth=2, once=True, target=target)  # half, then a full disk
    assert taco_main(["train", "--set", *overrides]) == 3

    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if "stopped" in x]
    state = 2 if target == CHECKPOINT_FILE else 1  # the state is written before the checkpoint
    ahead = "" if state == 1 else "; --resume continues from step 2"  # the state's step
    assert line == (
        f"taco train: stopped: cannot write {out / target}: No space left on device (at step 2). "
        f"Stopping; the last good checkpoint is kept: {out / CHECKPOINT_FILE} (step 1{ahead}); "
        "free some space and continue with --resume."
    )
    assert sorted(p.name for p in out.iterdir()) == FILES  # no temporary left behind
    assert _state_step(out) == state and _ckpt_step(out) == 1

    monkeypatch.undo()  # space freed: the run continues from the state
    assert train_main(["--set", *overrides, "--resume"]) == 0
    assert _state_step(out) == 4 and _ckpt_step(out) == 4


def _tmpfs(path: Path, size: int) -> bool:
    path.mkdir()
    cmd = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounts a tmpfs")
def test_a_really_full_disk(tmp_path, tiny, capsys):
    """The same on a real full file system: a tmpfs with room for one set of files and half a
    checkpoint more, so the second state (written first, and larger) cannot be staged."""
    sizing = tmp_path / "sizing"
    train(load_config(None, tiny(sizing, max_steps=1, **ELIC)))
    used = sum(p.stat().st_size for p in sizing.iterdir())
    half = (sizing / CHECKPOINT_FILE).stat().st_size // 2
    out = tmp_path / "small-disk"
    if not _tmpfs(out, used + half):
        pytest.skip("cannot mount a tmpfs here")
    try:
        overrides = tiny(out, max_steps=3, ckpt_interval=1, **ELIC)
        assert taco_main(["train", "--set", *overrides]) == 3
        err = capsys.readouterr().err
        assert "Traceback" not in err
        (line,) = [x for x in err.splitlines() if "stopped" in x]
        assert f"cannot write {out / STATE_FILE}: No space left on device" in line, line
        assert f"kept: {out / CHECKPOINT_FILE} (step 1)" in line
        assert sorted(p.name for p in out.iterdir()) == FILES
        assert _state_step(out) == 1 and _ckpt_step(out) == 1
    finally:
        subprocess.run(["umount", str(out)], capture_output=True, timeout=60)


class _FullAfter:
    """A log file whose writes fail with ENOSPC after ``n`` records (half of the last written)."""

    def __init__(self, file, n: int) -> None:
        self.file, self.n = file, n

    def write(self, text: str) -> int:
        if self.n == 0:
            self.file.write(text[: len(text) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.n -= 1
        return self.file.write(text)

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_full_disk_while_logging(tmp_path, tiny, monkeypatch, capsys):
    start = RunLog.open

    def start_then_fill(self, *args):
        start(self, *args)
        self._file = _FullAfter(self._file, 2)

    monkeypatch.setattr(RunLog, "open", start_then_fill)
    out = tmp_path / "run"
    overrides = tiny(out, max_steps=4, ckpt_interval=1, **ELIC)
    assert taco_main(["train", "--set", *overrides]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if "stopped" in x]
    assert line.startswith(f"taco train: stopped: cannot write {out / 'log.jsonl'}: No space left")
    assert f"kept: {out / CHECKPOINT_FILE} (step 2)" in line
    assert _state_step(out) == 2 and _ckpt_step(out) == 2

    monkeypatch.undo()  # the cut record is dropped before the resumed run logs
    assert train_main(["--set", *overrides, "--resume"]) == 0
    assert [r["step"] for r in _records(out)] == [1, 2, 3, 4]
    assert len((out / "log.jsonl").read_text().splitlines()) == 4


def test_an_error_inside_a_write_leaves_no_temporary(tmp_path, fail_writes):
    """Any exception while writing (not only OSError) keeps the old file and removes the new."""
    path = tmp_path / "x.safetensors"
    taco.atomic.save_safetensors_atomic({"a": torch.zeros(4)}, path)
    fail_writes(KeyboardInterrupt(), written=10)
    with pytest.raises(KeyboardInterrupt):
        taco.atomic.save_safetensors_atomic({"a": torch.ones(4)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["x.safetensors"]
    assert torch.equal(load_file(path)["a"], torch.zeros(4))


# --------------------------------------------------------------------------- non-finite loss


def test_non_finite_loss_on_the_command_line(tmp_path, tiny, monkeypatch, capsys):
    forward, calls = TacoLoss.forward, [0]

    def poisoned(self, out, x, captions=None, lmbda=None):
        parts = forward(self, out, x, captions, lmbda)
        calls[0] += 1
        if calls[0] == 3:
            parts["loss"] = parts["loss"] * float("inf")
        return parts

    monkeypatch.setattr(TacoLoss, "forward", poisoned)
    out = tmp_path / "run"
    assert train_main(["--set", *tiny(out, max_steps=5, ckpt_interval=1, **ELIC)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if "stopped" in x]
    assert line.startswith("taco train: stopped: non-finite loss at step 3 (epoch 1): loss=inf")
    assert f"the last good checkpoint is kept: {out / CHECKPOINT_FILE} (step 2)" in line
    assert _state_step(out) == 2 and _ckpt_step(out) == 2
    assert sorted(p.name for p in out.iterdir()) == FILES


VAL = {"val.root": SAMPLES_DIR, "val.images": 2, "val.crop": 64, "val.compress_images": 0}


@pytest.mark.parametrize("before", ["checkpoint", "validation"])
def test_non_finite_loss_caught_before_a_checkpoint_or_validation(before, tmp_path, tiny, monkeypatch,
                                                                  capsys):
    """With log_interval 10 no log step checks the loss before the end: the check before a
    checkpoint (ckpt_interval 1), or before a validation (val.interval 1), is what stops the run
    at step 3; nothing is saved or validated from the poisoned model."""
    forward, steps = TacoLoss.forward, [0]

    def poisoned(self, out, x, captions=None, lmbda=None):
        parts = forward(self, out, x, captions, lmbda)
        if torch.is_grad_enabled():  # a training step's loss, not a validation's
            steps[0] += 1
            if steps[0] == 3:
                parts["loss"] = parts["loss"] * float("inf")
        return parts

    monkeypatch.setattr(TacoLoss, "forward", poisoned)
    out = tmp_path / "run"
    extra = ({"ckpt_interval": 1} if before == "checkpoint"
             else {"ckpt_interval": 10, "val.interval": 1, **VAL})  # fmt: skip
    assert train_main(["--set", *tiny(out, max_steps=5, log_interval=10, **extra, **ELIC)]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if "stopped" in x]
    assert line.startswith("taco train: stopped: non-finite loss at step 3 (epoch 1): loss=inf")
    records = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    if before == "checkpoint":
        assert f"the last good checkpoint is kept: {out / CHECKPOINT_FILE} (step 2)" in line
        assert _state_step(out) == 2 and _ckpt_step(out) == 2
        assert sorted(p.name for p in out.iterdir()) == FILES
    else:
        assert "no resumable state yet: run again with --resume (from step 0)" in line
        assert [r["step"] for r in records if r["kind"] == "val"] == [1, 2]  # not the poisoned 3
        assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "log.jsonl"]
