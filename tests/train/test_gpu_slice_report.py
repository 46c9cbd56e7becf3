"""scripts/gpu_slice.py report: a run the trainer wrote no records for, and the speed it shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _report(*args: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_slice.py"), "report", *map(str, args)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def _records(run: Path, *train: dict[str, float]) -> None:
    """RUN/log.jsonl of train records (the trainer's fields; ``train`` sets step, wall_time_s)."""
    run.mkdir()
    base = {"kind": "train", "epoch": 0.0, "lr": 2e-4, "loss": 1.0, "bpp": 0.5, "psnr": 30.0,
            "lpips": 0.2, "img_per_s": 64.0}  # fmt: skip
    (run / "log.jsonl").write_text("".join(json.dumps({**base, **r}) + "\n" for r in train))


def test_report_of_a_run_without_training_records(tmp_path):
    """`gpu_slice.py report` crashed with FileNotFoundError where the trainer wrote no log.jsonl
    (it failed in its set-up, or no step fitted in the time)."""
    (tmp_path / "run").mkdir()
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_slice.py"), "report", str(tmp_path / "run")],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0 and "no training records" in r.stdout, r.stderr
    assert "Traceback" not in r.stderr


def test_report_shows_steps_per_second_and_the_trainer_s_total(tmp_path):
    """The report gave img/s alone, where a GPU session plans in steps: it now shows steps/s of
    wall time between the rows (checkpoints and validations included), over all the records,
    and the trainer's own "N steps (E epochs) in S s" from its log (RUN.log, gpu_slice.sh's --log)."""
    run = tmp_path / "run"
    _records(run, {"step": 100, "wall_time_s": 50.0}, {"step": 200, "wall_time_s": 90.0},
             {"step": 400, "wall_time_s": 170.0})  # fmt: skip
    log = tmp_path / "run.log"
    log.write_text("taco train: preset taco, ...\nstep 400/9,999: loss 1.0\n"
                   "done: time limit 3m reached; 1,400 steps (3.50 epochs) in 175 s; "
                   f"model -> {run}/checkpoint.safetensors\n")  # fmt: skip
    r = _report(run, "--log", log)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("step"))
    assert header.split()[-2:] == ["img/s", "steps/s"]
    rows = {line.split()[0]: line.split()[-1] for line in lines if line.split() and line.split()[0].isdigit()}
    assert rows == {"100": "n/a", "200": "2.50", "400": "2.50"}  # 100 steps in 40 s, 200 in 80 s
    assert "steps/s: 2.50 (steps 100 to 400 in 120 s of wall time" in r.stdout
    assert "trainer: 1,400 steps (3.50 epochs) in 175 s: 8.00 steps/s" in r.stdout


def test_report_without_wall_times_or_log_leaves_steps_per_second_out(tmp_path):
    """Records of a trainer that wrote no wall_time_s, and no log: n/a, no total, no crash."""
    run = tmp_path / "run"
    _records(run, {"step": 1}, {"step": 2})
    r = _report(run, "--log", tmp_path / "missing.log")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert not [line for line in r.stdout.splitlines() if line.startswith(("steps/s:", "trainer:"))]
    assert [line.split()[-1] for line in r.stdout.splitlines() if line.split()[0].isdigit()] == ["n/a", "n/a"]


def test_report_of_two_records_and_a_resumed_run_s_log(tmp_path):
    """Two train records give the steps/s line too; a log holding a slice's "done:" and then the
    resumed slice's gives the last one (the run's total)."""
    run = tmp_path / "run"
    _records(run, {"step": 10, "wall_time_s": 5.0}, {"step": 30, "wall_time_s": 15.0})
    log = tmp_path / "run.log"
    log.write_text("done: 100 steps (0.50 epochs) in 50 s; model -> a\n"
                   "done: time limit 9m reached; 300 steps (1.50 epochs) in 100 s; model -> b\n")  # fmt: skip
    r = _report(run, "--log", log)
    assert r.returncode == 0, r.stderr
    assert "steps/s: 2.00 (steps 10 to 30 in 10 s of wall time" in r.stdout
    assert "trainer: 300 steps (1.50 epochs) in 100 s: 3.00 steps/s" in r.stdout
    assert "trainer: 100 steps" not in r.stdout


def test_report_of_records_without_elapsed_time_says_no_rate(tmp_path):
    """Records written in the same second, and a trainer's 0 s: no rate, no ZeroDivisionError."""
    run = tmp_path / "run"
    _records(run, {"step": 1, "wall_time_s": 5.0}, {"step": 2, "wall_time_s": 5.0})
    log = tmp_path / "run.log"
    log.write_text("done: 1 step (0.01 epochs) in 0 s; model -> a\n")
    r = _report(run, "--log", log)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert [line.split()[-1] for line in r.stdout.splitlines() if line.split()[0].isdigit()] == ["n/a", "n/a"]
    assert not [line for line in r.stdout.splitlines() if line.startswith("steps/s:")]
    assert "trainer: 1 step (0.01 epochs) in 0 s\n" in r.stdout
