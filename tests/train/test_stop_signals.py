"""How a training run and its loader's workers take Ctrl-C, SIGTERM and SIGHUP
(taco.train.schedule.StopSignals, worker_signals), how torchrun's ranks agree on the signal
(taco.train.distributed.shared_stop), which rank says so, and what the others say when rank 0
cannot write a checkpoint, a stopped run's or any other (together); the whole runs:
tests/train/test_faults.py."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from taco.cli import main
from taco.distributed import DistEnv, SilentInterrupted
from taco.errors import Interrupted
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import schedule
from taco.train.distributed import together
from taco.train.schedule import StopSignals

REPO = Path(__file__).resolve().parents[2]


def test_a_worker_leaves_the_first_stop_signal_to_the_run_whatever_its_start_method():
    """A spawned worker inherits no handler: SIGHUP killed it (and the run, with a traceback).
    After worker_signals it ignores Ctrl-C, survives a first SIGTERM and SIGHUP, and a second
    one (the loader's terminate(), after REPEAT_S) ends it."""
    code = textwrap.dedent("""
        import os, signal, time
        from taco.train.schedule import REPEAT_S, worker_signals
        clock = [100.0]
        time.monotonic = lambda: clock[0]
        worker_signals(0)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(os.getpid(), signum)
        print("alive", flush=True)
        clock[0] += REPEAT_S
        os.kill(os.getpid(), signal.SIGTERM)
        print("not reached", flush=True)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout == "alive\n", proc.stderr
    assert proc.returncode == -signal.SIGTERM


def test_a_worker_takes_a_signal_repeated_at_once_as_the_same_request():
    """Two SIGTERMs to the job's process group within a second: the run takes the second as the
    first repeated (test_a_signal_repeated_at_once_is_the_same_request), and so does a worker,
    forked (StopSignals' inherited handler) or set up by worker_signals; it died of the second
    one and the run ended in "DataLoader worker (pid N) is killed by signal: Terminated". After
    REPEAT_S the signal ends the worker, as the run's second request ends the run."""
    code = textwrap.dedent("""
        import os, signal, sys, time
        from taco.train.schedule import REPEAT_S, StopSignals, worker_signals
        clock = [100.0]
        time.monotonic = lambda: clock[0]
        with StopSignals(announce=False):
            pid = os.fork()
            if pid == 0:  # a forked worker, before and after its worker_init_fn
                if sys.argv[1] == "init":
                    worker_signals(0)
                os.kill(os.getpid(), signal.SIGTERM)
                clock[0] += REPEAT_S / 2
                os.kill(os.getpid(), signal.SIGTERM)  # the same request, sent again
                print("alive", flush=True)
                clock[0] += REPEAT_S
                os.kill(os.getpid(), signal.SIGTERM)
                print("not reached", flush=True)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
    """)
    for how in ("fork", "init"):
        proc = subprocess.run([sys.executable, "-c", code, how], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        assert proc.stdout == f"alive\n{-signal.SIGTERM}\n", (how, proc.stderr)


def test_a_signal_repeated_at_once_is_the_same_request(monkeypatch):
    """A scheduler signalling every process reaches a torchrun worker twice (directly and through
    torchrun): that is one request to stop, not the second that stops at once."""
    clock = [100.0]
    monkeypatch.setattr(schedule.time, "monotonic", lambda: clock[0])
    calls: list[int] = []
    with StopSignals(announce=False) as stop:
        stop.previous[signal.SIGTERM] = lambda signum, frame: calls.append(signum)
        stop.request(signal.SIGTERM, None)
        clock[0] += 0.5
        stop.request(signal.SIGTERM, None)  # the same request, forwarded
        assert stop.signum == signal.SIGTERM and calls == []
        clock[0] += schedule.REPEAT_S
        stop.request(signal.SIGTERM, None)  # a second one: the handler from before runs
        assert calls == [signal.SIGTERM]


def test_a_ctrl_c_swallowed_during_the_set_up_stops_the_run_before_its_first_step(
        tmp_path, tiny, monkeypatch, capsys):
    """Ctrl-C while torch's first optimiser imported triton: triton's C extension turned the
    KeyboardInterrupt into an ImportError that torch took as "no triton", and ``taco train``
    trained to its end without a word of it. The signal noted during the set-up stops the run
    before its first step, with nothing written."""
    real_adam = torch.optim.Adam

    def adam_swallowing_ctrl_c(*args, **kwargs):
        try:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C, here
        except KeyboardInterrupt:
            pass  # as triton's import and torch's has_triton_package do
        return real_adam(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", adam_swallowing_ctrl_c)
    out = tmp_path / "run"
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the runner set
    try:
        status = main(["train", "--set", *tiny(out, max_steps=2)])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, before)
    err = capsys.readouterr().err
    assert status == 128 + signal.SIGINT, err
    assert "taco train: interrupted before its first step" in err, err
    assert not (out / "log.jsonl").exists() and not (out / "checkpoint.safetensors").exists()


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP")
def test_handlers_come_back_and_an_ignored_signal_stays_ignored():
    before = {s: signal.getsignal(s) for s in schedule.STOP_SIGNALS}
    previous_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        with StopSignals(announce=False) as stop:
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) == stop.request
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous_hup)
    assert {s: signal.getsignal(s) for s in schedule.STOP_SIGNALS} == before


RANK = """
import signal, sys, torch, torch.distributed as dist
from taco.distributed import DistEnv
from taco.train.distributed import all_true, shared_stop
rank = int(sys.argv[1])
dist.init_process_group("gloo", init_method=sys.argv[2], rank=rank, world_size=2)
received = signal.SIGHUP if rank == 1 else None  # the signal reached rank 1 alone
signum, spent = shared_stop(received, rank == 0, torch.device("cpu"))
env = DistEnv(rank=rank, world_size=2)
agreed = [all_true(flag, env, torch.device("cpu")) for flag in (True, rank == 0)]
print(signal.Signals(signum).name, spent, agreed)
dist.destroy_process_group()
"""


def test_every_rank_names_the_signal_one_of_them_received(tmp_path):
    """Two gloo processes: rank 1 alone got SIGHUP, rank 0 alone spent its time budget; both
    learn both (rank 0 said SIGTERM, whatever came). The same helpers' all_true: a flag false
    on one rank is false on every rank."""
    init = f"file://{tmp_path / 'store'}"
    procs = [subprocess.Popen([sys.executable, "-c", RANK, str(rank), init], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in (0, 1)]  # fmt: skip
    outs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outs
    assert [out for out, _ in outs] == ["SIGHUP True [True, False]\n"] * 2


def test_a_single_process_saves_without_a_collective(monkeypatch):
    """together on one process runs the save and returns what it returns, with no
    all-reduce (no process group exists); its error comes through as it was."""

    def no_collective(*args: object, **kwargs: object) -> None:
        raise AssertionError("an all-reduce on a single process")

    monkeypatch.setattr(torch.distributed, "all_reduce", no_collective)
    assert together(lambda: 1.5, DistEnv(), torch.device("cpu"), "save") == 1.5

    def full_disk() -> float:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match="No space left"):
        together(full_disk, DistEnv(), torch.device("cpu"), "save")


@pytest.mark.parametrize("kind", [Interrupted, SilentInterrupted])
def test_only_rank_0_says_where_the_job_stopped(monkeypatch, capsys, kind):
    """Under torchrun every rank stops; the other ranks' SilentInterrupted exits with the same
    status as rank 0's line says, and prints nothing (each line was printed once per process)."""

    def stopped(args: object) -> int:
        raise kind(signal.SIGHUP, " at step 4")

    monkeypatch.setattr("taco.cli._run", stopped)
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    err = capsys.readouterr().err
    assert err == ("" if kind is SilentInterrupted else "taco info: stopped by SIGHUP at step 4\n")


STOPPED_RUN = """
import errno, os, signal, sys
import taco.train.trainer as trainer
from taco.cli import main
real_stop, calls = trainer.shared_stop, []

def stop_after_step_2(signum, spent, device):  # still one all-reduce per rank, as before
    calls.append(real_stop(signum, spent, device))
    return (signal.SIGTERM, False) if len(calls) > 2 else calls[-1]

def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

trainer.shared_stop = stop_after_step_2
if os.environ["RANK"] == "0":
    trainer.write_checkpoint = full_disk
sys.exit(main(["train", "--set", *sys.argv[1:]]))
"""


def test_when_rank_0_cannot_save_a_stopped_run_the_other_ranks_say_so_in_one_line(tmp_path, tiny):
    """Two gloo ranks stop together after step 2 and rank 0's checkpoint write fails (a full
    disk): rank 0 says why, rank 1 says in one line that rank 0 could not write, instead of
    gloo's "Connection closed by peer" traceback from a barrier rank 0 never reached."""
    errs, codes = two_ranks(STOPPED_RUN, tiny(tmp_path / "run", batch_size=1, k_j=0, max_steps=400,
                                              ckpt_interval=400))
    assert "No space left on device" in errs[0].splitlines()[-1], errs[0][-4000:]
    said = "taco train: error: rank 0 could not write the checkpoint; see its error"
    assert errs[1].splitlines()[-1] == said, errs[1][-4000:]
    assert "Traceback" not in errs[0] + errs[1]
    assert codes[0] != 0 and codes[1] != 0


FAILED_SAVE = """
import errno, os, sys
import taco.train.trainer as trainer
from taco.cli import main

def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

if os.environ["RANK"] == "0":
    trainer.write_checkpoint = full_disk
sys.exit(main(["train", "--set", *sys.argv[1:]]))
"""


@pytest.mark.parametrize("when, steps", [("routine", dict(max_steps=4, ckpt_interval=2)),
                                         ("last", dict(max_steps=2, ckpt_interval=400))])
def test_when_rank_0_cannot_save_any_checkpoint_the_other_ranks_say_so_in_one_line(
        tmp_path, tiny, when, steps):
    """Not only a stopped run's: where rank 0 cannot write a routine checkpoint (step 2 of 4)
    or the one at the normal end of training, rank 1 too says in one line that rank 0 could
    not write, instead of gloo's "Connection closed by peer" traceback at its next collective
    (the next step's gradients, or the barrier on the way out)."""
    errs, codes = two_ranks(FAILED_SAVE, tiny(tmp_path / "run", batch_size=1, k_j=0, **steps))
    assert "No space left on device" in errs[0].splitlines()[-1], errs[0][-4000:]
    said = "taco train: error: rank 0 could not write the checkpoint; see its error"
    assert errs[1].splitlines()[-1] == said, errs[1][-4000:]
    assert "Traceback" not in errs[0] + errs[1]
    assert codes[0] != 0 and codes[1] != 0


FAILED_VALIDATION = """
import os, sys
import taco.train.trainer as trainer
from taco.cli import main

def broken(*args, **kwargs):
    raise OSError("image file is truncated (a photo changed on disk)")

if os.environ["RANK"] == "0":
    trainer.validate = broken
sys.exit(main(["train", "--set", *sys.argv[1:]]))
"""


def test_when_rank_0_cannot_validate_the_other_ranks_say_so_in_one_line(tmp_path, tiny):
    """Only rank 0 validates; where it failed, rank 1 met gloo's "Connection closed by peer"
    traceback at its next collective. Now every rank waits for the validation (together):
    rank 0 says why, rank 1 says in one line that rank 0 could not validate."""
    errs, codes = two_ranks(FAILED_VALIDATION, tiny(
        tmp_path / "run", batch_size=1, k_j=0, max_steps=4, ckpt_interval=400,
        **{"val.root": SAMPLES, "val.interval": 2, "val.images": 1, "val.compress_images": 0}))
    assert "image file is truncated" in errs[0].splitlines()[-1], errs[0][-4000:]
    said = "taco train: error: rank 0 could not validate; see its error"
    assert errs[1].splitlines()[-1] == said, errs[1][-4000:]
    assert "Traceback" not in errs[0] + errs[1]
    assert codes[0] != 0 and codes[1] != 0


def two_ranks(script: str, overrides: list[str]) -> tuple[list[str], list[int | None]]:
    """Run ``script`` (given ``overrides`` as its arguments) as ranks 0 and 1 of a two-process
    gloo job, set up as torchrun would -> (each rank's stderr, each rank's exit status).

    As torchrun's agent does, this process serves the job's store, on a port the system picks
    and this store holds until the ranks are done: a free port found, closed and handed to rank
    0 to bind seconds later could be taken in between (another pytest-xdist worker)."""
    store = torch.distributed.TCPStore("127.0.0.1", 0, is_master=True)
    procs = []
    for rank in (0, 1):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(store.port),
               "TORCHELASTIC_USE_AGENT_STORE": "True", "OMP_NUM_THREADS": "1",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))}
        procs.append(subprocess.Popen([sys.executable, "-c", script, *overrides], cwd=REPO,
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))  # fmt: skip
    errs = [proc.communicate(timeout=300)[1] for proc in procs]
    return errs, [proc.returncode for proc in procs]
