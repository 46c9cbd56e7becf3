"""``resolve_config`` decides a warm start's ``warmup_steps`` in
one helper (``warm_start_warmup``) and works out the run folder an ``out_dir`` names in one
function (``out_folder``). These pin what that refactor had to keep: which ``warmup_steps`` a
warm start resolves to (a resumed run's own value, whatever it is, even null; the warm-up when
the run's config does not read; the run ``-o`` names), and the errors of an ``out_dir`` given
as null or as ``''`` with ``--resume``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taco.cli import main as taco_main
from taco.models import create_model, save_checkpoint
from taco.train.cli import out_folder
from taco.train.config import INIT_WARMUP_STEPS, TrainConfig


def printed(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert taco_main(["train", *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert taco_main(["train", *argv, "--print-config"]) == 2
    return capsys.readouterr().err


@pytest.fixture
def warm_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A user's config that warm-starts from a model and names no warmup_steps nor out_dir, and
    a run of it in ``runs/taco`` (the default out_dir, under the test's own current folder)."""
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "base.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), base)
    config = tmp_path / "mine.yaml"
    config.write_text(f"model: elic-tiny\npreset: elic\ninit_from: {base}\n", encoding="utf-8")
    run = tmp_path / "runs" / "taco"
    run.mkdir(parents=True)
    resolved = printed(capsys, str(config), "-o", str(run))
    assert resolved["warmup_steps"] == INIT_WARMUP_STEPS
    (run / "config.yaml").write_text(yaml.safe_dump(resolved), encoding="utf-8")
    (run / "log.jsonl").write_text("", encoding="utf-8")
    return config, run


def set_run_warmup(run: Path, value: object) -> None:
    saved = yaml.safe_load((run / "config.yaml").read_text())
    (run / "config.yaml").write_text(yaml.safe_dump({**saved, "warmup_steps": value}), encoding="utf-8")


def test_out_folder() -> None:
    assert out_folder(None) == Path(TrainConfig.out_dir)
    assert out_folder("~/r1") == Path.home() / "r1"
    assert out_folder("a b #1") == Path("a b #1")


def test_config_resume_takes_the_runs_warmup_whatever_it_is(warm_run, capsys) -> None:  # noqa: ANN001
    config, run = warm_run
    # --resume alone with a config: the run in the config's out_dir (the default here)
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == INIT_WARMUP_STEPS
    set_run_warmup(run, 0)  # a falsy value is the run's value too
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == 0
    set_run_warmup(run, None)  # null is given, and refused as the run's value
    err = refused(capsys, str(config), "--resume")
    assert "warmup_steps" in err and "None" in err
    set_run_warmup(run, -1)  # refused, not said as the config file's (it did not give it)
    err = refused(capsys, str(config), "--resume")
    assert "warmup_steps must be >= 0, got -1" in err and str(config) not in err


def test_config_resume_of_a_run_whose_config_does_not_read(warm_run, capsys) -> None:  # noqa: ANN001
    config, run = warm_run
    (run / "config.yaml").write_text("model: [elic-tiny\n", encoding="utf-8")
    # the warm-up; the run's config that does not read is said where the trainer reads it
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == INIT_WARMUP_STEPS


def test_config_resume_takes_the_warmup_of_the_run_out_dir_names(warm_run, tmp_path, capsys) -> None:  # noqa: ANN001
    config, run = warm_run
    set_run_warmup(run, 7)
    other = tmp_path / "other"
    other.mkdir()
    saved = yaml.safe_load((run / "config.yaml").read_text())
    (other / "config.yaml").write_text(yaml.safe_dump({**saved, "out_dir": str(other), "warmup_steps": 3}),
                                       encoding="utf-8")
    (other / "log.jsonl").write_text("", encoding="utf-8")
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == 7
    assert printed(capsys, str(config), "--resume", "-o", str(other))["warmup_steps"] == 3
    assert printed(capsys, str(config), "--resume", "--set", f"out_dir={other}")["warmup_steps"] == 3
    assert printed(capsys, str(config), "--resume", str(other))["warmup_steps"] == 3
    # no run there (nothing to read): the warm-up
    assert printed(capsys, str(config), "--resume", "-o", str(tmp_path / "none"))["warmup_steps"] == INIT_WARMUP_STEPS


def test_resume_alone_of_a_warm_run_whose_config_lacks_warmup(warm_run, capsys) -> None:  # noqa: ANN001
    _, run = warm_run
    saved = yaml.safe_load((run / "config.yaml").read_text())
    del saved["warmup_steps"]
    (run / "config.yaml").write_text(yaml.safe_dump(saved), encoding="utf-8")
    assert printed(capsys, "--resume", str(run))["warmup_steps"] == INIT_WARMUP_STEPS
    assert printed(capsys, "--resume")["warmup_steps"] == INIT_WARMUP_STEPS  # runs/taco


@pytest.mark.parametrize("resume", [[], ["--resume"]])
def test_a_null_or_empty_out_dir_is_refused_as_before(warm_run, capsys, resume) -> None:  # noqa: ANN001
    config, _ = warm_run
    for argv in ([str(config), *resume], resume):
        if not argv:
            continue
        err = refused(capsys, *argv, "--set", "out_dir=")
        assert "out_dir" in err and "must be str, got None" in err, err
        err = refused(capsys, *argv, "--set", "out_dir=''")
        assert "out_dir: empty" in err, err
